"""A database that does not answer gives the house-style 503 page; /readyz reports a stalled queue.

The same faults against real gunicorn nodes, Redis and PostgreSQL (refusing and hanging) are in
tests/reliability/test_dependency_faults.py; these run anywhere.
"""

from __future__ import annotations

import time
from datetime import timedelta

from portal import create_app
from portal.common.models import utcnow
from portal.common.outbox import queue_email
from portal.config import Settings, engine_options
from portal.extensions import db
from tests.foundation.test_health import closed_port
from tests.helpers.pages import check_html


def _app_on_a_refusing_database(tmp_path):
    settings = Settings(
        env="test",
        secret_key="test",
        instance_path=str(tmp_path),
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/portal",
        jobs_immediate=True,
        ratelimit_enabled=False,
        planning_page_cache_seconds=0,
    )
    return create_app(settings=settings)


def test_pages_answer_the_branded_503_when_the_database_refuses(tmp_path):
    client = _app_on_a_refusing_database(tmp_path).test_client()
    for path in ("/planning", "/sign-in"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "60"
        soup = check_html(response)
        assert soup.h1.get_text(strip=True) == "Sorry, the service is unavailable"
    # API callers get JSON, as for every other error
    response = client.get("/planning", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.get_json()["error"] == 503


def test_readyz_answers_within_its_limit_when_the_database_refuses(tmp_path):
    client = _app_on_a_refusing_database(tmp_path).test_client()
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["database"] == "unavailable" and body["status"] == "unavailable"
    assert "database unavailable" in body["reasons"]


def test_readyz_is_503_when_an_email_waits_unsent_past_the_threshold(make_app):
    app = make_app(readyz_outbox_stall_seconds=600)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["outbox"] == {"due": 0, "oldest_due_seconds": 0, "stalled": False}
    with app.app_context():
        # Queued as the portal does, but no worker has sent them (delivery is not run here).
        recent = queue_email("a@example.com", "Recent", "body")
        old = queue_email("b@example.com", "Old", "body")
        later = queue_email("c@example.com", "Retry later", "body")
        db.session.info.pop("portal_outbox_queued")
        recent.next_attempt_at = utcnow() - timedelta(minutes=5)
        old.next_attempt_at = utcnow() - timedelta(minutes=11)
        later.next_attempt_at = utcnow() + timedelta(hours=1)  # backing off: not due yet
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["outbox"]["due"] == 2 and body["outbox"]["stalled"] is True
    assert 660 <= body["outbox"]["oldest_due_seconds"] < 700
    assert body["reasons"] == [
        f"queue stalled: an email has waited {body['outbox']['oldest_due_seconds']} seconds unsent"
    ]
    assert body["database"] == "ok"


def test_postgres_connections_have_timeouts_and_keep_the_urls_options():
    settings = Settings(database_connect_timeout=3, database_statement_timeout=15)
    url = "postgresql+psycopg://portal@db/portal?options=-csearch_path%3Dschema_a"
    args = engine_options(url, settings)["connect_args"]
    assert args["connect_timeout"] == 3 and args["keepalives"] == 1
    assert args["options"] == "-csearch_path=schema_a -c statement_timeout=15000"
    off = Settings(database_statement_timeout=0)
    assert "options" not in engine_options("postgresql+psycopg://db/portal", off)["connect_args"]


def test_timeout_settings_are_read_from_the_environment():
    settings = Settings.from_environ(
        {"PORTAL_REDIS_SOCKET_TIMEOUT": "0.5", "PORTAL_DATABASE_STATEMENT_TIMEOUT": "9"}
    )
    assert settings.redis_socket_timeout == 0.5 and settings.database_statement_timeout == 9
    options = settings.redis_options()
    assert options["socket_timeout"] == 0.5 and options["socket_connect_timeout"] == 2.0
