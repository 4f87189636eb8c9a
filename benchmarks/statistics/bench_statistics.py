"""Take-up statistics with 1,000,000 transaction records: p50/p95 of every statistics view.

    .venv/bin/python -m benchmarks.statistics.bench_statistics              # SQLite
    .venv/bin/python -m benchmarks.statistics.bench_statistics \\
        --database-url postgresql://postgres@127.0.0.1:5432/test                # PostgreSQL

Records are inserted through the ORM table (so the rollup triggers run for each one, as in
production), spread over the last 365 days, 40 services, 4 interaction types and all channels.
Each view is requested through the Flask test client as a signed-in manager: 3 warm-up requests,
then --runs timed requests.

    .venv/bin/python -m benchmarks.statistics.bench_statistics --kpis     # the service KPI views

`--kpis` times the four-KPI views (staff page per service/department/channel, CSV, public page)
with --records transactions, 100,000 satisfaction answers (--answers) and 300,000 journeys
started (--visits, 80 % completed). The KPI views read only the daily and monthly count tables,
never the records, so to keep the run short on a shared machine the records are generated
exactly as above and counted in Python into the same rollup rows the triggers would write (the
statistics tests prove the triggers' rollups equal the records); the answers are inserted as
rows and, like the journeys, counted into their daily and monthly tables as the portal does.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("PORTAL_ENV", "test")

import sqlalchemy as sa  # noqa: E402

from portal import create_app  # noqa: E402
from portal.config import Settings, normalise_database_url  # noqa: E402
from portal.extensions import db  # noqa: E402

SCHEMA = "bench_statistics"


def build_app(database_url: str, instance: Path):  # noqa: ANN201
    settings = Settings(
        env="test",
        secret_key="benchmark",
        instance_path=str(instance),
        database_url=database_url,
        embedded_worker=False,
        jobs_immediate=True,
        ratelimit_enabled=False,
    )
    return create_app(settings=settings)


def prepare_database(url: str, instance: Path, keep: bool = False, schema: str = SCHEMA) -> str:
    if not url:
        return f"sqlite:///{instance / 'bench.db'}"
    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        if not keep:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    joiner = "&" if "?" in url else "?"
    return f"{normalise_database_url(url)}{joiner}options=-csearch_path%3D{schema}"


def insert_records(count: int, seed: int = 1) -> float:
    from portal.common.models import ServiceTransaction
    from portal.statistics.catalogue import SERVICES

    rng = random.Random(seed)
    services = list(SERVICES) + list(range(2000, 2000 + max(0, 40 - len(SERVICES))))
    channels = ["web", "kiosk", "kiosk_assisted", "phone", "face_to_face", "email", "post"]
    weights = [55, 4, 3, 22, 9, 5, 2]
    now = datetime.now(UTC)
    table = ServiceTransaction.__table__
    started = time.perf_counter()
    batch = 20_000
    for offset in range(0, count, batch):
        rows = []
        for _ in range(min(batch, count - offset)):
            rows.append(
                {
                    "occurred_at": now - timedelta(seconds=rng.randint(0, 365 * 86400)),
                    "lgsl": rng.choice(services),
                    "lgil": rng.choice((0, 2, 3, 8)),
                    "channel": rng.choices(channels, weights)[0],
                    "kind": "benchmark",
                    "object_ref": None,
                    "user_id": None,
                    "staff_id": None,
                }
            )
        db.session.execute(sa.insert(table), rows)
        db.session.commit()
    return time.perf_counter() - started


def insert_kpi_inputs(records: int, answers: int, visits: int, seed: int = 1) -> float:
    """The rollup rows `records` transactions produce, plus survey answers and journey visits."""
    from collections import Counter

    from portal.statistics.catalogue import SERVICES
    from portal.statistics.kpi_models import (
        JourneyDaily,
        JourneyMonthly,
        SatisfactionAnswer,
        SatisfactionDaily,
        SatisfactionMonthly,
    )
    from portal.statistics.models import TakeUpDaily, TakeUpMonthly

    rng = random.Random(seed)
    services = list(SERVICES) + list(range(2000, 2000 + max(0, 40 - len(SERVICES))))
    channels = ["web", "kiosk", "kiosk_assisted", "phone", "face_to_face", "email", "post"]
    weights = [55, 4, 3, 22, 9, 5, 2]
    now = datetime.now(UTC)
    started = time.perf_counter()
    daily: Counter = Counter()
    for _ in range(records):
        day = (now - timedelta(seconds=rng.randint(0, 365 * 86400))).date()
        daily[
            (day, rng.choice(services), rng.choice((0, 2, 3, 8)), rng.choices(channels, weights)[0])
        ] += 1
    monthly: Counter = Counter()
    for (day, lgsl, lgil, channel), n in daily.items():
        monthly[(day.replace(day=1), lgsl, lgil, channel)] += n
    for table, column, counts in (
        (TakeUpDaily.__table__, "day", daily),
        (TakeUpMonthly.__table__, "month", monthly),
    ):
        rows = [
            {column: key[0], "lgsl": key[1], "lgil": key[2], "channel": key[3], "transactions": n}
            for key, n in counts.items()
        ]
        for offset in range(0, len(rows), 20_000):
            db.session.execute(sa.insert(table), rows[offset : offset + 20_000])
    today = now.date()
    answer_rows = [
        {
            "day": today - timedelta(days=rng.randint(0, 364)),
            "lgsl": rng.choice(services),
            "lgil": rng.choice((0, 2, 3, 8)),
            "channel": rng.choice(("web", "kiosk", "kiosk_assisted")),
            "rating": rng.choices((5, 4, 3, 2, 1), (35, 30, 15, 12, 8))[0],
            "comment": "A comment" if rng.random() < 0.1 else None,
        }
        for _ in range(answers)
    ]
    answer_days: Counter = Counter(
        (a["day"], a["lgsl"], a["lgil"], a["channel"], a["rating"]) for a in answer_rows
    )
    journey_days: Counter = Counter()
    for _ in range(visits):
        key = (
            today - timedelta(days=rng.randint(0, 364)),
            rng.choice(services),
            rng.choice((0, 4)),
            rng.choices(channels[:3], (90, 6, 4))[0],
        )
        journey_days[key + ("started",)] += 1
        if rng.random() < 0.8:
            journey_days[key + ("completed",)] += 1
    journey_rows: dict = {}
    for (*key, what), n in journey_days.items():
        journey_rows.setdefault(tuple(key), {"started": 0, "completed": 0})[what] += n

    def daily_and_monthly(daily_table, monthly_table, rows):  # noqa: ANN001, ANN202
        by_month: dict = {}
        for row in rows:
            month = {**row, "month": row["day"].replace(day=1)}
            del month["day"]
            key = tuple(v for k, v in month.items() if k not in ("answers", "started", "completed"))
            if key in by_month:
                for name in ("answers", "started", "completed"):
                    if name in row:
                        by_month[key][name] += row[name]
            else:
                by_month[key] = month
        return ((daily_table, rows), (monthly_table, list(by_month.values())))

    satisfaction = [
        {"day": d, "lgsl": s, "lgil": i, "channel": c, "rating": r, "answers": n}
        for (d, s, i, c, r), n in answer_days.items()
    ]
    journeys = [
        {"day": d, "lgsl": s, "lgil": i, "channel": c, **counts}
        for (d, s, i, c), counts in journey_rows.items()
    ]
    tables = [
        (SatisfactionAnswer.__table__, answer_rows),
        *daily_and_monthly(
            SatisfactionDaily.__table__, SatisfactionMonthly.__table__, satisfaction
        ),
        *daily_and_monthly(JourneyDaily.__table__, JourneyMonthly.__table__, journeys),
    ]
    for table, rows in tables:
        for offset in range(0, len(rows), 20_000):
            db.session.execute(sa.insert(table), rows[offset : offset + 20_000])
    db.session.commit()
    return time.perf_counter() - started


def signed_in_client(app):  # noqa: ANN001, ANN201
    from tests.helpers.auth import client_for, make_user

    return client_for(app, make_user(app, roles=("manager",)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--kpis", action="store_true", help="time the four service KPI views")
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=300_000)
    parser.add_argument(
        "--keep", action="store_true", help="PostgreSQL: keep the schema and reuse its records"
    )
    parser.add_argument(
        "--sqlite-path", default="", help="keep the SQLite database here; reuse it when present"
    )
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bench-statistics-"))
    schema = f"{SCHEMA}_kpis" if args.kpis else SCHEMA  # its own schema: runs never collide
    url = prepare_database(args.database_url, instance, args.keep, schema)
    reuse = False
    if args.sqlite_path and not args.database_url:
        reuse = Path(args.sqlite_path).exists()
        url = f"sqlite:///{Path(args.sqlite_path).resolve()}"
    app = build_app(url, instance)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        if args.keep and args.database_url:
            reuse = bool(db.session.scalar(sa.text("SELECT count(*) FROM service_transactions")))
        if args.kpis:
            seconds = 0.0 if reuse else insert_kpi_inputs(args.records, args.answers, args.visits)
        else:
            seconds = 0.0 if reuse else insert_records(args.records)
        # What autovacuum/autoanalyze does after a bulk load (the rollups are updated in place).
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        rollup_rows = db.session.scalar(sa.text("SELECT count(*) FROM service_transaction_daily"))
        records = db.session.scalar(sa.text("SELECT count(*) FROM service_transactions"))
        from portal.common.delivery import set_portal_delivery
        from portal.common.models import PortalDelivery

        db.session.execute(sa.delete(PortalDelivery))
        for lgsl in (57, 141, 487, 524, 528):
            set_portal_delivery("bench", str(lgsl), lgsl, 0, "Bench", "/")
        db.session.commit()
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('?')[0].split('@')[-1]}")
    if args.kpis and not seconds:
        print("KPI inputs: database reused")
    elif args.kpis:
        print(
            f"KPI inputs: {args.records:,} transactions as rollup rows, {args.answers:,} answers, "
            f"{args.visits:,} journey visits, made in {seconds:.1f} s"
        )
    elif seconds:
        rate = records / seconds
        print(f"records: {records:,} inserted in {seconds:.1f} s ({rate:,.0f}/s, triggers on)")
    else:
        print(f"records: {records:,} (database reused)")
    print(f"rollup rows: {rollup_rows:,}")

    client = signed_in_client(app)
    today = datetime.now(UTC).date()
    year_ago = today - timedelta(days=364)
    two_years = today - timedelta(days=730)

    def custom(start, end) -> str:  # noqa: ANN001
        return (
            f"period=custom&from-day={start.day}&from-month={start.month}&from-year={start.year}"
            f"&to-day={end.day}&to-month={end.month}&to-year={end.year}"
        )

    views = [
        ("dashboard, week", "/staff/statistics?period=week"),
        ("dashboard, month", "/staff/statistics?period=month"),
        ("dashboard, quarter", "/staff/statistics?period=quarter"),
        ("dashboard, custom 365 days", f"/staff/statistics?{custom(year_ago, today)}"),
        ("dashboard, custom 731 days", f"/staff/statistics?{custom(two_years, today)}"),
        ("dashboard, quarter, one service", "/staff/statistics?period=quarter&service=524"),
        (
            "dashboard, quarter, department",
            "/staff/statistics?period=quarter&department=Environment",
        ),
        (
            "dashboard, quarter, channel + type",
            "/staff/statistics?period=quarter&channel=phone&interaction=8",
        ),
        ("CSV export, custom 365 days", f"/staff/statistics/export.csv?{custom(year_ago, today)}"),
        ("public take-up page", "/performance/take-up"),
    ]
    if args.kpis:
        views = [
            ("KPIs by service, month", "/staff/statistics/kpis?period=month"),
            ("KPIs by service, quarter", "/staff/statistics/kpis?period=quarter"),
            (
                "KPIs by service, custom 365 days",
                f"/staff/statistics/kpis?{custom(year_ago, today)}",
            ),
            (
                "KPIs by department, custom 731 days",
                f"/staff/statistics/kpis?by=department&{custom(two_years, today)}",
            ),
            ("KPIs by channel, quarter", "/staff/statistics/kpis?by=channel&period=quarter"),
            (
                "KPIs by interaction, quarter, one service",
                "/staff/statistics/kpis?by=interaction&period=quarter&service=524",
            ),
            (
                "KPI CSV, custom 365 days",
                f"/staff/statistics/kpis/export.csv?{custom(year_ago, today)}",
            ),
            ("survey comments, all services", "/staff/statistics/kpis/comments"),
            ("public KPIs per service", "/performance/services"),
            # The take-up dashboard in the same run: a yardstick for the machine's load.
            ("take-up dashboard, custom 365 days", f"/staff/statistics?{custom(year_ago, today)}"),
        ]
    print()
    print("| view | p50 ms | p95 ms |")
    print("|---|---:|---:|")
    for label, path in views:
        for _ in range(3):
            assert client.get(path).status_code == 200, path
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(f"| {label} | {statistics.median(timings):.0f} | {p95:.0f} |")

    if args.database_url and not args.keep:
        engine = sa.create_engine(normalise_database_url(args.database_url))
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
