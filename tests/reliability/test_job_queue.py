"""The job queue on a shared Redis: named after the portal's key prefix, and no stored results."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import REDIS_URL
from tests.reliability.conftest import ROOT, bin_path, need_redis, portal_env

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.xdist_group("reliability")]

EMAILS = 30


def test_jobs_use_the_prefix_and_leave_no_results_in_redis(shared_database, tmp_path: Path):
    need_redis()
    prefix = f"portal_test_{secrets.token_hex(4)}"  # Huey keeps [A-Za-z0-9_] only
    env = portal_env(
        tmp_path / "node", shared_database.url, redis_url=REDIS_URL, ratelimit_key_prefix=prefix
    )
    client = redis.Redis.from_url(REDIS_URL)
    try:
        subprocess.run(
            [sys.executable, "-m", "tests.reliability.enqueue_emails", str(EMAILS), "5"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        queue_key = f"huey.redis.{prefix}"
        assert client.llen(queue_key) == EMAILS // 5  # one delivery job per commit
        worker = subprocess.Popen(
            [bin_path("huey_consumer"), "portal.worker.huey", "--workers", "2", "-k", "thread"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while shared_database.scalar(
                "SELECT COUNT(*) FROM outbox_emails WHERE status = 'sent'"
            ) != EMAILS or client.llen(queue_key):
                assert worker.poll() is None, "the worker stopped"
                assert time.monotonic() < deadline, "the emails were not sent"
                time.sleep(0.2)
            time.sleep(0.5)  # let the last job's end be recorded, as a result would be
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        ours = [key.decode() for key in client.scan_iter(match=f"*{prefix}*")]
        assert not [key for key in ours if key.startswith("huey.results.")], ours
        assert client.hlen(f"huey.results.{prefix}") == 0
    finally:
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
        client.close()
