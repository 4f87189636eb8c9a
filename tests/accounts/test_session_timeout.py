"""The signed-out warning's server side: settings, the page's figures and "Stay signed in"."""

from __future__ import annotations

from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select, update

from portal.accounts.models import UserSession
from portal.accounts.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT
from portal.common.clock import govuk_time_on_day
from portal.common.models import utcnow
from portal.config import Settings
from portal.extensions import db
from tests.helpers.auth import make_user, sign_in
from tests.helpers.authz import csrf_headers


def last_seen(app, user_id: int):  # noqa: ANN001, ANN201
    with app.app_context():
        return db.session.scalar(
            select(UserSession.last_seen_at).where(UserSession.user_id == user_id)
        )


def age_session(app, seconds: int) -> None:  # noqa: ANN001
    with app.app_context():
        db.session.execute(
            update(UserSession).values(last_seen_at=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()


def test_the_default_settings_are_the_documented_timeouts():
    settings = Settings()
    assert timedelta(seconds=settings.session_idle_seconds) == IDLE_TIMEOUT
    assert timedelta(seconds=settings.session_absolute_seconds) == ABSOLUTE_TIMEOUT
    assert settings.session_warning_seconds >= 120


def test_a_signed_in_page_carries_the_warning_with_the_time_left(make_app):
    app = make_app(session_idle_seconds=600, session_warning_seconds=120)
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    age_session(app, 100)
    soup = BeautifulSoup(client.get("/my").get_data(as_text=True), "html.parser")
    dialog = soup.find("dialog", id="session-timeout")
    assert dialog is not None
    # The page was touched (100 s is past a quarter of the idle time), so the full 600 s are left.
    assert 595 <= int(dialog["data-idle-seconds"]) <= 600
    assert int(dialog["data-warning-seconds"]) == 120
    assert 12 * 3600 - 10 <= int(dialog["data-absolute-seconds"]) <= 12 * 3600
    text = dialog.get_text(" ", strip=True)
    assert "after 10 minutes without any activity" in text
    assert "12 hours after you signed in" in text
    with app.app_context():
        expires = db.session.scalar(select(UserSession.expires_at))
    assert govuk_time_on_day(expires) in text
    assert dialog.find("button", string="Stay signed in")


def test_no_warning_for_visitors_who_are_not_signed_in(client):
    assert 'id="session-timeout"' not in client.get("/").get_data(as_text=True)


def test_stay_signed_in_extends_the_session_on_the_server(make_app):
    app = make_app(session_idle_seconds=600)
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    age_session(app, 500)
    before = last_seen(app, user.id)
    response = client.post(
        "/stay-signed-in", headers={**csrf_headers(client), "Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json["signed_in"] is True
    assert 595 <= response.json["idle_seconds"] <= 600
    assert last_seen(app, user.id) > before
    age_session(app, 500)  # would have ended 500 s after the first extension without this one
    response = client.post(
        "/stay-signed-in", data={"next": "/my?x=1"}, headers=csrf_headers(client)
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/my?x=1"
    assert client.get("/my").status_code == 200


def test_stay_signed_in_after_the_session_ended_says_so(make_app):
    app = make_app(session_idle_seconds=600)
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    age_session(app, 601)
    response = client.post(
        "/stay-signed-in", headers={**csrf_headers(client), "Accept": "application/json"}
    )
    assert response.status_code == 401
    assert response.json == {"signed_in": False}
    response = client.post(
        "/stay-signed-in", data={"next": "https://evil.example/"}, headers=csrf_headers(client)
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/my").status_code == 302


def test_stay_signed_in_needs_a_csrf_token(app):
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    assert client.post("/stay-signed-in").status_code == 400


def test_govuk_time_reads_the_govuk_way():
    from datetime import UTC, datetime

    assert (
        govuk_time_on_day(datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == "9:30am on 1 December 2026"
    )
    assert govuk_time_on_day(datetime(2026, 7, 1, 13, 0, tzinfo=UTC)) == "2pm on 1 July 2026"
    assert govuk_time_on_day(datetime(2026, 12, 1, 12, 0)) == "midday on 1 December 2026"


def test_a_form_sent_after_a_quiet_minute_counts_as_activity(app):
    """A POST that must touch the session did wait on SQLite's write lock and fail."""
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    age_session(app, 500)
    before = last_seen(app, user.id)
    response = client.post("/my/end-other-sessions", headers=csrf_headers(client))
    assert response.status_code == 302
    assert last_seen(app, user.id) > before


def test_a_public_page_seen_signed_in_carries_the_warning_too(app):
    user = make_user(app)
    client = app.test_client()
    sign_in(client, user)
    for path in ("/", "/accessibility", "/contact"):
        assert 'id="session-timeout"' in client.get(path).get_data(as_text=True), path
