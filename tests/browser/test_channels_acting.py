"""A contact-centre officer acts for a caller in Chromium: finds them, submits a form, ends."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import ServiceTransaction
from portal.extensions import db
from portal.online_forms.demo import load_demo_forms
from portal.online_forms.models import FormSubmission
from tests.browser.test_forms_runner import recent_date
from tests.helpers.auth import make_user, signed_session_cookie
from tests.helpers.browser import assert_accessible, serve

pytestmark = pytest.mark.browser


def signed_in(page: Page, server, user) -> None:  # noqa: ANN001
    """Give the browser a valid server-side session for `user`."""
    app = server.app
    value = signed_session_cookie(app, user)
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": server.url}]
    )


def cont(page: Page) -> None:
    page.click("button[name=continue]")


def test_an_officer_submits_a_form_for_a_caller_on_the_phone(app, page):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    officer = make_user(app, "priya@example.com", roles=("officer",), name="Priya Shah")
    resident = make_user(app, "ada@example.com", name="Ada Lovelace")
    with serve(app) as server:
        signed_in(page, server, officer)
        page.goto(server("/staff/"))
        page.get_by_role("link", name="Act for a caller").click()
        expect(page.locator("h1")).to_have_text("Act for a caller")
        assert_accessible(page, "act for a caller")

        page.get_by_role("button", name="Continue").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "Select the resident you are acting for"
        )
        assert_accessible(page, "act for a caller, errors")

        page.get_by_label("Find the resident by name, email or address").fill("ada@example")
        page.get_by_role("button", name="Search").click()
        page.get_by_label("Ada Lovelace, ada@example.com").check()
        page.get_by_label("On a phone call").check()
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("h1")).to_have_text("Check who you are acting for")
        assert_accessible(page, "confirm")
        page.get_by_role("button", name="Start acting for Ada Lovelace").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "Select how you checked who the caller is"
        )
        assert_accessible(page, "confirm, no identity check")
        page.get_by_label("Answered security questions").check()
        page.get_by_label("Details of the check (optional)").fill("Date of birth and postcode")
        page.get_by_role("button", name="Start acting for Ada Lovelace").click()

        banner = page.locator("#acting-banner-text")
        expect(banner).to_have_text("Acting for Ada Lovelace on a phone call")
        assert_accessible(page, "My council while acting, with the banner")

        page.goto(server("/forms/report-missed-bin"))
        expect(banner).to_have_text("Acting for Ada Lovelace on a phone call")
        page.click("text=Start now")
        page.fill("#address-postcode", "CK1 1AB")
        page.click("button[name=address_find]")
        page.select_option("select#address", "100090000001")
        cont(page)
        page.get_by_label("Recycling", exact=True).check()
        cont(page)
        page.get_by_label("Yes", exact=True).check()
        cont(page)
        day, month, year = recent_date()
        page.fill("#missed_on-day", day)
        page.fill("#missed_on-month", month)
        page.fill("#missed_on-year", year)
        cont(page)
        page.fill("#details", "")
        cont(page)
        page.fill("#name", "Ada Lovelace")
        cont(page)
        expect(page.locator("h1")).to_have_text("Check your answers before sending your form")
        page.fill("#email", "ada@example.com")
        page.click("button.govuk-button >> text=/Send/")
        expect(page.locator("h1")).to_have_text("Form sent")
        assert_accessible(page, "form sent while acting")

        page.goto(server("/my/change-password"))
        expect(page.locator("h1")).to_have_text("Not available while acting for a caller")
        assert_accessible(page, "blocked account page")

        page.goto(server("/repairs"))  # housing's slice, not the contact centre's
        expect(page.locator("#acting-scope-text")).to_have_text(
            "You are acting for Ada Lovelace as officer staff: this page is not available."
        )
        assert_accessible(page, "page outside the officer's slice")

        page.goto(server("/my"))
        expect(
            page.locator("h2", has_text="Staff who acted for you").locator("+ ul")
        ).to_contain_text("Priya Shah (officer staff) is acting for you on a phone call")
        assert_accessible(page, "My council with the acting record")

        page.get_by_role("button", name="End acting for Ada Lovelace").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            "You have stopped acting for Ada Lovelace"
        )
        expect(page.locator("#acting-banner")).to_have_count(0)
        expect(page.locator("h1")).to_have_text("Act for a caller")

    with app.app_context():
        submission = db.session.scalars(select(FormSubmission)).one()
        assert submission.user_id == resident.id
        rows = db.session.scalars(select(ServiceTransaction)).all()
        assert [(r.kind, r.channel, r.user_id, r.staff_id) for r in rows] == [
            ("form_submission", "phone", resident.id, officer.id)
        ]
