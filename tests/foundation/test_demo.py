"""`flask --app portal demo load` is idempotent: running it twice changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db


def table_counts() -> dict[str, int]:
    counts = {}
    for table in db.metadata.sorted_tables:
        counts[table.name] = db.session.scalar(sa.select(sa.func.count()).select_from(table))
    db.session.rollback()
    return counts


def test_demo_load_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "gazetteer: 600 addresses added" in first.output
    with app.app_context():
        after_first = table_counts()
    assert after_first["addresses"] == 600
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "gazetteer: 0 addresses added" in second.output
    with app.app_context():
        assert table_counts() == after_first


def test_demo_load_is_refused_in_production(make_app):
    app = make_app(env="production")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "refused" in result.output
