"""The BVPI 157 aggregate query and search, with 1,000 services × 10 interactions.

Run: .venv/bin/python -m benchmarks.services.bench_queries [--database-url URL]
Prints a Markdown row: database, 1-minute load average, BVPI 157 median / p95 wall / p95 CPU of
this process (ms), search median / p95 wall / p95 CPU (ms). The figure is timed as the domain
function (one query); search as the whole request through the WSGI app (routing, query,
rendering). CPU time excludes waiting for other tenants of the machine; with PostgreSQL the
query's own work happens in the server process, so only the wall time counts there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

import sqlalchemy as sa

from benchmarks.services.catalogue import build_catalogue, make_bench_app, temporary_instance
from portal.config import normalise_database_url
from portal.council_services.services import bvpi157
from portal.extensions import db

QUERIES = [
    "bin", "council tax", "recyclng", "parking permit", "library", "planning application",
    "pay rent", "housing repairs", "noise", "garden waste", "register a death", "school places",
    "blue badge", "pothole", "allotment", "licence", "fly tipping", "bulky", "benefit", "zzzz",
]  # fmt: skip


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(database_url: str = "", rounds: int = 200) -> dict[str, float]:
    instance = temporary_instance()
    schema = None
    if database_url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(normalise_database_url(database_url))
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        joiner = "&" if "?" in database_url else "?"
        database_url = f"{database_url}{joiner}options=-csearch_path%3D{schema}"
    app = make_bench_app(instance, database_url)
    try:
        with app.app_context():
            build_catalogue(1000, 10)
            if db.engine.dialect.name == "postgresql":
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()
            dialect = db.engine.dialect.name
            figure = bvpi157()
            times, cpu = [], []
            for _ in range(rounds):
                start, start_cpu = time.perf_counter(), time.thread_time()
                bvpi157()
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.thread_time() - start_cpu) * 1000)
                db.session.rollback()
        client = app.test_client()
        search_times, search_cpu = [], []
        for _ in range(max(1, rounds // len(QUERIES))):
            for q in QUERIES:
                start, start_cpu = time.perf_counter(), time.thread_time()
                response = client.get("/services/search", query_string={"q": q})
                search_times.append((time.perf_counter() - start) * 1000)
                search_cpu.append((time.thread_time() - start_cpu) * 1000)
                assert response.status_code == 200
        return {
            "dialect": dialect,
            "figure": figure.percent,
            "denominator": figure.denominator,
            "bvpi_median": statistics.median(times),
            "bvpi_p95": pct(times, 95),
            "search_median": statistics.median(search_times),
            "search_p95": pct(search_times, 95),
            "searches": len(search_times),
            "bvpi_cpu_p95": pct(cpu, 95),
            "search_cpu_p95": pct(search_cpu, 95),
        }
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if schema:
            engine = sa.create_engine(normalise_database_url(database_url.split("?")[0]))
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    r = run(args.database_url, args.rounds)
    load = os.getloadavg()[0]
    print(
        f"| {r['dialect']} | {load:.1f} | {r['bvpi_median']:.1f} | {r['bvpi_p95']:.1f} "
        f"| {r['bvpi_cpu_p95']:.1f} | {r['search_median']:.1f} | {r['search_p95']:.1f} "
        f"| {r['search_cpu_p95']:.1f} |"
    )


if __name__ == "__main__":
    main()
