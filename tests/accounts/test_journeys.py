"""Residents' journeys: register, confirm, sign in and out, reset, change email and password,
download data, delete the account; every page checked and bad input answered in plain words."""

from __future__ import annotations

import json

from portal.accounts.models import User
from portal.extensions import db
from tests.accounts.helpers import (
    PASSWORD,
    emails_to,
    get_user,
    link_in,
    page,
    post_form,
    sign_in_with_form,
    user_with_password,
)
from tests.conftest import TEST_SCRYPT_LOG2_N
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import error_summary, get_page


def test_register_confirm_sign_in_and_out(app, client):
    get_page(client, "accounts.register")
    response = post_form(
        client,
        "/register",
        {"display_name": "Pat Lee", "email": " Pat@Example.com ", "password": PASSWORD},
    )
    assert response.status_code == 302
    soup = page(client.get(response.headers["Location"]))
    assert "pat@example.com" in soup.get_text()
    user = get_user(app, "pat@example.com")
    assert user is not None and user.email_confirmed_at is None
    assert user.password_hash.startswith(f"scrypt${TEST_SCRYPT_LOG2_N}$8$1$")
    (email,) = emails_to(app, "pat@example.com")
    link = link_in(email)
    soup = page(client.get(link))  # the link shows a button: a GET changes nothing
    assert get_user(app, "pat@example.com").email_confirmed_at is None
    response = post_form(client, link, {})
    assert response.status_code == 302
    assert get_user(app, "pat@example.com").email_confirmed_at is not None
    assert client.get(link).status_code == 404  # single use

    response = sign_in_with_form(client, "PAT@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/my"
    soup = page(client.get("/my"))
    assert "Pat Lee" in soup.get_text()

    soup = get_page(client, "accounts.sign_out")
    assert soup.find("button", string=lambda s: s and "Sign out" in s)
    response = post_form(client, "/sign-out", {})
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    page(client.get(response.headers["Location"]))
    assert client.get("/my").status_code == 302


def test_register_bad_input_keeps_answers_not_password(client):
    response = post_form(
        client, "/register", {"display_name": "Pat", "email": "pat@", "password": "short"}
    )
    assert response.status_code == 200
    soup = page(response)
    assert soup.title.get_text().startswith("Error:")
    assert error_summary(soup) == [
        "Enter an email address in the correct format, like name@example.com",
        "Password must be 8 characters or more",
    ]
    assert soup.find("input", attrs={"name": "email"})["value"] == "pat@"
    assert soup.find("input", attrs={"name": "display_name"})["value"] == "Pat"
    assert not soup.find("input", attrs={"name": "password"}).get("value")

    soup = page(post_form(client, "/register", {"display_name": "", "email": "", "password": ""}))
    assert error_summary(soup) == ["Enter your name", "Enter an email address", "Enter a password"]

    soup = page(
        post_form(
            client,
            "/register",
            {"display_name": "Pat", "email": "p@example.com", "password": "Password1"},
        )
    )
    assert error_summary(soup) == [
        "This password is too common and easy to guess. Choose a different password"
    ]
    soup = page(
        post_form(
            client,
            "/register",
            {"display_name": "Pat", "email": "p@example.com", "password": "x" * 129},
        )
    )
    assert error_summary(soup) == ["Password must be 128 characters or fewer"]


def test_registration_does_not_reveal_existing_accounts(app, client):
    user_with_password(app, "taken@example.com")
    first = post_form(
        client,
        "/register",
        {"display_name": "A", "email": "taken@example.com", "password": PASSWORD},
    )
    second = post_form(
        client, "/register", {"display_name": "A", "email": "new@example.com", "password": PASSWORD}
    )
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    warned = emails_to(app, "taken@example.com")
    assert len(warned) == 1 and "already have one" in warned[0].body_text
    with app.app_context():
        assert db.session.query(User).filter_by(email="taken@example.com").count() == 1


def test_sign_in_errors_are_the_same_for_unknown_and_wrong(app, client):
    user_with_password(app, "known@example.com")
    unknown = page(sign_in_with_form(client, "nobody@example.com", "whatever password"))
    wrong = page(sign_in_with_form(client, "known@example.com", "whatever password"))
    assert (
        error_summary(unknown)
        == error_summary(wrong)
        == ["Enter a correct email address and password"]
    )
    assert wrong.find("input", attrs={"name": "email"})["value"] == "known@example.com"
    assert not wrong.find("input", attrs={"name": "password"}).get("value")
    soup = page(post_form(client, "/sign-in", {"email": "", "password": ""}))
    assert error_summary(soup) == ["Enter your email address", "Enter your password"]
    soup = page(post_form(client, "/sign-in", {"email": "nope", "password": "x"}))
    assert error_summary(soup) == [
        "Enter an email address in the correct format, like name@example.com"
    ]


def test_disabled_account_cannot_sign_in(app, client):
    user = user_with_password(app, "off@example.com")
    with app.app_context():
        from portal.common.models import utcnow

        db.session.get(User, user.id).disabled_at = utcnow()
        db.session.commit()
    soup = page(sign_in_with_form(client, "off@example.com"))
    assert error_summary(soup) == ["Enter a correct email address and password"]


def test_sign_in_returns_to_a_local_next_only(app, client):
    user_with_password(app, "next@example.com")
    response = client.get("/my/change-password")
    assert response.status_code == 302 and "/sign-in?next=" in response.headers["Location"]
    token_page = response.headers["Location"]
    response = post_form(client, token_page, {"email": "next@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/my/change-password"
    other = client_for(client.application, None)
    response = post_form(
        other, "/sign-in?next=//evil.example/x", {"email": "next@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/my"


def test_forgotten_password_link_is_single_use_and_ends_sessions(app, client):
    user = user_with_password(app, "forgot@example.com")
    elsewhere = client_for(app, user)
    assert elsewhere.get("/my").status_code == 200
    get_page(client, "accounts.forgotten_password")
    known = post_form(client, "/forgotten-password", {"email": "forgot@example.com"})
    unknown = post_form(client, "/forgotten-password", {"email": "ghost@example.com"})
    assert known.headers["Location"] == unknown.headers["Location"]
    page(client.get(known.headers["Location"]))
    assert emails_to(app, "ghost@example.com") == []
    (email,) = emails_to(app, "forgot@example.com")
    link = link_in(email)
    page(client.get(link))
    soup = page(post_form(client, link, {"password": "password"}))
    assert error_summary(soup) == [
        "This password is too common and easy to guess. Choose a different password"
    ]
    response = post_form(client, link, {"password": "new heron window"})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert client.get(link).status_code == 404
    assert elsewhere.get("/my").status_code == 302  # every session ended
    assert sign_in_with_form(client, "forgot@example.com", "new heron window").status_code == 302


def test_reset_link_expires(app, client):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.accounts.models import AccountToken

    user_with_password(app, "late@example.com")
    post_form(client, "/forgotten-password", {"email": "late@example.com"})
    link = link_in(emails_to(app, "late@example.com")[0])
    with app.app_context():
        from portal.common.models import utcnow

        db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    soup = page(client.get(link))
    assert "expired" in soup.h1.get_text()
    assert client.get("/reset-password/not-a-token").status_code == 404


def test_change_password_asks_current_and_can_end_other_sessions(app, client):
    user = user_with_password(app, "change@example.com")
    other = client_for(app, user)
    sign_in_with_form(client, "change@example.com")
    get_page(client, "accounts.change_password")
    soup = page(
        post_form(
            client,
            "/my/change-password",
            {
                "current_password": "wrong one here",
                "password": "fresh maple kettle",
                "end_other_sessions": "y",
            },
        )
    )
    assert error_summary(soup) == ["Your current password is not right"]
    response = post_form(
        client,
        "/my/change-password",
        {"current_password": PASSWORD, "password": "fresh maple kettle", "end_other_sessions": "y"},
    )
    assert response.status_code == 302
    assert client.get("/my").status_code == 200  # this session kept
    assert other.get("/my").status_code == 302  # the other one ended


def test_change_email_needs_password_and_confirmation(app, client):
    user_with_password(app, "old@example.com")
    user_with_password(app, "used@example.com")
    sign_in_with_form(client, "old@example.com")
    get_page(client, "accounts.change_email")
    soup = page(
        post_form(
            client,
            "/my/change-email",
            {"email": "new@example.com", "current_password": "nope nope"},
        )
    )
    assert error_summary(soup) == ["Your current password is not right"]
    assert soup.find("input", attrs={"name": "email"})["value"] == "new@example.com"
    soup = page(
        post_form(client, "/my/change-email", {"email": "bad", "current_password": PASSWORD})
    )
    assert error_summary(soup) == [
        "Enter an email address in the correct format, like name@example.com"
    ]
    response = post_form(
        client, "/my/change-email", {"email": "New@example.com", "current_password": PASSWORD}
    )
    assert response.status_code == 302
    link = link_in(emails_to(app, "new@example.com")[0])
    page(client.get(link))
    assert get_user(app, "old@example.com") is not None
    post_form(client, link, {})
    assert get_user(app, "new@example.com") is not None
    assert get_user(app, "old@example.com") is None
    assert "changed" in emails_to(app, "old@example.com")[-1].subject
    # An address that has an account already: the same answer, that address is told.
    response = post_form(
        client, "/my/change-email", {"email": "used@example.com", "current_password": PASSWORD}
    )
    assert response.status_code == 302
    assert "tried" in emails_to(app, "used@example.com")[-1].subject


def test_download_my_data_includes_every_exporter(app):
    app.extensions["portal_personal_data"].append(("alerts", lambda user: [{"for": user.email}]))
    user = make_user(app, email="mine@example.com")
    client = client_for(app, user)
    response = client.get("/my/data")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "mine@example.com"
    assert len(data["account"]["sessions"]) == 1
    assert data["alerts"] == [{"for": "mine@example.com"}]


def test_my_council_lists_sections_from_other_slices(app):
    rows = [{"text": "Repair RP-1", "href": "/repairs/RP-1", "status": "Booked", "date": "1 May"}]
    app.extensions["portal_my_council_sections"].append((10, "Your repairs", lambda user: rows))
    app.extensions["portal_my_council_sections"].append((5, "Your alerts", lambda user: []))
    client = client_for(app, make_user(app))
    soup = get_page(client, "accounts.my_council")
    headings = [h.get_text() for h in soup.select("h2")]
    assert headings.index("Your alerts") < headings.index("Your repairs")
    assert soup.find("a", href="/repairs/RP-1")
    assert "Nothing yet." in soup.get_text()


def test_unconfirmed_user_can_resend_confirmation(app, client):
    post_form(
        client, "/register", {"display_name": "Ro", "email": "ro@example.com", "password": PASSWORD}
    )
    sign_in_with_form(client, "ro@example.com")
    soup = get_page(client, "accounts.my_council")
    assert soup.find("form", action="/my/resend-confirmation")
    response = post_form(client, "/my/resend-confirmation", {}, token_url="/my")
    assert response.status_code == 302
    assert len(emails_to(app, "ro@example.com")) == 2


def test_delete_account(app, client):
    user_with_password(app, "bye@example.com")
    sign_in_with_form(client, "bye@example.com")
    get_page(client, "accounts.delete_account")
    soup = page(post_form(client, "/my/delete", {"current_password": "not mine at all"}))
    assert error_summary(soup) == ["Your password is not right"]
    response = post_form(client, "/my/delete", {"current_password": PASSWORD})
    assert response.status_code == 302
    page(client.get(response.headers["Location"]))
    assert get_user(app, "bye@example.com") is None
    assert client.get("/my").status_code == 302


def test_staff_cannot_delete_their_own_account(app, client):
    user_with_password(app, "staffer@example.com", roles=("editor",))
    sign_in_with_form(client, "staffer@example.com")
    soup = page(post_form(client, "/my/delete", {"current_password": PASSWORD}))
    assert "Staff accounts cannot be deleted here" in " ".join(error_summary(soup))
    assert get_user(app, "staffer@example.com") is not None
