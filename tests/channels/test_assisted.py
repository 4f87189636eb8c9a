"""Assisted access: staff credentials plus the library's code, consent, and kiosk_assisted."""

from __future__ import annotations

from sqlalchemy import select

from portal.channels.models import ContactRecord, KioskSession
from portal.common.models import AuditEvent, ServiceTransaction
from portal.extensions import db
from tests.channels.helpers import enrol, kiosk_client, library_staff
from tests.helpers.auth import make_user, sign_in
from tests.helpers.pages import check_html, csrf_token, error_summary

PASSWORD = "correct horse battery"


def _kiosk(app):  # noqa: ANN001, ANN202
    _, cookie, code = enrol(app)
    return kiosk_client(app, cookie), code


def _assist(client, email, password, code):  # noqa: ANN001, ANN202
    token = csrf_token(client, "/kiosk/assist")
    return client.post(
        "/kiosk/assist",
        data={"csrf_token": token, "email": email, "password": password, "code": code},
    )


def test_assisted_access_needs_valid_staff_credentials_and_the_code(app):
    client, code = _kiosk(app)
    staff = library_staff(app, PASSWORD)
    not_library = make_user(app, roles=("planning",))
    response = _assist(client, "", "", "")
    assert response.status_code == 400
    assert error_summary(check_html(response)) == [
        "Enter your staff email address",
        "Enter your password",
        "Enter the library's assistance code",
    ]
    wrong = "The email address, password or code is not right"
    for email, password, given in (
        (staff.email, "wrong password", code),
        (staff.email, PASSWORD, "ZZZZZZ"),
        (not_library.email, PASSWORD, code),
        ("nobody@example.com", PASSWORD, code),
    ):
        response = _assist(client, email, password, given)
        assert response.status_code == 400
        soup = check_html(response)
        assert error_summary(soup) == [wrong]
        assert soup.select_one("#email")["value"] == email  # the answer is kept
    with app.app_context():
        assert db.session.scalar(select(KioskSession.assisted_by_id)) is None
        refused = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "kiosk.assist_refused")
        ).all()
        assert len(refused) == 4
    assert "Assisted by" not in client.get("/kiosk").get_data(as_text=True)


def test_an_assisted_contact_is_counted_as_kiosk_assisted_with_the_staff_member(app):
    client, code = _kiosk(app)
    staff = library_staff(app, PASSWORD, name="Tom Bright")
    resident = make_user(app, name="Ada Resident")
    client.get("/kiosk")
    sign_in(client, resident)
    response = _assist(client, staff.email.upper(), PASSWORD, code.lower())
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/assist/consent"
    # Until the resident answers, every page asks for consent first.
    assert client.get("/kiosk/help").headers["Location"] == "/kiosk/assist/consent"
    soup = check_html(client.get("/kiosk/assist/consent"))
    assert soup.h1.get_text(strip=True) == "Do you want help from Tom Bright?"
    token = csrf_token(client, "/kiosk/assist/consent")
    response = client.post("/kiosk/assist/consent", data={"csrf_token": token})
    assert response.status_code == 400
    assert error_summary(check_html(response)) == ["Select yes if you agree to be helped"]
    client.post("/kiosk/assist/consent", data={"csrf_token": token, "consent": "yes"})
    soup = check_html(client.get("/kiosk"))
    assert "Assisted by Tom Bright" in soup.select_one("#kiosk-assisted").get_text()
    assert "Assisted by Tom Bright" in check_html(client.get("/kiosk/help")).get_text()

    form = check_html(client.get("/staff/contacts/new"))
    assert form.select_one("#channel") is None  # the channel is the kiosk's own
    response = client.post(
        "/staff/contacts/new",
        data={"csrf_token": token, "service": "530", "summary": "Garden waste collection days"},
    )
    assert response.status_code == 303
    receipt = check_html(client.get(response.headers["Location"]))
    assert receipt.select_one("#contact-channel").get_text(strip=True) == (
        "Library kiosk with staff help"
    )
    with app.app_context():
        rows = db.session.scalars(select(ServiceTransaction)).all()
        assert [(r.channel, r.staff_id, r.user_id, r.lgsl, r.lgil) for r in rows] == [
            ("kiosk_assisted", staff.id, resident.id, 530, 8)
        ]
        contact = db.session.scalar(select(ContactRecord))
        assert contact.channel == "kiosk_assisted" and contact.resident_id == resident.id

    # Hand back: the resident carries on alone, on the plain kiosk channel.
    client.post("/kiosk/assist/hand-back", data={"csrf_token": token})
    assert "Assisted by" not in client.get("/kiosk").get_data(as_text=True)
    assert client.get("/staff/contacts/new").status_code == 403


def test_the_resident_can_refuse_help(app):
    client, code = _kiosk(app)
    staff = library_staff(app, PASSWORD)
    _assist(client, staff.email, PASSWORD, code)
    token = csrf_token(client, "/kiosk/assist/consent")
    client.post("/kiosk/assist/consent", data={"csrf_token": token, "consent": "no"})
    assert "Assisted by" not in client.get("/kiosk").get_data(as_text=True)
    assert client.get("/kiosk/assist/consent").status_code == 404
    with app.app_context():
        row = db.session.scalar(select(KioskSession))
        assert row.assist_consent_at is None and row.assist_ended_at is not None


def test_start_again_ends_assistance(app):
    client, code = _kiosk(app)
    staff = library_staff(app, PASSWORD)
    _assist(client, staff.email, PASSWORD, code)
    token = csrf_token(client, "/kiosk/assist/consent")
    client.post("/kiosk/assist/consent", data={"csrf_token": token, "consent": "yes"})
    client.post("/kiosk/start-again", data={"csrf_token": token})
    assert "Assisted by" not in client.get("/kiosk").get_data(as_text=True)
    with app.app_context():
        first = db.session.scalar(select(KioskSession).order_by(KioskSession.id))
        assert first.assist_ended_at is not None and first.ended_at is not None


def test_a_new_code_replaces_the_old_one(app):
    device_id, cookie, old_code = enrol(app)
    client = kiosk_client(app, cookie)
    staff = library_staff(app, PASSWORD)
    from tests.helpers.auth import client_for

    desk = client_for(app, make_user(app, roles=("library",)))
    token = csrf_token(desk, "/staff/kiosks")
    soup = check_html(desk.post(f"/staff/kiosks/{device_id}/code", data={"csrf_token": token}))
    new_code = soup.select_one("#assist-code").get_text(strip=True)
    assert _assist(client, staff.email, PASSWORD, old_code).status_code == 400
    assert _assist(client, staff.email, PASSWORD, new_code).status_code == 303
