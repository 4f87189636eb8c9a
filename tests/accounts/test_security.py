"""Sessions, cookies, caching and password hashing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from portal.accounts import passwords
from portal.accounts.models import User, UserSession
from portal.accounts.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, REMEMBER_TIMEOUT
from portal.common.models import utcnow
from portal.extensions import db, login_manager
from tests.accounts.helpers import (
    PASSWORD,
    get_user,
    post_form,
    sign_in_with_form,
    user_with_password,
)
from tests.helpers.auth import make_user, sign_in


def _session_cookie(client, name="session"):  # noqa: ANN001
    cookie = client.get_cookie(name)
    assert cookie is not None
    return cookie.value


def test_hash_parameters_are_scrypt_n17_r8_p1():
    stored = passwords.hash_password("pale green teapot")
    algorithm, log2_n, r, p, salt, digest = stored.split("$")
    assert (algorithm, int(log2_n), int(r), int(p)) == ("scrypt", 17, 8, 1)
    import base64

    expected = hashlib.scrypt(
        b"pale green teapot",
        salt=base64.b64decode(salt),
        n=2**17,
        r=8,
        p=1,
        maxmem=256 * 1024 * 1024,
        dklen=64,
    )
    assert base64.b64decode(digest) == expected
    assert len(base64.b64decode(salt)) == 16
    assert passwords.verify_password(stored, "pale green teapot")
    assert not passwords.verify_password(stored, "pale green teapo")
    assert not passwords.needs_rehash(stored)
    # Two hashes of one password differ (random salt).
    assert passwords.hash_password("pale green teapot") != stored


def test_common_password_list_is_shipped_and_used():
    common = passwords.common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common
    assert passwords.password_problem("Iloveyou") is not None
    assert passwords.password_problem("seven77") == "Password must be 8 characters or more"
    assert passwords.password_problem("x" * 64 + " long phrase") is None  # 64+ allowed
    assert passwords.password_problem("aaaaaaaa") is not None  # in the list
    assert passwords.password_problem("no rules here") is None  # no composition rules


def test_a_cheaper_test_work_factor_is_ignored_outside_the_test_environment(make_app):
    """The suite hashes with N=2^10 to save time; every other environment keeps N=2^17."""
    cheap = make_app(config={"TEST_SCRYPT_LOG2_N": 10})
    with cheap.app_context():
        assert passwords.work_factor() == 10
        quick = passwords.hash_password("pale green teapot")
        assert quick.startswith("scrypt$10$8$1$")
        assert passwords.verify_password(quick, "pale green teapot")
    for env in ("development", "production"):
        app = make_app(config={"TEST_SCRYPT_LOG2_N": 10}, env=env)
        with app.app_context():
            assert passwords.work_factor() == 17, env
            assert passwords.hash_password("pale green teapot").startswith("scrypt$17$8$1$")
            assert passwords.needs_rehash(quick), f"a cheaper hash is upgraded in {env}"


def test_older_hashes_are_upgraded_at_next_sign_in(make_app):
    app = make_app(config={"TEST_SCRYPT_LOG2_N": None})  # production's work factor
    client = app.test_client()
    user = make_user(app, email="old-hash@example.com")
    with app.app_context():
        db.session.get(User, user.id).password_hash = generate_password_hash(PASSWORD)
        db.session.commit()
    assert get_user(app, "old-hash@example.com").password_hash.startswith("scrypt:32768")
    assert sign_in_with_form(client, "old-hash@example.com").status_code == 302
    stored = get_user(app, "old-hash@example.com").password_hash
    assert stored.startswith("scrypt$17$8$1$")
    assert passwords.verify_password(stored, PASSWORD)


def test_sign_in_issues_a_new_session_id(app, client):
    user_with_password(app, "fixation@example.com")
    client.get("/sign-in")
    with client.session_transaction() as flask_session:
        flask_session["sid"] = "attacker-chosen"
    sign_in_with_form(client, "fixation@example.com")
    with client.session_transaction() as flask_session:
        token = flask_session["sid"]
    assert token != "attacker-chosen" and len(token) >= 40
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert not row.remember


def test_replayed_cookie_after_sign_out_goes_to_sign_in_on_five_routes(app):
    user_with_password(app, "replay@example.com", roles=("editor",))
    client = app.test_client()
    sign_in_with_form(client, "replay@example.com")
    stolen = _session_cookie(client)
    routes = ["/my", "/my/change-password", "/my/change-email", "/my/data", "/my/delete", "/staff/"]
    for route in routes:
        assert client.get(route).status_code == 200, route
    response = post_form(client, "/sign-out", {})
    assert response.status_code == 302
    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    for route in routes:
        response = attacker.get(route)
        assert response.status_code == 302, route
        assert response.headers["Location"].startswith("/sign-in?next="), route


def test_idle_and_absolute_timeouts(app):
    assert timedelta(minutes=30) == IDLE_TIMEOUT
    assert timedelta(hours=12) == ABSOLUTE_TIMEOUT
    assert timedelta(days=30) >= REMEMBER_TIMEOUT
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    assert client.get("/my").status_code == 200
    with app.app_context():
        db.session.execute(
            update(UserSession).values(last_seen_at=utcnow() - IDLE_TIMEOUT - timedelta(seconds=1))
        )
        db.session.commit()
    assert client.get("/my").status_code == 302

    sign_in(client, user)
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.revoked_at.is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1), last_seen_at=utcnow())
        )
        db.session.commit()
    assert client.get("/my").status_code == 302


def test_remember_me_is_30_days_without_idle_timeout(app, client):
    user_with_password(app, "remember@example.com")
    response = sign_in_with_form(client, "remember@example.com", remember="y")
    assert response.status_code == 302
    cookie = client.get_cookie("session")
    assert cookie.expires is not None
    lifetime = cookie.expires.timestamp() - utcnow().timestamp()
    assert timedelta(days=29) < timedelta(seconds=lifetime) <= timedelta(days=30, seconds=5)
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert row.remember
        assert (
            row.expires_at.replace(tzinfo=None) - row.created_at.replace(tzinfo=None)
            == REMEMBER_TIMEOUT
        )
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=3)))
        db.session.commit()
    assert client.get("/my").status_code == 200


def test_no_remember_me_on_a_kiosk(app, client):
    user_with_password(app, "kiosk@example.com")

    @app.before_request
    def _kiosk():
        g.kiosk = True

    soup = post_form(client, "/sign-in", {"email": "", "password": ""})
    assert b"remember" not in client.get("/sign-in").data
    assert soup.status_code == 200
    sign_in_with_form(client, "kiosk@example.com", remember="y")
    assert client.get_cookie("session").expires is None
    with app.app_context():
        assert not db.session.scalar(select(UserSession)).remember


def test_remember_me_offered_when_not_a_kiosk(client):
    assert b'name="remember"' in client.get("/sign-in").data


def test_disabling_ends_sessions_at_once(app):
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    assert client.get("/my").status_code == 200
    with app.app_context():
        db.session.get(User, user.id).disabled_at = utcnow()
        db.session.commit()
    assert client.get("/my").status_code == 302


def test_authenticated_pages_are_not_cached_and_assets_are(app):
    client = app.test_client()
    sign_in(client, make_user(app))
    for path in ("/my", "/", "/my/change-password"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    anonymous = app.test_client()
    assert anonymous.get("/sign-in").headers["Cache-Control"] == "no-store"
    assert "no-store" not in anonymous.get("/").headers.get("Cache-Control", "")


@pytest.mark.parametrize("base_url", ["https://portal.castlebrook.example"])
def test_cookies_are_host_prefixed_secure_httponly_lax_over_https(make_app, base_url):
    app = make_app(base_url=base_url)
    user_with_password(app, "https@example.com")
    client = app.test_client()
    token = None
    response = client.get("/sign-in", base_url=base_url)
    from bs4 import BeautifulSoup

    token = BeautifulSoup(response.data, "html.parser").find("input", attrs={"name": "csrf_token"})[
        "value"
    ]
    response = client.post(
        "/sign-in",
        base_url=base_url,
        data={"csrf_token": token, "email": "https@example.com", "password": PASSWORD},
        headers={"Referer": base_url + "/sign-in"},
    )
    assert response.status_code == 302
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-session=")
    parts = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"secure", "httponly", "path"} <= parts
    assert "samesite=lax" in header.lower()
    assert "domain" not in parts


def test_login_manager_points_at_sign_in(app):
    assert login_manager.login_view == "accounts.sign_in"
    assert login_manager.login_message
    client = app.test_client()
    response = client.get("/my", follow_redirects=True)
    assert b"Sign in to continue." in response.data
