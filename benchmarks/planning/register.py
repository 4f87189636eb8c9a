"""Benchmark: the register page (/planning) with 20,000 applications under gunicorn, 16 at once.

Builds a SQLite instance (or uses --database-url), loads the demo gazetteer and 20,000
applications with bulk inserts, starts gunicorn, warms it up, then keeps 16 requests in flight
for register pages (the first page, filtered pages, later pages) and reports the latency
percentiles. The load comes from wrk when it is installed (`apt-get install -y wrk`: a C client
that takes little of the CPU the server needs) and otherwise from 16 Python threads.

    python -m benchmarks.planning.register [--workers 4] [--seconds 20] [--database-url URL]
    python -m benchmarks.planning.register --client python [--requests 3200]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from benchmarks.planning.common import drop_schema, make_benchmark_app
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import Address, utcnow
from portal.extensions import db
from portal.planning.models import PlanningApplication

PATHS = [
    "/planning",
    "/planning",
    "/planning?page=2",
    "/planning?ward=Castle",
    "/planning?status=decided",
    "/planning?type=HOU&ward=Abbey",
    "/planning?page=50",
]


def load(app, count: int) -> None:
    rng = random.Random(20000)
    with app.app_context():
        load_demo_gazetteer()
        addresses = list(db.session.scalars(select(Address)))
        statuses = list(PlanningApplication.STATUSES)
        types = list(PlanningApplication.TYPES)
        today = date.today()
        rows = []
        for n in range(count):
            a = rng.choice(addresses)
            code = rng.choice(types)
            received = today - timedelta(days=rng.randint(0, 3 * 365))
            reference = f"{received:%y}/{n:05d}/{code}"
            rows.append(
                {
                    "reference": reference,
                    "slug": reference.replace("/", "-"),
                    "site_address": a.single_line,
                    "postcode": a.postcode,
                    "uprn": a.uprn,
                    "latitude": a.latitude,
                    "longitude": a.longitude,
                    "ward": a.ward,
                    "description": "Single-storey rear extension and loft conversion with dormer",
                    "application_type": code,
                    "status": rng.choice(statuses),
                    "received_date": received,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            )
        for start in range(0, count, 5000):
            db.session.execute(insert(PlanningApplication), rows[start : start + 5000])
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(port: int, count: int, out: list[float], errors: list[str], seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(count):
        path = rng.choice(PATHS)
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(f"{path}: {response.status}")


def run_threads(port: int, requests: int, concurrency: int) -> None:
    """`concurrency` Python threads, each with its own connection, `requests` in all."""
    per_thread = requests // concurrency
    timings: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=worker, args=(port, per_thread, timings, errors, n))
        for n in range(concurrency)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    timings.sort()

    def pct(p: float) -> float:
        return timings[min(len(timings) - 1, int(p * len(timings)))] * 1000

    print(
        f"{len(timings)} requests in {elapsed:.1f}s ({len(timings) / elapsed:.0f}/s), errors {len(errors)}"
    )
    print(
        f"latency ms: p50 {pct(0.50):.1f}, p90 {pct(0.90):.1f}, p95 {pct(0.95):.1f}, "
        f"p99 {pct(0.99):.1f}, max {timings[-1] * 1000:.1f}"
    )


REPORT_LUA = Path(__file__).resolve().parents[1] / "load" / "report.lua"


def run_wrk(port: int, seconds: int, concurrency: int) -> dict[str, float]:
    """wrk over PATHS in turn; returns requests, seconds, non-2xx/3xx and the percentiles in ms."""
    env = dict(os.environ, WRK_PATHS=" ".join(PATHS))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "-s", str(REPORT_LUA),
         f"http://127.0.0.1:{port}/planning"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"^RESULT (.*)$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    fields = dict(item.split("=") for item in found.group(1).split())
    return {key: float(value) for key, value in fields.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3200, help="python client only")
    parser.add_argument("--seconds", type=int, default=20, help="wrk client only")
    parser.add_argument("--client", choices=("wrk", "python"), default="")
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") else "python")
    instance = Path(tempfile.mkdtemp(prefix="planning-register-"))
    app, url, schema = make_benchmark_app(args.database_url or None, instance)
    load(app, args.applications)
    with app.app_context():
        db.engine.dispose()
    port = free_port()
    env = dict(
        os.environ,
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_DATABASE_URL=url,
        PORTAL_ENV="development",
        PORTAL_EMBEDDED_WORKER="false",
        PORTAL_JOBS_IMMEDIATE="true",
        PORTAL_RATELIMIT_ENABLED="false",
        PORTAL_LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/planning")
                break
            except OSError:
                time.sleep(0.2)
        warm: list[float] = []
        worker(port, 200, warm, [], 1)
        print(
            f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"load average before {os.getloadavg()[0]:.1f}"
        )
        print(
            f"database: {'postgresql' if args.database_url else 'sqlite'}; gunicorn workers "
            f"{args.workers}; concurrency {args.concurrency}; client {client}"
        )
        if client == "wrk":
            result = run_wrk(port, args.seconds, args.concurrency)
            rate = result["requests"] / (result["duration_us"] / 1e6)
            errors = int(result["status_errors"] + result["socket_errors"])
            print(
                f"{int(result['requests'])} requests in {args.seconds}s ({rate:.0f}/s), errors {errors}"
            )
            print(
                f"latency ms: p50 {result['p50']:.1f}, p95 {result['p95']:.1f}, p99 {result['p99']:.1f}"
            )
        else:
            run_threads(port, args.requests, args.concurrency)
        print(f"load average after {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
