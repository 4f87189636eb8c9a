"""Assisted kiosk help lasts until handed back or the visit ends, whatever the resident does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from portal.accounts.models import User
from portal.common.models import ServiceTransaction
from portal.extensions import db
from tests.browser.test_channels_kiosk import add_cookie, axe, device_cookie
from tests.channels.helpers import enrol, library_staff
from tests.helpers.auth import make_user
from tests.helpers.browser import serve

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def _record_contact(tab, enquiry: str) -> None:  # noqa: ANN001
    tab.get_by_role("link", name="Record an enquiry you answered for this resident").click()
    tab.get_by_label("Service the enquiry was about").select_option(label="Allotments")
    tab.get_by_label("What was the enquiry about?").fill(enquiry)
    tab.get_by_role("button", name="Record contact").click()


@pytest.mark.parametrize("javascript", [True, False])
def test_help_survives_the_resident_signing_in_and_ends_when_handed_back(
    app, page, nojs_page, javascript
):
    tab = page if javascript else nojs_page
    _, cookie, code = enrol(app)
    staff = library_staff(app, PASSWORD, name="Tom Bright")
    resident = make_user(app, name="Ada Resident")
    with app.app_context():
        db.session.get(User, resident.id).password_hash = generate_password_hash(PASSWORD)
        db.session.commit()
    with serve(app) as server:
        add_cookie(tab, server, device_cookie(cookie))
        tab.goto(server("/kiosk"))
        tab.get_by_role("link", name="Ask for help").first.click()
        tab.get_by_role("button", name="Start helping this resident").click()
        tab.get_by_label("Staff email address").fill(staff.email)
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_label("Assistance code").fill(code)
        tab.get_by_role("button", name="Sign in to help").click()
        tab.get_by_label("Yes, I want their help").check()
        tab.get_by_role("button", name="Continue").click()
        expect(tab.locator("#kiosk-assisted")).to_contain_text("Assisted by Tom Bright")
        # The resident now signs in to their own account: the help goes on.
        tab.get_by_role("link", name="Sign in to your account").click()
        tab.get_by_label("Email address").fill(resident.email)
        tab.get_by_role("textbox", name="Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.locator("#kiosk-assisted")).to_contain_text("Assisted by Tom Bright")
        axe(tab, "signed in while assisted", javascript)
        tab.get_by_role("link", name="Castlebrook").first.click()
        expect(tab.get_by_role("link", name="Sign in to your account")).to_have_count(0)
        expect(tab.locator("#kiosk-assisted")).to_contain_text("Assisted by Tom Bright")
        _record_contact(tab, "Allotment waiting list, after signing in")
        expect(tab.locator("#contact-channel")).to_have_text("Library kiosk with staff help")
        tab.get_by_role("button", name="Hand back").click()
        expect(tab.locator("#kiosk-assisted")).to_have_count(0)
    with app.app_context():
        rows = db.session.execute(
            select(
                ServiceTransaction.channel, ServiceTransaction.staff_id, ServiceTransaction.user_id
            )
        ).all()
    # Counted as assisted, with the staff member, for the signed-in resident.
    assert [tuple(r) for r in rows] == [("kiosk_assisted", staff.id, resident.id)]
