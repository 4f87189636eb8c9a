"""Adding to the KPI count tables: one upsert per table, in the caller's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Table

from portal.extensions import db


def _insert(table: Table):  # noqa: ANN202
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def add_counts(daily: Table, monthly: Table, day: date, key: dict, increments: dict) -> None:
    """Add `increments` to the day's and the month's row for `key`, creating them if needed."""
    for table, column, when in ((daily, "day", day), (monthly, "month", day.replace(day=1))):
        keys = {column: when, **key}
        statement = _insert(table).values(**keys, **increments)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: table.c[name] + statement.excluded[name] for name in increments},
        )
        db.session.execute(statement)
