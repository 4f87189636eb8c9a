"""Contact-centre "record a contact": found by name or email, counted once as phone/face to face."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.channels.models import ContactRecord
from portal.common.models import AuditEvent, ServiceTransaction
from portal.extensions import db
from tests.channels.helpers import enrol
from tests.helpers.auth import client_for, make_user
from tests.helpers.authz import AccessCase, assert_access_matrix
from tests.helpers.pages import check_html, csrf_token, error_summary


def _anonymous_status(app) -> int:  # noqa: ANN001
    """302 to sign-in once the accounts slice provides it; 401 on this branch alone."""
    return 302 if "accounts.sign_in" in app.view_functions else 401


@pytest.mark.parametrize("channel", ["phone", "face_to_face"])
def test_an_officer_records_a_contact_for_a_resident_found_by_name(app, channel):
    officer = make_user(app, roles=("officer",), name="Priya Shah")
    resident = make_user(app, email="ada@example.com", name="Ada Lovelace")
    make_user(app, email="ada.staff@example.com", roles=("planning",), name="Ada Staff")
    client = client_for(app, officer)
    soup = check_html(client.get("/staff/contacts/new?q=ada"))
    options = [label.get_text(strip=True) for label in soup.select(".govuk-radios__label")]
    assert "Ada Lovelace, ada@example.com" in options
    assert not any("Ada Staff" in o for o in options)  # staff are not residents
    token = csrf_token(client, "/staff/contacts/new")
    response = client.post(
        "/staff/contacts/new",
        data={
            "csrf_token": token,
            "q": "ada",
            "resident": str(resident.id),
            "service": "524",
            "channel": channel,
            "summary": "Asked which day the bins are collected",
        },
    )
    assert response.status_code == 303
    receipt = check_html(client.get(response.headers["Location"]))
    assert "Ada Lovelace" in receipt.get_text()
    # the date and time the GOV.UK way: "2 December 2026 at 9:30am"
    when = receipt.find("dt", string="Date").find_next("dd").get_text(strip=True)
    assert re.fullmatch(
        r"\d{1,2} [A-Z][a-z]+ \d{4} at (\d{1,2}(:\d{2})?[ap]m|midnight|midday)", when
    ), when
    with app.app_context():
        rows = db.session.scalars(select(ServiceTransaction)).all()
        assert [(r.kind, r.lgsl, r.lgil, r.channel, r.user_id, r.staff_id) for r in rows] == [
            ("contact", 524, 8, channel, resident.id, officer.id)
        ]
        contact = db.session.scalar(select(ContactRecord))
        assert rows[0].object_ref == contact.reference
        assert db.session.scalar(select(AuditEvent.action)) == "contact.recorded"


def test_a_caller_without_details_is_not_counted_as_the_officer(app):
    officer = make_user(app, roles=("officer",))
    client = client_for(app, officer)
    token = csrf_token(client, "/staff/contacts/new")
    response = client.post(
        "/staff/contacts/new",
        data={
            "csrf_token": token,
            "resident": "none",
            "service": "57",
            "channel": "phone",
            "summary": "Council tax bands",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        row = db.session.scalar(select(ServiceTransaction))
        assert (row.user_id, row.staff_id, row.channel) == (None, officer.id, "phone")


def test_search_by_email(app):
    make_user(app, email="grace.hopper@example.com", name="G H")
    client = client_for(app, make_user(app, roles=("officer",)))
    soup = check_html(client.get("/staff/contacts/new?q=HOPPER@"))
    assert "grace.hopper@example.com" in soup.get_text()
    soup = check_html(client.get("/staff/contacts/new?q=nobody-like-this"))
    assert soup.select_one("#no-residents")


def test_resident_finders_from_other_slices_match_addresses(app):
    resident = make_user(app, name="Lives On Mill Lane")
    app.extensions.setdefault("portal_resident_finders", []).append(
        lambda text: [resident.id] if "mill lane" in text.lower() else []
    )
    client = client_for(app, make_user(app, roles=("officer",)))
    soup = check_html(client.get("/staff/contacts/new?q=12 Mill Lane"))
    assert "Lives On Mill Lane" in soup.get_text()


def test_bad_input_gets_clear_messages_and_keeps_answers(app):
    client = client_for(app, make_user(app, roles=("officer",)))
    token = csrf_token(client, "/staff/contacts/new")
    response = client.post(
        "/staff/contacts/new",
        data={"csrf_token": token, "service": "99999", "channel": "fax", "summary": "x" * 1001},
    )
    assert response.status_code == 400
    soup = check_html(response)
    assert error_summary(soup) == [
        "Select the resident, or that they did not give details",
        "Select the service the enquiry was about",
        "Select how the resident contacted us",
        "What the enquiry was about must be 1000 characters or fewer",
    ]
    assert soup.select_one("#summary").get_text() == "x" * 1001
    response = client.post(
        "/staff/contacts/new",
        data={"csrf_token": token, "resident": "abc", "service": "57", "channel": "phone"},
    )
    assert error_summary(check_html(response)) == [
        "Select the resident, or that they did not give details",
        "Enter what the enquiry was about",
    ]
    with app.app_context():
        assert db.session.scalar(select(ServiceTransaction)) is None


def test_access_matrix(app):
    resident = make_user(app, name="Owner")
    officer = make_user(app, roles=("officer",))
    client = client_for(app, officer)
    token = csrf_token(client, "/staff/contacts/new")
    response = client.post(
        "/staff/contacts/new",
        data={
            "csrf_token": token,
            "resident": str(resident.id),
            "service": "57",
            "channel": "phone",
            "summary": "Bands",
        },
    )
    receipt = response.headers["Location"]
    device_id, _, _ = enrol(app)
    anon = _anonymous_status(app)
    actors = {
        "owner": resident,
        "other_resident": make_user(app),
        "staff_with_role": make_user(app, roles=("officer", "library", "manager")),
        "staff_without_role": make_user(app, roles=("planning",)),
        "anonymous": None,
    }
    forbidden = {"owner": 403, "other_resident": 403, "staff_without_role": 403, "anonymous": anon}
    cases = [
        AccessCase("GET", "/staff/contacts/new", {**forbidden, "staff_with_role": 200}),
        AccessCase("GET", receipt, {**forbidden, "staff_with_role": 200}),
        AccessCase("GET", "/staff/contacts/CT-0000-0000", {**forbidden, "staff_with_role": 404}),
        AccessCase("GET", "/staff/kiosks", {**forbidden, "staff_with_role": 200}),
        AccessCase(
            "POST", f"/staff/kiosks/{device_id}/code", {**forbidden, "staff_with_role": 200}
        ),
        AccessCase("POST", "/staff/kiosks/999/revoke", {**forbidden, "staff_with_role": 404}),
        AccessCase("GET", "/staff/statistics", {**forbidden, "staff_with_role": 200}),
        AccessCase("GET", "/staff/statistics/export.csv", {**forbidden, "staff_with_role": 200}),
        AccessCase(
            "POST", f"/staff/kiosks/{device_id}/revoke", {**forbidden, "staff_with_role": 303}
        ),
    ]
    assert_access_matrix(app, actors, cases)


def test_contacts_are_in_the_residents_personal_data(app):
    resident = make_user(app, name="Ada")
    client = client_for(app, make_user(app, roles=("officer",)))
    token = csrf_token(client, "/staff/contacts/new")
    client.post(
        "/staff/contacts/new",
        data={
            "csrf_token": token,
            "resident": str(resident.id),
            "service": "57",
            "channel": "face_to_face",
            "summary": "Bands",
        },
    )
    exporters = dict(app.extensions["portal_personal_data"])
    with app.app_context():
        from portal.accounts.models import User

        data = exporters["contacts"](db.session.get(User, resident.id))
    assert [(d["lgsl"], d["channel"], d["summary"]) for d in data] == [
        (57, "face_to_face", "Bands")
    ]
