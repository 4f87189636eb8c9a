"""The job worker (a real `huey_consumer`) is killed with SIGKILL in the middle of sending an
email: no email is lost, and only an email the SMTP server had already accepted when the worker
died is delivered twice: at most one per sending thread (each thread sends one email at a time,
and the kill can fall between the server's "250" and the database's "sent" for each of them).

The SMTP server (aiosmtpd on loopback) holds its reply to one message until the worker has been
killed: the server has that message, the worker never heard "250", so its row stays claimed.
A claim lasts CLAIM_SECONDS (5 minutes); the test moves that claim's expiry into the past rather
than wait 5 real minutes, then a new worker sends whatever is left.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.conftest import REDIS_URL
from tests.reliability.conftest import ROOT, bin_path, free_port, portal_env
from tests.reliability.smtp import Recorder, SmtpServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

EMAILS = 1000
KILL_AT = 300
WORKER_THREADS = 4


def _consumer(env: dict[str, str], log) -> subprocess.Popen:  # noqa: ANN001
    return subprocess.Popen(
        [
            bin_path("huey_consumer"),
            "portal.worker.huey",
            "--workers",
            str(WORKER_THREADS),
            "--worker-type",
            "thread",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _enqueue(env: dict[str, str], count: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.reliability.enqueue_emails", str(count), "50"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _wait(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_send_loses_no_email(shared_database, tmp_path):
    port = free_port()
    recorder = Recorder(hold_at=KILL_AT)
    smtp = SmtpServer(recorder, port).start()
    settings = {"smtp_url": f"smtp://127.0.0.1:{port}?timeout=30", "log_level": "INFO"}
    if REDIS_URL:  # the production queue; otherwise Huey's SQLite queue in the instance folder
        settings["redis_url"] = REDIS_URL
    env = portal_env(tmp_path / "node", shared_database.url, **settings)
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
    workers = []
    try:
        if REDIS_URL:  # start from an empty queue (stale jobs of an earlier run do no harm)
            subprocess.run(
                [sys.executable, "-c", "from portal.jobs import huey; huey.flush()"],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=60,
            )
        # Queue everything first: on SQLite a sending worker holds the write lock for the
        # whole SMTP conversation (see the report in docs/operations.md), and the held message
        # below would make a concurrent writer time out.
        _enqueue(env, EMAILS)
        workers.append(_consumer(env, log))
        assert recorder.holding.wait(120), "the worker never reached the held message"
        workers[0].send_signal(signal.SIGKILL)  # mid-send: the server has the message, no reply
        workers[0].wait(timeout=10)
        recorder.release.set()
        pending = shared_database.scalar(
            "SELECT COUNT(*) FROM outbox_emails WHERE status = 'pending'"
        )
        claimed = shared_database.scalar(
            "SELECT COUNT(*) FROM outbox_emails WHERE status = 'pending' "
            "AND claimed_until IS NOT NULL"
        )
        assert pending >= EMAILS - KILL_AT and claimed >= 1

        # Five minutes later the claims of the dead worker have expired.
        shared_database.execute(
            "UPDATE outbox_emails SET claimed_until = :past WHERE claimed_until IS NOT NULL",
            past="2000-01-01 00:00:00+00:00",
        )
        workers.append(_consumer(env, log))
        _enqueue(env, 0)
        _wait(
            lambda: (
                shared_database.scalar("SELECT COUNT(*) FROM outbox_emails WHERE status = 'sent'")
                == EMAILS
            ),
            timeout=150,
            what="every email to be sent",
        )
    finally:
        recorder.release.set()
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
        smtp.stop()
        log.close()

    ids = {row[0] for row in shared_database.rows("SELECT message_id FROM outbox_emails")}
    received = Counter(recorder.message_ids())
    duplicates = sum(n - 1 for n in received.values())
    print(f"\n{EMAILS} emails, {len(received)} distinct received, {duplicates} duplicate(s)")
    assert set(received) == ids, "an email was lost"
    # The held email is one; another thread may have been between the server's reply and its
    # commit at the same instant (seen once in CI on PostgreSQL: 2 duplicates in 1,000).
    assert duplicates <= WORKER_THREADS
    assert shared_database.scalar("SELECT COUNT(*) FROM outbox_emails WHERE status <> 'sent'") == 0
    # The real consumer logs one JSON line per job run, with its duration.
    job_lines = [
        json.loads(line)
        for line in (tmp_path / "worker.log").read_text().splitlines()
        if line.startswith('{"event": "job"')
    ]
    delivered = [j for j in job_lines if j["job"] == "deliver_outbox_task" and j["outcome"] == "ok"]
    assert delivered and all(j["duration_ms"] > 0 for j in delivered)
