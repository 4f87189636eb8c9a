"""Liveness and readiness: /healthz answers 503 when the database is unreachable; /readyz also
checks Redis and the job queue. Both answer within PORTAL_READYZ_TIMEOUT, so a hanging dependency
cannot hold a worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import func, select, text

from portal.common.models import OutboxEmail, utcnow
from portal.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

# At most this many checks run at once in a worker: checks stuck on a hanging dependency use up
# the slots and later calls answer "busy" at once rather than start more threads.
_slots = threading.BoundedSemaphore(6)


def redis_status(timeout: float = 1.0) -> str:
    url = current_app.config["PORTAL"].redis_url
    if not url:
        return "not configured"
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception:
        return "unavailable"


def queue_depth() -> int | None:
    try:
        return int(current_app.extensions["huey"].pending_count())
    except Exception:
        return None


def outbox_stall() -> dict[str, Any]:
    """The oldest email due and still unsent: its age, and whether it is past the threshold."""
    settings = current_app.config["PORTAL"]
    now = utcnow()
    with db.engine.connect() as conn:
        oldest, waiting = conn.execute(
            select(func.min(OutboxEmail.next_attempt_at), func.count(OutboxEmail.id)).where(
                OutboxEmail.status == OutboxEmail.PENDING, OutboxEmail.next_attempt_at <= now
            )
        ).one()
    if oldest is None:
        return {"due": 0, "oldest_due_seconds": 0, "stalled": False}
    if oldest.tzinfo is None:
        now = now.replace(tzinfo=None)
    age = max(0, int((now - oldest) / timedelta(seconds=1)))
    return {
        "due": int(waiting),
        "oldest_due_seconds": age,
        "stalled": age > settings.readyz_outbox_stall_seconds,
    }


def _database_check() -> str:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


def run_bounded(app: Flask, checks: dict[str, Callable[[], Any]], timeout: float) -> dict:
    """Run each check in a daemon thread; a check not done within `timeout` reads "timed out"."""
    results: dict[str, Any] = {}
    threads = []

    def run(name: str, check: Callable[[], Any]) -> None:
        try:
            with app.app_context():
                results[name] = check()
        except Exception as exc:
            log.warning("readiness check %s failed: %s", name, exc)
            results[name] = "unavailable"
        finally:
            _slots.release()

    for name, check in checks.items():
        if not _slots.acquire(blocking=False):
            results[name] = "busy"
            continue
        thread = threading.Thread(target=run, args=(name, check), daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: results.get(name, "timed out") for name in checks}


@bp.get("/healthz")
def healthz():
    timeout = current_app.config["PORTAL"].readyz_timeout
    found = run_bounded(current_app._get_current_object(), {"database": _database_check}, timeout)
    ok = found["database"] == "ok"
    response = jsonify(
        {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unavailable"}
    )
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
def readyz():
    """503 with the reasons when the database, Redis or the queue is not fit to serve."""
    settings = current_app.config["PORTAL"]
    timeout = settings.readyz_timeout
    checks: dict[str, Callable[[], Any]] = {
        "database": _database_check,
        "redis": lambda: redis_status(timeout=min(1.0, timeout)),
        "queue": queue_depth,
        "outbox": outbox_stall,
    }
    found = run_bounded(current_app._get_current_object(), checks, timeout)
    reasons = []
    if found["database"] != "ok":
        reasons.append(f"database {found['database']}")
    if found["redis"] not in ("ok", "not configured"):
        reasons.append(f"redis {found['redis']}")
    depth = found["queue"] if isinstance(found["queue"], int) else None
    if depth is None:
        reasons.append("job queue unavailable")
    outbox = found["outbox"] if isinstance(found["outbox"], dict) else None
    if outbox is None:
        reasons.append(f"outbox {found['outbox']}")
    elif outbox["stalled"]:
        reasons.append(
            f"queue stalled: an email has waited {outbox['oldest_due_seconds']} seconds unsent"
        )
    body = {
        "status": "unavailable" if reasons else "ok",
        "reasons": reasons,
        "database": found["database"],
        "redis": found["redis"],
        "queue": {"pending": depth},
        "outbox": outbox,
    }
    response = jsonify(body)
    response.status_code = 503 if reasons else 200
    response.headers["Cache-Control"] = "no-store"
    return response
