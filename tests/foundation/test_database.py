"""SQLite set-up: WAL, busy timeout, synchronous NORMAL, and BEGIN IMMEDIATE for writes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, text

from portal.extensions import db
from tests.conftest import PG_URL

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite behaviour")


@sqlite_only
def test_sqlite_pragmas(app_ctx):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    assert db.session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _begins(app) -> list[str]:  # noqa: ANN001
    statements: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if statement.startswith("BEGIN"):
            statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _record)
    return statements


@sqlite_only
def test_get_requests_begin_deferred_and_posts_begin_immediate(app):
    @app.route("/_test/read", methods=["GET", "POST"])
    def _read():
        db.session.execute(text("SELECT 1"))
        return "ok"

    app.config["WTF_CSRF_ENABLED"] = False
    statements = _begins(app)
    client = app.test_client()
    client.get("/_test/read")
    assert statements == ["BEGIN"]
    client.post("/_test/read")
    assert statements == ["BEGIN", "BEGIN IMMEDIATE"]


def test_concurrent_read_then_write_transactions_never_lock(app):
    """Two threads each read a counter and write it back, many times, at the same time."""
    with app.app_context():
        db.session.execute(text("CREATE TABLE test_counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO test_counter (id, n) VALUES (1, 0)"))
        db.session.commit()
    rounds = 150
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(rounds):
                    row = "SELECT n FROM test_counter WHERE id = 1"
                    if db.engine.dialect.name == "postgresql":
                        row += " FOR UPDATE"
                    n = db.session.execute(text(row)).scalar()
                    db.session.execute(
                        text("UPDATE test_counter SET n = :n WHERE id = 1"), {"n": n + 1}
                    )
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[0]
    with app.app_context():
        assert db.session.execute(text("SELECT n FROM test_counter")).scalar() == 2 * rounds
        db.session.execute(text("DROP TABLE test_counter"))
        db.session.commit()
