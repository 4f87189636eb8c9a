"""Database engine set-up: SQLite pragmas and write transactions that start with BEGIN IMMEDIATE.

On SQLite a read-then-write transaction that began DEFERRED fails with "database is locked" when
another connection wrote in between; starting writes with BEGIN IMMEDIATE makes them queue on the
busy timeout instead. Requests that cannot write (GET, HEAD, OPTIONS) begin DEFERRED so readers run
side by side; everything else (POSTs, jobs, commands) begins IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


def set_write_intent(value: bool) -> None:
    _write_intent.set(value)


def writes() -> bool:
    """True when this request's (or job's) transactions begin IMMEDIATE."""
    return _write_intent.get()


@contextmanager
def write_intent() -> Iterator[None]:
    """Inside a read-only request, make the next transaction begin IMMEDIATE."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def configure_sqlite_engine(engine: Engine) -> None:
    """Attach the pragmas and the BEGIN policy to a SQLite engine (once)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_portal_configured", False):
        return
    engine._portal_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy's "begin" event emit BEGIN itself, instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")
