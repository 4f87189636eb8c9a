"""Background jobs with Huey: SQLite storage in instance/ by default, Redis in production.

The Huey instance is made at import so tasks can be declared with its decorators; its storage
follows PORTAL_REDIS_URL and PORTAL_INSTANCE_PATH. In the embedded default `flask --app portal
serve` runs a consumer in threads inside the web process; production runs `make worker`.
Tasks run inside an application context: the current one when there is one (immediate mode, the
embedded consumer), otherwise an app built once per worker process.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey

from portal.config import Settings

_worker_app: Flask | None = None
_embedded_consumer: Any = None
_lock = threading.Lock()


def make_huey(settings: Settings) -> Huey:
    """The job queue for `settings`.

    On Redis the queue is named after PORTAL_RATELIMIT_KEY_PREFIX, so portals sharing one Redis
    (production and a restored copy, test runs) never take each other's jobs. Every job is fire
    and forget: no caller reads a result, so none is stored (Huey would otherwise keep each
    return value in Redis forever).
    """
    if settings.jobs_immediate or settings.env == "test":
        return Huey("portal", immediate=True, results=False)
    if settings.redis_url:
        from redis import ConnectionPool

        pool = ConnectionPool.from_url(settings.redis_url, **settings.redis_options())
        return RedisHuey(settings.ratelimit_key_prefix, connection_pool=pool, results=False)
    Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        "portal", filename=os.path.join(settings.instance_path, "jobs.db"), results=False
    )


huey: Huey = make_huey(Settings.from_environ())


def _app() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        if _worker_app is None:
            from portal import create_app

            _worker_app = create_app()
        return _worker_app


def set_worker_app(app: Flask) -> None:
    """Tasks consumed in this process run in `app` (the embedded consumer, tests)."""
    global _worker_app
    _worker_app = app


def with_app_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task body inside an application context and close the session afterwards."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        from portal.extensions import db

        with _app().app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


def _raise_system_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def start_embedded_consumer(app: Flask, workers: int = 2) -> Any:
    """Consume jobs in threads of this process (the embedded default: no second command).

    Huey's consumer installs its own SIGINT/SIGTERM/SIGHUP handlers, meant for a process that
    runs `consumer.run()`; here the web server owns the main thread, so the handlers are put back
    (Ctrl+C and SIGTERM stop the server) and `stop_embedded_consumer` is called on the way out.
    """
    global _embedded_consumer
    if _embedded_consumer is not None or huey.immediate:
        return _embedded_consumer
    set_worker_app(app)
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    in_main_thread = threading.current_thread() is threading.main_thread()
    saved = {}
    if in_main_thread:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            saved[signum] = signal.getsignal(signum)
    consumer.start()  # scheduler and worker threads (daemon threads)
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    if in_main_thread and saved.get(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_system_exit)
    _embedded_consumer = consumer
    return consumer


def stop_embedded_consumer() -> None:
    """Let running jobs finish (within the consumer's shutdown timeout), then stop its threads."""
    global _embedded_consumer
    if _embedded_consumer is not None:
        _embedded_consumer.stop(graceful=True)
        _embedded_consumer = None


def init_app(app: Flask) -> None:
    app.extensions["huey"] = huey
