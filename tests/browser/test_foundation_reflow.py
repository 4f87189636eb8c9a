"""Reflow (WCAG 1.4.10): no page scrolls sideways at 320 CSS pixels wide.

A crawl from the home page (anonymous) and from the staff landing page (as an administrator)
follows internal links and measures each page; wide tables scroll inside their own labelled,
focusable box instead of making the whole page scroll.
"""

from __future__ import annotations

import pytest

from portal.accounts.models import STAFF_ROLES
from portal.demo import load_all
from tests.helpers.auth import make_user, signed_session_cookie
from tests.helpers.browser import serve
from tests.helpers.reflow import NARROW, crawl_for_sideways_scroll

pytestmark = pytest.mark.browser


@pytest.fixture
def narrow(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport=NARROW)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def keep_to(context, origin: str) -> None:  # noqa: ANN001
    """Map tiles and anything else from another origin are not fetched (no network here)."""
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort(),
    )


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_no_page_scrolls_sideways_at_320_pixels(app, narrow, who):
    with app.app_context():
        load_all()
    with serve(app) as server:
        keep_to(narrow, server.url)
        start, within = "/", ("/",)
        if who == "admin":
            # An administrator holding every staff role reaches every staff page; the public
            # pages are the anonymous crawl's.
            admin = make_user(app, roles=STAFF_ROLES, name="Ada Admin")
            narrow.add_cookies(
                [
                    {
                        "name": app.config["SESSION_COOKIE_NAME"],
                        "value": signed_session_cookie(app, admin),
                        "url": server.url,
                    }
                ]
            )
            start, within = "/staff", ("/staff", "/my")
        page = narrow.new_page()
        result = crawl_for_sideways_scroll(page, server.url, start, limit=150, within=within)
    assert len(result.visited) >= 40, result.visited
    assert not result.offenders, "pages that scroll sideways at 320px:\n" + "\n".join(
        result.offenders
    )
