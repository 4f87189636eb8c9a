"""Structured logs: one JSON line per request (request id, timing) and one per job run
(job name, outcome, duration and the queue's depth after it)."""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

from flask import Flask, Response, g, request
from huey import signals

log = logging.getLogger("portal.requests")
job_log = logging.getLogger("portal.jobs")

# Huey signals that end a job run, and the outcome each is logged with.
_JOB_OUTCOMES = {
    signals.SIGNAL_COMPLETE: "ok",
    signals.SIGNAL_ERROR: "error",
    signals.SIGNAL_TIMEOUT: "timeout",
    signals.SIGNAL_CANCELED: "cancelled",
    signals.SIGNAL_LOCKED: "locked",
    signals.SIGNAL_RATE_LIMITED: "rate-limited",
    signals.SIGNAL_INTERRUPTED: "interrupted",
}


def init_request_logging(app: Flask) -> None:
    logging.basicConfig(level=app.config["PORTAL"].log_level, format="%(message)s")
    init_job_logging(app.extensions["huey"])

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = (
            incoming if incoming.isalnum() and len(incoming) <= 64 else secrets.token_hex(8)
        )

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = g.get("request_started")
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if request.endpoint not in {"assets.asset", "static"}:
            log.info(
                json.dumps(
                    {
                        "event": "request",
                        "request_id": g.get("request_id"),
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": elapsed_ms,
                    }
                )
            )
        return response


def init_job_logging(huey: Any) -> None:
    """Log one JSON line per job run with its duration (once per Huey instance)."""
    if getattr(huey, "_portal_job_logging", False):
        return
    huey._portal_job_logging = True

    @huey.signal()
    def _on_job_signal(signal: str, task: Any, *args: Any) -> None:
        # The start time travels on the task object, which Huey passes to every signal of one
        # execution: a retried or re-enqueued task keeps its id, so an id is not enough.
        if signal == signals.SIGNAL_EXECUTING:
            task._portal_started = time.perf_counter()
            return
        outcome = _JOB_OUTCOMES.get(signal)
        if outcome is None:
            return
        began = getattr(task, "_portal_started", None)
        record: dict[str, Any] = {
            "event": "job",
            "job": task.name,
            "job_id": task.id,
            "outcome": outcome,
            "duration_ms": round((time.perf_counter() - began) * 1000, 2) if began else None,
            "queue_pending": _pending(huey),
        }
        if args and isinstance(args[0], BaseException):
            record["error"] = f"{type(args[0]).__name__}: {args[0]}"[:500]
        job_log.log(logging.INFO if outcome == "ok" else logging.WARNING, json.dumps(record))


def _pending(huey: Any) -> int | None:
    try:
        return int(huey.pending_count())
    except Exception:
        return None
