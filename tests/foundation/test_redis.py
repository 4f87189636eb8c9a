"""The production profile's Redis: readiness and the Huey queue (run when PORTAL_REDIS_URL is set)."""

from __future__ import annotations

import os
import uuid

import pytest
from huey import RedisHuey

from tests.conftest import REDIS_URL

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="PORTAL_REDIS_URL is not set"),
]


def test_readiness_reports_redis(make_app):
    app = make_app(redis_url=REDIS_URL)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "ok"


def test_readiness_is_503_when_redis_is_unreachable(make_app):
    app = make_app(redis_url="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "unavailable"


def test_a_job_queued_on_redis_is_consumed_once():
    queue = RedisHuey(f"portal-test-{os.getpid()}-{uuid.uuid4().hex[:6]}", url=REDIS_URL)
    calls: list[int] = []

    @queue.task()
    def add(a: int, b: int) -> int:
        calls.append(a + b)
        return a + b

    try:
        result = add(2, 3)
        assert queue.pending_count() == 1
        task = queue.dequeue()
        queue.execute(task)
        assert result.get() == 5 and calls == [5]
        assert queue.pending_count() == 0 and queue.dequeue() is None
    finally:
        queue.storage.flush_all()
