"""The signed-out warning in Chromium (WCAG 2.2.1): it comes, it is a labelled dialog with focus
inside, and "Stay signed in" or Escape extends the server-side session and returns focus."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import UserSession
from portal.extensions import db
from tests.helpers.auth import make_user, signed_session_cookie
from tests.helpers.browser import assert_accessible, serve

pytestmark = pytest.mark.browser

IDLE = 8
WARNING = 5


def last_seen(app):  # noqa: ANN001, ANN201
    with app.app_context():
        return db.session.scalar(select(UserSession.last_seen_at))


def test_the_warning_extends_the_session(make_app, page):
    app = make_app(session_idle_seconds=IDLE, session_warning_seconds=WARNING)
    user = make_user(app, name="Ada Resident")
    cookie = signed_session_cookie(app, user)
    with serve(app) as server:
        page.context.add_cookies(
            [{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": server.url}]
        )
        page.goto(server("/my"))
        loaded = time.monotonic()
        dialog = page.locator("#session-timeout")
        expect(dialog).to_be_hidden()
        page.get_by_role("link", name="Download your data").focus()
        expect(page.get_by_role("dialog", name="You will be signed out soon")).to_be_visible(
            timeout=(IDLE - WARNING + 3) * 1000
        )
        assert time.monotonic() - loaded < IDLE, "the warning came too late to act on"
        assert page.evaluate("document.activeElement.id") == "session-timeout"
        description = page.evaluate(
            "document.getElementById('session-timeout').getAttribute('aria-describedby')"
        )
        assert "session-timeout-text" in description
        expect(dialog).to_contain_text("12 hours after you signed in")
        assert_accessible(page, "signed-out warning")

        before = last_seen(app)
        page.get_by_role("button", name="Stay signed in").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#session-timeout-live")).to_have_text("You are still signed in.")
        assert page.evaluate("document.activeElement.textContent") == "Download your data"
        assert last_seen(app) > before

        # Escape also stays signed in, and the session outlives the first page's idle end.
        expect(page.get_by_role("dialog")).to_be_visible(timeout=(IDLE - WARNING + 3) * 1000)
        before = last_seen(app)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert page.evaluate("document.activeElement.textContent") == "Download your data"
        assert last_seen(app) > before
        page.wait_for_timeout(max(0.0, IDLE + 1 - (time.monotonic() - loaded)) * 1000)
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("My council")


def test_without_a_choice_the_page_shows_the_session_has_ended(make_app, page):
    app = make_app(session_idle_seconds=4, session_warning_seconds=3)
    user = make_user(app)
    cookie = signed_session_cookie(app, user)
    with serve(app) as server:
        page.context.add_cookies(
            [{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": server.url}]
        )
        page.goto(server("/my"))
        expect(page.get_by_role("dialog")).to_be_visible(timeout=4000)
        page.wait_for_url("**/sign-in?next=*", timeout=8000)
        assert_accessible(page, "signed out after the warning")


def test_without_javascript_the_warning_stays_out_of_the_way(app, nojs_page):
    """With JavaScript off nothing can count down: the page is whole and the dialog unseen."""
    user = make_user(app)
    cookie = signed_session_cookie(app, user)
    with serve(app) as server:
        nojs_page.context.add_cookies(
            [{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": server.url}]
        )
        nojs_page.goto(server("/my"))
        expect(nojs_page.get_by_role("heading", level=1)).to_have_text("My council")
        expect(nojs_page.locator("#session-timeout")).to_be_hidden()
        expect(nojs_page.get_by_role("button", name="Stay signed in")).to_be_hidden()
