"""TOTP two-factor sign-in for admin and finance staff: enrolment, codes, recovery codes."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from portal.accounts.models import RecoveryCode, User
from portal.common.models import AuditEvent
from portal.extensions import db
from tests.accounts.helpers import (
    PASSWORD,
    get_user,
    page,
    post_form,
    sign_in_with_form,
    user_with_password,
)
from tests.helpers.pages import error_summary


def _enrol(client, email):  # noqa: ANN001, ANN202
    response = sign_in_with_form(client, email)
    assert response.headers["Location"] == "/sign-in/set-up-two-factor"
    soup = page(client.get("/sign-in/set-up-two-factor"))
    img = soup.find("img", class_="accounts-qr")
    assert img["src"].startswith("data:image/svg+xml")
    secret = soup.find(id="totp-secret").get_text().replace(" ", "")
    soup = page(post_form(client, "/sign-in/set-up-two-factor", {"code": "000000"}))
    assert error_summary(soup)
    response = post_form(client, "/sign-in/set-up-two-factor", {"code": pyotp.TOTP(secret).now()})
    soup = page(response)
    codes = [code.get_text() for code in soup.select("#recovery-codes code")]
    return secret, codes


def test_admin_enrols_then_signs_in_with_a_code(app, client):
    user_with_password(app, "boss@example.com", roles=("admin",))
    secret, codes = _enrol(client, "boss@example.com")
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{5}-[0-9a-f]{5}", c) for c in codes)
    assert client.get("/staff/").status_code == 200  # signed in after enrolment
    user = get_user(app, "boss@example.com")
    assert user.totp_secret == secret and user.totp_enabled_at is not None
    post_form(client, "/sign-out", {})

    # Next sign-in: password, then a code; the code cannot be used twice.
    response = sign_in_with_form(client, "boss@example.com")
    assert response.headers["Location"] == "/sign-in/two-factor"
    assert client.get("/staff/").status_code == 302  # not signed in yet
    soup = page(post_form(client, "/sign-in/two-factor", {"code": "123"}))
    assert error_summary(soup) == ["The security code is not right. Check it and try again"]
    totp = pyotp.TOTP(secret)
    code = totp.at(totp.timecode(__import__("datetime").datetime.now()) * 30 + 30)  # next step
    response = post_form(client, "/sign-in/two-factor", {"code": code})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    post_form(client, "/sign-out", {})
    sign_in_with_form(client, "boss@example.com")
    soup = page(post_form(client, "/sign-in/two-factor", {"code": code}))  # replayed
    assert error_summary(soup)

    # A recovery code works once.
    response = post_form(client, "/sign-in/two-factor", {"code": codes[0].upper()})
    assert response.status_code == 302
    post_form(client, "/sign-out", {})
    sign_in_with_form(client, "boss@example.com")
    soup = page(post_form(client, "/sign-in/two-factor", {"code": codes[0]}))
    assert error_summary(soup)
    with app.app_context():
        used = db.session.scalars(
            select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))
        ).all()
        assert len(used) == 1
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {
            "account.two_factor_enrolled",
            "staff.sign_in",
            "account.recovery_code_used",
        } <= actions


def test_finance_must_use_two_factor_and_other_staff_need_not(app, client):
    user_with_password(app, "money@example.com", roles=("finance",))
    user_with_password(app, "words@example.com", roles=("editor",))
    assert sign_in_with_form(client, "money@example.com").headers["Location"] == (
        "/sign-in/set-up-two-factor"
    )
    other = app.test_client()
    assert sign_in_with_form(other, "words@example.com").headers["Location"] == "/staff/"


def test_the_second_step_expires_and_cannot_be_skipped(app, client):
    user_with_password(app, "late-admin@example.com", roles=("admin",))
    assert client.get("/sign-in/two-factor").status_code == 302
    assert client.get("/sign-in/set-up-two-factor").status_code == 302
    sign_in_with_form(client, "late-admin@example.com")
    with client.session_transaction() as flask_session:
        flask_session["pending_at"] -= 301
    response = client.get("/sign-in/set-up-two-factor")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


def test_staff_without_password_cannot_sign_in(app, client):
    from tests.helpers.auth import make_user

    make_user(app, email="nopass@example.com", roles=("admin",))
    soup = page(sign_in_with_form(client, "nopass@example.com", PASSWORD))
    assert error_summary(soup) == ["Enter a correct email address and password"]
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "nopass@example.com"))
