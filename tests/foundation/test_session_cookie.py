"""The session cookie carries only a signed random id (decision 0006); the session's contents
(the signed-in session's token, a CSRF secret, flash messages) stay on the server."""

from __future__ import annotations

import base64
import re

from sqlalchemy import func, select

from portal.accounts.models import UserSession
from portal.common.models import BrowserSession
from portal.extensions import db
from tests.accounts.helpers import page, sign_in_with_form, user_with_password
from tests.helpers.pages import csrf_token, error_summary

ID = re.compile(r"[A-Za-z0-9_-]{43}")


def _session_cookie(response, name: str) -> str | None:  # noqa: ANN001
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


def _assert_no_payload(app, value: str) -> None:  # noqa: ANN001
    sid, mark, signature = value.split(".")
    assert ID.fullmatch(sid), value
    assert mark in {"s", "e"}, value  # whether the session has contents on the server
    assert ID.fullmatch(signature), value
    # 32 random bytes and a 32-byte HMAC: no room for a payload (Flask's default cookie was a
    # base64 JSON object such as {"csrf_token": …, "sid": …} followed by its signature).
    for part in (sid, signature):
        assert len(base64.urlsafe_b64decode(part + "=")) == 32


def _rows(app) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BrowserSession)) or 0


def test_a_page_with_a_form_sets_an_id_only_cookie_and_stores_nothing(app, client):
    name = app.config["SESSION_COOKIE_NAME"]
    response = client.get("/sign-in")
    value = _session_cookie(response, name)
    assert value is not None, "the sign-in form needs a CSRF token, so the browser gets an id"
    _assert_no_payload(app, value)
    assert _rows(app) == 0  # the CSRF token is derived from the id: no row for it
    token = csrf_token(client, "/sign-in")
    # The token works: a wrong password is refused by the form, not by the CSRF check.
    response = client.post("/sign-in", data={"csrf_token": token, "email": "x@example.com"})
    assert response.status_code == 200
    assert error_summary(page(response))
    # Without the cookie the same token is refused.
    stranger = app.test_client()
    refused = stranger.post("/sign-in", data={"csrf_token": token, "email": "x@example.com"})
    assert refused.status_code == 400


def test_the_id_is_set_once_and_an_anonymous_visit_stores_nothing(app, client):
    name = app.config["SESSION_COOKIE_NAME"]
    first = client.get("/accessibility")  # every page carries a CSRF token for htmx requests
    _assert_no_payload(app, _session_cookie(first, name) or "")
    for path in ("/accessibility", "/contact", "/services"):
        response = client.get(path)
        assert response.status_code == 200
        assert _session_cookie(response, name) is None  # the browser keeps the id it has
    assert _rows(app) == 0


def test_signing_in_gives_a_new_id_and_keeps_the_session_token_on_the_server(app, client):
    name = app.config["SESSION_COOKIE_NAME"]
    user_with_password(app, "cookie@example.com")
    before = _session_cookie(client.get("/sign-in"), name)
    response = sign_in_with_form(client, "cookie@example.com")
    assert response.status_code == 302
    after = _session_cookie(response, name)
    assert after is not None and after != before  # a new id at sign-in (no fixation)
    _assert_no_payload(app, after)
    assert _rows(app) == 1
    with app.app_context():
        data = db.session.scalar(select(BrowserSession.data))
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1
    assert '"sid"' in data  # the signed-in session's token is held here, not in the cookie
    token = re.search(r'"sid":"([^"]+)"', data).group(1)
    assert token not in after
    assert "Test User" in page(client.get("/my")).get_text()

    # Signing out deletes the row and the browser gets a fresh id for the next form.
    sign_out = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/sign-out")})
    assert sign_out.status_code == 302
    assert _rows(app) == 0
    assert client.get("/my").status_code == 302  # signed out


def test_a_forged_cookie_is_a_new_visitor(app, client):
    name = app.config["SESSION_COOKIE_NAME"]
    forged = "A" * 43 + "." + "B" * 43
    client.set_cookie(name, forged, domain="localhost")
    response = client.get("/my")
    assert response.status_code == 302
    assert _session_cookie(response, name) not in {None, forged}


def test_expired_sessions_are_purged_and_not_read(app, client):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.common.browser_sessions import purge_expired_browser_sessions
    from portal.common.models import utcnow

    user_with_password(app, "purge@example.com")
    sign_in_with_form(client, "purge@example.com")
    other = app.test_client()
    other.get("/my")  # a flash message ("Sign in to continue") makes a second row
    assert _rows(app) == 2
    with app.app_context():
        db.session.execute(
            update(BrowserSession)
            .where(BrowserSession.data.contains('"sid"'))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    with app.app_context():
        assert purge_expired_browser_sessions() == 1
        db.session.commit()
    assert _rows(app) == 1
    # The resident's browser still sends the old id: it is a new, signed-out visitor.
    response = client.get("/my")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_an_ended_session_read_before_the_purge_is_a_new_signed_out_visit(app, client):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.common.models import utcnow

    name = app.config["SESSION_COOKIE_NAME"]
    user_with_password(app, "ended@example.com")
    old = _session_cookie(sign_in_with_form(client, "ended@example.com"), name)
    with app.app_context():
        db.session.execute(
            update(BrowserSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = client.get("/my")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    new = _session_cookie(response, name)
    assert new is not None and new.split(".")[0] != old.split(".")[0]  # never the ended id again
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BrowserSession)) == 1
        assert "_flashes" in db.session.scalar(select(BrowserSession.data))


def test_a_first_write_whose_row_already_exists_is_saved_not_refused(app, client):
    """A worker that committed a session's first write and then died before its response leaves
    the browser holding an "e" (no row) cookie for an id that has a row: the retry saves."""
    from flask import Response, request

    from portal.common.browser_sessions import _hash, stored_data

    name = app.config["SESSION_COOKIE_NAME"]
    value = _session_cookie(client.get("/sign-in"), name)
    assert value.split(".")[1] == "e"
    interface = app.session_interface
    for attempt in ("first", "retry"):
        with app.test_request_context("/", method="POST", headers={"Cookie": f"{name}={value}"}):
            session = interface.open_session(app, request)
            assert not session.stored  # the cookie still says "no row", as the browser kept it
            session["attempt"] = attempt
            interface.save_session(app, session, Response())
    assert _rows(app) == 1
    with app.app_context():
        row = db.session.get(BrowserSession, _hash(value.split(".")[0]))
        assert row is not None
    stored_value = interface.cookie_value(app, value.split(".")[0])
    assert stored_data(app, stored_value)["attempt"] == "retry"
