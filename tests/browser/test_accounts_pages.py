"""Accounts in a real browser: TOTP enrolment and sign-in, and axe on every account and staff page
in each of its states (empty, error, success)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from portal.common.audit import record_audit
from portal.extensions import db
from tests.accounts.helpers import PASSWORD, emails_to, link_in, user_with_password
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


def _next_code(secret: str) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))


def test_admin_two_factor_enrolment_sign_in_and_staff_pages(app, live_server, page):
    user_with_password(app, "chief@example.com", roles=("admin",))
    other = user_with_password(app, "helper@example.com", roles=("library",))
    with app.app_context():
        record_audit("demo.seeded", "thing", "1", actor=None)
        db.session.commit()

    page.goto(live_server("/sign-in"))
    assert_accessible(page, "sign in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "sign in, errors")

    page.get_by_label("Email address").fill("chief@example.com")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sign-in/set-up-two-factor")
    qr = page.locator("img.accounts-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code image loads"
    assert_accessible(page, "two-factor set-up")
    page.get_by_label("Security code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "two-factor set-up, error")

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page, "recovery codes")
    page.get_by_role("link", name="I have saved my codes, continue").click()
    page.wait_for_url("**/staff/")
    assert_accessible(page, "staff dashboard")

    page.get_by_role("link", name="Staff accounts and roles").click()
    expect(page.get_by_label("Find by name or email")).to_be_visible()
    assert_accessible(page, "staff accounts")
    page.get_by_label("Find by name or email").fill("nobody-at-all")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No accounts match.")).to_be_visible()
    assert_accessible(page, "staff accounts, no match")
    page.goto(live_server("/staff/accounts/new"))
    assert_accessible(page, "new staff")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "new staff, errors")
    page.get_by_label("Full name").fill("Ola Nowak")
    page.get_by_label("Email address").fill("ola@example.com")
    page.get_by_label("Officer: Processes form submissions").check()
    page.get_by_role("button", name="Add account").click()
    page.get_by_role("heading", name="ola@example.com").wait_for()
    assert_accessible(page, "staff account, created")
    page.goto(live_server(f"/staff/accounts/{other.id}"))
    page.get_by_role("button", name="End all their sessions").click()
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    assert_accessible(page, "staff account, sessions ended")
    page.goto(live_server("/staff/audit"))
    assert_accessible(page, "audit log")
    page.get_by_label("Search text").fill("no-such-event")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No events match your search.")).to_be_visible()
    assert_accessible(page, "audit log, no match")

    page.goto(live_server("/sign-out"))
    assert_accessible(page, "sign out")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signed-out")
    assert_accessible(page, "signed out")

    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill("chief@example.com")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sign-in/two-factor")
    assert_accessible(page, "two-factor code")
    page.get_by_label("Security code").fill("12")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "two-factor code, error")
    page.get_by_label("Security code").fill(_next_code(secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/staff/")


def test_resident_pages_are_accessible_in_every_state(app, live_server, page):
    page.goto(live_server("/register"))
    assert_accessible(page, "register")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "register, errors")
    page.get_by_label("Your name").fill("Rhys Evans")
    page.get_by_label("Email address").fill("rhys@example.com")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert_accessible(page, "check your email")
    link = link_in(emails_to(app, "rhys@example.com")[0])
    page.goto(live_server(link))
    assert_accessible(page, "confirm email")
    page.get_by_role("button", name="Confirm email address").click()
    page.wait_for_url("**/sign-in")
    assert_accessible(page, "sign in, confirmed banner")
    page.goto(live_server(link))
    assert_accessible(page, "link expired")

    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill("rhys@example.com")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my")
    assert_accessible(page, "my council")
    page.goto(live_server("/my/change-password"))
    assert_accessible(page, "change password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "change password, errors")
    page.goto(live_server("/my/change-email"))
    assert_accessible(page, "change email")
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "change email, errors")
    page.get_by_label("New email address").fill("rhys.new@example.com")
    page.locator("#current_password").fill(PASSWORD)
    page.get_by_role("button", name="Send confirmation link").click()
    page.wait_for_url("**/my")
    assert_accessible(page, "my council, success banner")
    page.goto(live_server(link_in(emails_to(app, "rhys.new@example.com")[0])))
    assert_accessible(page, "confirm new email")
    page.goto(live_server("/my/delete"))
    assert_accessible(page, "delete account")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "delete account, errors")
    page.locator("#current_password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/account-deleted")
    assert_accessible(page, "account deleted")

    page.goto(live_server("/forgotten-password"))
    assert_accessible(page, "forgotten password")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "forgotten password, errors")
    user_with_password(app, "reset.me@example.com")
    page.get_by_label("Email address").fill("reset.me@example.com")
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_url("**/forgotten-password/sent")
    assert_accessible(page, "reset sent")
    page.goto(live_server(link_in(emails_to(app, "reset.me@example.com")[0])))
    assert_accessible(page, "choose a new password")
    page.locator("#password").fill("123456789")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "choose a new password, errors")
