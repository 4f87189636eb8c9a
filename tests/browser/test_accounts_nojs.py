"""Account journeys with JavaScript off: register, confirm, sign in, change password, sign out;
an administrator changes roles; reset a forgotten password."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts.helpers import PASSWORD, emails_to, get_user, link_in, user_with_password
from tests.helpers.auth import make_user

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, email, password=PASSWORD):  # noqa: ANN001, ANN202
    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_resident_journey_without_javascript(app, live_server, nojs_page):
    page = nojs_page
    page.goto(live_server("/register"))
    page.get_by_label("Your name").fill("Dee Shah")
    page.get_by_label("Email address").fill("dee@example.com")
    page.locator("#password").fill("password")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("too common")
    expect(page.get_by_label("Email address")).to_have_value("dee@example.com")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/check-your-email")
    page.goto(live_server(link_in(emails_to(app, "dee@example.com")[0])))
    page.get_by_role("button", name="Confirm email address").click()
    page.wait_for_url("**/sign-in")
    _sign_in(page, live_server, "dee@example.com")
    page.wait_for_url("**/my")
    page.get_by_role("link", name="Change password").click()
    page.locator("#current_password").fill(PASSWORD)
    page.locator("#password").fill("quiet harbour lamps")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/my")
    assert (
        "Your password has been changed" in page.locator(".govuk-notification-banner").inner_text()
    )
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signed-out")
    page.goto(live_server("/my"))
    assert "/sign-in" in page.url
    _sign_in(page, live_server, "dee@example.com", "quiet harbour lamps")
    page.wait_for_url("**/my")


def test_forgotten_password_without_javascript(app, live_server, nojs_page):
    page = nojs_page
    user_with_password(app, "lost@example.com")
    page.goto(live_server("/sign-in"))
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("Email address").fill("lost@example.com")
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_url("**/forgotten-password/sent")
    page.goto(live_server(link_in(emails_to(app, "lost@example.com")[0])))
    page.locator("#password").fill("brand new sunrise")
    page.get_by_role("button", name="Save new password").click()
    page.wait_for_url("**/sign-in")
    _sign_in(page, live_server, "lost@example.com", "brand new sunrise")
    page.wait_for_url("**/my")


def test_admin_changes_roles_without_javascript(app, live_server, nojs_page):
    page = nojs_page
    user_with_password(app, "roles.admin@example.com", roles=("editor", "admin"))
    person = make_user(app, email="planner@example.com", roles=("planning",))
    with app.app_context():
        from portal.accounts.models import User
        from portal.accounts.services import enrol_totp, new_totp_secret
        from portal.extensions import db

        user = db.session.query(User).filter_by(email="roles.admin@example.com").one()
        secret = new_totp_secret()
        enrol_totp(user, secret)
        db.session.commit()
    import pyotp

    _sign_in(page, live_server, "roles.admin@example.com")
    page.wait_for_url("**/sign-in/two-factor")
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/staff/")
    page.goto(live_server(f"/staff/accounts/{person.id}"))
    page.get_by_label("Housing: Triages housing repairs and manages appointment slots").check()
    page.get_by_role("button", name="Save roles").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Roles saved")
    assert get_user(app, "planner@example.com").roles == {"planning", "housing"}
