"""take-up rollups by UK day: a transaction lands on its day and month in UK time

The triggers of 0008 grouped `service_transactions` by UTC day and month; a transaction at
23:30 UK time in summer (22:30 UTC) is on the right day either way, but one at 00:30 UK time in
summer (23:30 UTC) landed on the day before. They are replaced by triggers that use the UK day
(Europe/London: GMT in winter, BST from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
last Sunday of October), and both rollups are rebuilt from the records (docs/bvpi157.md).

Revision ID: 0040
Revises: 0021
Create Date: 2026-12-02 01:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0040'
down_revision = '0030'
branch_labels = None
depends_on = None


def _sqlite_uk_day(column: str) -> str:
    """The UK date of a UTC timestamp, in SQLite (which has no time zone database)."""
    bst_start = f"datetime(strftime('%Y', {column}) || '-03-25', 'weekday 0', '+1 hour')"
    bst_end = f"datetime(strftime('%Y', {column}) || '-10-25', 'weekday 0', '+1 hour')"
    return (
        f"(CASE WHEN datetime({column}) >= {bst_start} AND datetime({column}) < {bst_end} "
        f"THEN date({column}, '+1 hour') ELSE date({column}) END)"
    )


def _sqlite_uk_month(column: str) -> str:
    return f"date({_sqlite_uk_day(column)}, 'start of month')"


def _pg_uk_day(column: str) -> str:
    return f"({column} AT TIME ZONE 'Europe/London')::date"


def _pg_uk_month(column: str) -> str:
    return f"date_trunc('month', {column} AT TIME ZONE 'Europe/London')::date"


def _sqlite_triggers(day, month) -> list[str]:  # noqa: ANN001
    def remove(row: str) -> str:
        return f"""
      UPDATE service_transaction_daily SET transactions = transactions - 1
      WHERE day = {day(row + '.occurred_at')} AND lgsl = coalesce({row}.lgsl, 0)
        AND lgil = {row}.lgil AND channel = {row}.channel;
      UPDATE service_transaction_monthly SET transactions = transactions - 1
      WHERE month = {month(row + '.occurred_at')} AND lgsl = coalesce({row}.lgsl, 0)
        AND lgil = {row}.lgil AND channel = {row}.channel;"""

    def add(row: str) -> str:
        return f"""
      INSERT INTO service_transaction_daily (day, lgsl, lgil, channel, transactions)
      VALUES ({day(row + '.occurred_at')}, coalesce({row}.lgsl, 0), {row}.lgil, {row}.channel, 1)
      ON CONFLICT (day, lgsl, lgil, channel) DO UPDATE SET transactions = transactions + 1;
      INSERT INTO service_transaction_monthly (month, lgsl, lgil, channel, transactions)
      VALUES ({month(row + '.occurred_at')}, coalesce({row}.lgsl, 0), {row}.lgil,
              {row}.channel, 1)
      ON CONFLICT (month, lgsl, lgil, channel) DO UPDATE SET transactions = transactions + 1;"""

    return [
        "CREATE TRIGGER trg_service_transactions_rollup_insert AFTER INSERT ON "
        f"service_transactions BEGIN {add('NEW')}\n    END",
        "CREATE TRIGGER trg_service_transactions_rollup_delete AFTER DELETE ON "
        f"service_transactions BEGIN {remove('OLD')}\n    END",
        "CREATE TRIGGER trg_service_transactions_rollup_update "
        "AFTER UPDATE OF occurred_at, lgsl, lgil, channel ON service_transactions "
        f"BEGIN {remove('OLD')}{add('NEW')}\n    END",
    ]


def _pg_function(day, month) -> str:  # noqa: ANN001
    return f"""
    CREATE OR REPLACE FUNCTION service_transactions_rollup() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        UPDATE service_transaction_daily SET transactions = transactions - 1
        WHERE day = {day('OLD.occurred_at')} AND lgsl = coalesce(OLD.lgsl, 0)
          AND lgil = OLD.lgil AND channel = OLD.channel;
        UPDATE service_transaction_monthly SET transactions = transactions - 1
        WHERE month = {month('OLD.occurred_at')}
          AND lgsl = coalesce(OLD.lgsl, 0) AND lgil = OLD.lgil AND channel = OLD.channel;
      END IF;
      IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        INSERT INTO service_transaction_daily (day, lgsl, lgil, channel, transactions)
        VALUES ({day('NEW.occurred_at')}, coalesce(NEW.lgsl, 0), NEW.lgil, NEW.channel, 1)
        ON CONFLICT (day, lgsl, lgil, channel)
        DO UPDATE SET transactions = service_transaction_daily.transactions + 1;
        INSERT INTO service_transaction_monthly (month, lgsl, lgil, channel, transactions)
        VALUES ({month('NEW.occurred_at')}, coalesce(NEW.lgsl, 0), NEW.lgil, NEW.channel, 1)
        ON CONFLICT (month, lgsl, lgil, channel)
        DO UPDATE SET transactions = service_transaction_monthly.transactions + 1;
      END IF;
      RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """


def _rebuild(day: str, month: str) -> None:
    for table, column, expression in (
        ("service_transaction_daily", "day", day),
        ("service_transaction_monthly", "month", month),
    ):
        op.execute(f"DELETE FROM {table}")
        op.execute(
            f"INSERT INTO {table} ({column}, lgsl, lgil, channel, transactions) "
            f"SELECT {expression}, coalesce(lgsl, 0), lgil, channel, count(*) "
            "FROM service_transactions GROUP BY 1, 2, 3, 4"
        )


def _apply(sqlite_day, sqlite_month, pg_day, pg_month) -> None:  # noqa: ANN001
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_service_transactions_rollup_{name}")
        _rebuild(sqlite_day("occurred_at"), sqlite_month("occurred_at"))
        for statement in _sqlite_triggers(sqlite_day, sqlite_month):
            op.execute(statement)
    else:
        # The trigger calls the function by name: replacing the function is enough.
        op.execute(_pg_function(pg_day, pg_month))
        _rebuild(pg_day("occurred_at"), pg_month("occurred_at"))


def upgrade():
    _apply(_sqlite_uk_day, _sqlite_uk_month, _pg_uk_day, _pg_uk_month)


def downgrade():
    _apply(
        lambda c: f"date({c})",
        lambda c: f"date({c}, 'start of month')",
        lambda c: f"({c} AT TIME ZONE 'UTC')::date",
        lambda c: f"date_trunc('month', {c} AT TIME ZONE 'UTC')::date",
    )
