"""Structured logs: one JSON line per request (request id, timing) and one per job run
(job name, outcome, duration and the queue's depth after it), on standard output.

Every `portal.*` logger writes through one handler on the `portal` logger, which does not
propagate: the job consumer (`huey_consumer`) puts its own handler on the root logger, and a
second one there printed every line twice. Secret links (tokens in the path) are logged as
`[redacted]`; query strings are never logged.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
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


# Request ids from a proxy or load balancer: UUIDs, hex, nginx's $request_id and the like.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# URL arguments that are secrets (a link that signs in, confirms or finishes something).
_SECRET_ARGUMENTS = {"token", "session_id"}
_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
REDACTED = "[redacted]"
_HANDLER_NAME = "portal-stdout"


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is at the time (so a replaced stdout is followed)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str | int) -> logging.Logger:
    """Send every `portal.*` log line, as its bare message, to standard output (once)."""
    logger = logging.getLogger("portal")
    logger.setLevel(level)
    if not any(handler.name == _HANDLER_NAME for handler in logger.handlers):
        handler = _StdoutHandler()
        handler.name = _HANDLER_NAME
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.propagate = False
    return logger


def accepted_request_id(incoming: str) -> str:
    """The proxy's request id when it has a common form, otherwise a new one."""
    return incoming if _REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)


def secret_path_patterns(app: Flask) -> list[tuple[re.Pattern[str], list[str]]]:
    """For each route with a secret argument: a pattern matching its paths, and the argument
    names to hide. Matched on the path itself, so a 404 or 405 on a secret link is hidden too."""
    patterns = []
    for rule in app.url_map.iter_rules():
        names = [n for n in rule.arguments if n in _SECRET_ARGUMENTS or n.endswith("_token")]
        if not names:
            continue
        pieces, last = [], 0
        for match in _ARGUMENT.finditer(rule.rule):
            pieces.append(re.escape(rule.rule[last : match.start()]))
            pieces.append(f"(?P<{match.group(1)}>[^/]+)")
            last = match.end()
        pieces.append(re.escape(rule.rule[last:]))
        patterns.append((re.compile("".join(pieces) + "/?"), names))
    return patterns


def redact_path(path: str, patterns: list[tuple[re.Pattern[str], list[str]]]) -> str:
    """`path` with the secret segments replaced by [redacted]."""
    for pattern, names in patterns:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        spans = sorted((match.span(name) for name in names), reverse=True)
        for start, end in spans:
            path = path[:start] + REDACTED + path[end:]
        return path
    return path


def init_request_logging(app: Flask) -> None:
    configure_logging(app.config["PORTAL"].log_level)
    init_job_logging(app.extensions["huey"])
    built: dict[str, list[tuple[re.Pattern[str], list[str]]]] = {}

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()
        g.request_id = accepted_request_id(request.headers.get("X-Request-Id", ""))

    def _patterns() -> list[tuple[re.Pattern[str], list[str]]]:
        # Built on first use: blueprints are registered after logging is set up.
        if "secret" not in built:
            built["secret"] = secret_path_patterns(app)
        return built["secret"]

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
                        "path": redact_path(request.path, _patterns()),
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
