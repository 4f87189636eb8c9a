"""Benchmark: 50 concurrent booking attempts on one slot of capacity 3 must give exactly 3 bookings.

    .venv/bin/python -m benchmarks.repairs.bench_booking_race            # SQLite file
    .venv/bin/python -m benchmarks.repairs.bench_booking_race \\
        --database postgresql://postgres@127.0.0.1:5432/test                  # PostgreSQL

Each attempt runs in its own thread with its own database connection, released together by a
barrier, through the same `services.book` the booking page calls.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

os.environ.setdefault("PORTAL_ENV", "test")

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.config import Settings, normalise_database_url  # noqa: E402


def build_app(database: str | None, instance: Path):  # noqa: ANN201
    url = database or f"sqlite:///{instance / 'bench.db'}"
    schema = None
    if database:
        schema = f"bench_repairs_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(normalise_database_url(database))
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        base = normalise_database_url(database)
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    settings = Settings(
        env="test", secret_key="bench", instance_path=str(instance), database_url=url,
        embedded_worker=False, jobs_immediate=True, ratelimit_enabled=False,
    )  # fmt: skip
    app = create_app(
        settings=settings,
        overrides={"SQLALCHEMY_ENGINE_OPTIONS": _engine_options(url)},
    )
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(revision="heads")
    return app, schema


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": 50, "max_overflow": 10, "pool_timeout": 60}


def run(database: str | None, attempts: int, capacity: int) -> tuple[Counter, int, int, float]:
    from portal.common.models import Address
    from portal.extensions import db
    from portal.repairs import calendar, services
    from portal.repairs.models import Appointment, Property, Repair, RepairNode, Slot
    from portal.repairs.tree import seed_default_tree

    with tempfile.TemporaryDirectory() as tmp:
        app, schema = build_app(database, Path(tmp))
        with app.app_context():
            seed_default_tree()
            db.session.add(
                Address(uprn="1", line1="1 Bench Road", town="Castlebrook", postcode="CK1 1AA",
                        latitude=52.0, longitude=-1.0, ward="Castle")
            )  # fmt: skip
            home = Property(uprn="1")
            db.session.add(home)
            db.session.flush()
            node = db.session.scalar(select(RepairNode).where(RepairNode.label == "Dripping tap"))
            refs = []
            for _ in range(attempts):
                repair = services.create_repair(
                    services.ReportInput(home.id, node, "Bench", "", "email", None), None, []
                )
                refs.append(repair.id)
            day = calendar.add_working_days(date.today(), 2)
            slot = Slot(trade="plumbing", date=day, period="morning", capacity=capacity, booked=0)
            db.session.add(slot)
            db.session.commit()
            slot_id = slot.id
        barrier = threading.Barrier(attempts, timeout=60)
        outcomes: Counter = Counter()
        lock = threading.Lock()

        def attempt(repair_id: int) -> None:
            barrier.wait()
            with app.app_context():
                try:
                    repair = db.session.get(Repair, repair_id)
                    services.book(repair, slot_id, actor_id=None)
                    db.session.commit()
                    result = "booked"
                except services.SlotTaken:
                    db.session.rollback()
                    result = "slot full"
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    db.session.rollback()
                    result = f"error: {type(exc).__name__}"
                finally:
                    db.session.remove()
            with lock:
                outcomes[result] += 1

        threads = [threading.Thread(target=attempt, args=(r,)) for r in refs]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        with app.app_context():
            booked = db.session.get(Slot, slot_id).booked
            rows = db.session.scalar(select(func.count(Appointment.id)))
            db.session.remove()
            db.engine.dispose()
        if schema:
            engine = sa.create_engine(normalise_database_url(database))
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()
    return outcomes, booked, rows, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None, help="PostgreSQL URL; SQLite file if absent")
    parser.add_argument("--attempts", type=int, default=50)
    parser.add_argument("--capacity", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database else "SQLite"
    for n in range(args.rounds):
        outcomes, booked, rows, elapsed = run(args.database, args.attempts, args.capacity)
        ok = booked == rows == args.capacity and outcomes["booked"] == args.capacity
        print(
            f"{kind} round {n + 1}: {dict(outcomes)}; slot.booked={booked}; appointments={rows}; "
            f"{elapsed:.2f}s; {'OK' if ok else 'OVERBOOKED OR LOST'}"
        )


if __name__ == "__main__":
    main()
