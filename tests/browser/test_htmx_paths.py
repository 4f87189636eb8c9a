"""Every htmx path in the portal, in Chromium with JavaScript on: bad input then good input, and
a second search, each checked with `check_htmx_path` (errors at their fields and announced, the
result read out by the status region that was there before the swap, the title, axe)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from tests.helpers.htmx_paths import Step, check_htmx_path

pytestmark = pytest.mark.browser

LOCAL_TILES = "/static/img/favicon.svg?z={z}&x={x}&y={y}"


@pytest.fixture
def planning_app(make_app):
    app = make_app(map_tile_url=LOCAL_TILES)
    with app.app_context():
        load_demo_gazetteer()
        from tests.planning.conftest import make_application

        make_application()
        make_application((52.97, -1.45), app_type="HOU", status="decided", decision="Refused")
        db.session.commit()
    return app


def _search(page: Page) -> None:
    page.get_by_role("button", name="Search", exact=True).click()


def test_planning_search(planning_app, live_server, page: Page) -> None:
    page.goto(live_server("/planning"))
    expect(page).to_have_title(re.compile(r"^Planning applications – "))

    def bad_date(p: Page) -> None:
        p.fill("#received_from", "31/02/2026")
        _search(p)

    def good_date(p: Page) -> None:
        p.fill("#received_from", "")
        _search(p)

    def decided_only(p: Page) -> None:
        p.select_option("#status", "decided")
        _search(p)

    message = "Enter the 'received from' date as a real date, like 2026-03-27"
    check_htmx_path(
        page,
        "planning search",
        "main",
        [
            Step(
                bad_date,
                title=re.compile(r"^Error: Planning applications – "),
                error_field="received_from",
                error=message,
            ),
            Step(
                good_date,
                status="2 applications found",
                title=re.compile(r"^2 applications found – Planning applications – "),
            ),
            Step(
                decided_only,
                status="1 application found",
                title=re.compile(r"^1 application found – Planning applications – "),
            ),
        ],
    )
    # the results and their map are back after the error
    expect(page.locator("#planning-results")).to_contain_text("1 application found")
    expect(page.locator("#register-map")).to_be_visible()
    assert "status=decided" in page.url


def test_planning_search_without_javascript(planning_app, live_server, nojs_page: Page) -> None:
    nojs_page.goto(live_server("/planning?received_from=31%2F02%2F2026"))
    expect(nojs_page).to_have_title(re.compile(r"^Error: Planning applications – "))
    expect(nojs_page.locator(".govuk-error-summary a[href='#received_from']")).to_be_visible()
    expect(nojs_page.locator("#received_from-error")).to_contain_text("as a real date")
    nojs_page.goto(live_server("/planning?status=decided"))
    expect(nojs_page).to_have_title(re.compile(r"^1 application found – Planning applications – "))
