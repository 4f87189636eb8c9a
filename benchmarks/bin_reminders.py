"""Benchmark: queue the evening reminders for 100,000 subscribers (target: within 60 s).

A fresh database with the demo gazetteer and demo rounds; N confirmed subscriptions spread over
the addresses with a collection on the chosen day (several subscribers to an address, as
households have); then `portal.waste.services.queue_reminders(day)` claims and queues them in
batches through the outbox. Sending is the outbox's own job and is left out (its after-commit
trigger is switched off here), so the figure is the fan-out. Checks afterwards that every
subscriber has exactly one claim and one email.

    python -m benchmarks.bin_reminders [--subscribers 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from benchmarks.planning.common import drop_schema, make_benchmark_app
from portal.common import outbox
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import OutboxEmail, utcnow
from portal.extensions import db
from portal.waste import services
from portal.waste.demo import load_demo_waste
from portal.waste.models import ReminderSent, ReminderSubscription


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="bin-reminders-"))
    app, _url, schema = make_benchmark_app(args.database_url or None, instance)
    outbox.deliver_outbox_task = lambda: 0  # the fan-out only: sending is the outbox's job
    try:
        with app.app_context():
            load_demo_gazetteer()
            load_demo_waste()
            day = date.today() + timedelta(days=1)
            while day.weekday() != 0:  # a Monday: two demo wards collect
                day += timedelta(days=1)
            uprns = sorted(services.collections_on(day))
            now = utcnow()
            rows = [
                {
                    "uprn": uprns[n % len(uprns)],
                    "email": f"resident{n}@example.com",
                    "token": secrets.token_urlsafe(32),
                    "created_at": now,
                    "confirmed_at": now,
                }
                for n in range(args.subscribers)
            ]
            for start in range(0, len(rows), 10_000):
                db.session.execute(insert(ReminderSubscription), rows[start : start + 10_000])
            db.session.commit()
            print(
                f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores "
                f"(shared), load average before {os.getloadavg()[0]:.1f}"
            )
            print(
                f"database {'postgresql' if args.database_url else 'sqlite'}; "
                f"{args.subscribers} subscribers at {len(uprns)} addresses collected on {day}"
            )
            started = time.perf_counter()
            queued = services.queue_reminders(day)
            elapsed = time.perf_counter() - started
            emails = db.session.scalar(select(func.count()).select_from(OutboxEmail))
            claims = db.session.scalar(
                select(func.count(func.distinct(ReminderSent.subscription_id)))
            )
            again = services.queue_reminders(day)
            print(f"queued {queued} reminders in {elapsed:.1f}s ({queued / elapsed:.0f}/s)")
            print(
                f"outbox emails {emails}, subscribers claimed {claims}, a second run queued {again}"
            )
            print(f"load average after {os.getloadavg()[0]:.1f}")
            assert queued == emails == claims == args.subscribers and again == 0
            db.engine.dispose()
    finally:
        drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
