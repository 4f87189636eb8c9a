"""/healthz: 200 when the database answers, 503 when it does not."""

from __future__ import annotations

import socket

from portal import create_app
from portal.config import Settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again once the socket is released


def test_health_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_unreachable(tmp_path):
    settings = Settings(
        env="test",
        secret_key="test",
        instance_path=str(tmp_path),
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/portal?connect_timeout=2",
        jobs_immediate=True,
        ratelimit_enabled=False,
    )
    app = create_app(settings=settings)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_health_is_503_when_the_sqlite_file_cannot_be_opened(tmp_path):
    settings = Settings(
        env="test",
        secret_key="test",
        instance_path=str(tmp_path),
        database_url=f"sqlite:///{tmp_path}/missing-directory/portal.db",
        jobs_immediate=True,
        ratelimit_enabled=False,
    )
    app = create_app(settings=settings)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"
