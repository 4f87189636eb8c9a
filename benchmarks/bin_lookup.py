"""Benchmark: the bin-day lookup with its collections under gunicorn, 16 at once, caches off.

A fresh database with the demo gazetteer and demo rounds (every address on three rounds, a
Christmas change); 2 gunicorn sync workers (as `make serve`); page caches off
(PORTAL_SERVICES_PAGE_CACHE_SECONDS=0, PORTAL_PLANNING_PAGE_CACHE_SECONDS=0). 16 Python threads, each with its own connection, cycle
through the postcode lookup, an address's page (next collections and eight weeks) and the JSON
API, at random demo addresses. Target: p95 ≤ 50 ms.

The load comes from wrk when it is installed (a C client: 16 connections from two threads, so
the two cores go to the portal rather than to the client), cycling through 300 of those
requests for --seconds; otherwise from 16 Python threads, one connection each (`--client
python`), which on two cores take much of the CPU themselves.

    python -m benchmarks.bin_lookup [--database-url URL] [--client wrk|python] [--seconds 20]
        [--requests 3200] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.planning.common import drop_schema, make_benchmark_app
from benchmarks.planning.register import REPORT_LUA, free_port
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import Address
from portal.extensions import db
from portal.waste.demo import load_demo_waste


def paths(app, count: int) -> list[str]:
    rng = random.Random(157)
    with app.app_context():
        load_demo_gazetteer()
        load_demo_waste()
        addresses = list(db.session.scalars(select(Address)))
        db.engine.dispose()
    chosen = []
    for _ in range(count):
        a = rng.choice(addresses)
        kind = rng.randrange(3)
        if kind == 0:
            chosen.append(
                f"/bin-collection?uprn_postcode={a.postcode.replace(' ', '+')}&uprn_find=1"
            )
        elif kind == 1:
            chosen.append(f"/bin-collection/{a.uprn}")
        else:
            chosen.append(f"/api/v1/addresses/{a.uprn}/collections")
    return chosen


def worker(
    port: int, todo: list[str], out: list[tuple[str, float]], errors: list[str], timeout: int = 30
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    for path in todo:
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        out.append((path, time.perf_counter() - started))
        if response.status != 200:
            errors.append(f"{path}: {response.status}")


def run_wrk(port: int, todo: list[str], seconds: int, concurrency: int) -> None:
    """wrk cycling through `todo`; prints requests, errors and the latency percentiles."""
    env = dict(os.environ, WRK_PATHS=" ".join(todo))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(REPORT_LUA), f"http://127.0.0.1:{port}/"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"^RESULT (.*)$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    result = {k: float(v) for k, v in (item.split("=") for item in found.group(1).split())}
    elapsed = result["duration_us"] / 1e6
    errors = result["status_errors"] + result["socket_errors"] + result["s5xx"]
    print(
        f"{result['requests']:.0f} requests in {elapsed:.1f}s "
        f"({result['requests'] / elapsed:.0f}/s), errors {errors:.0f} (wrk)"
    )
    print(f"latency ms: p50 {result['p50']:.1f}, p95 {result['p95']:.1f}, p99 {result['p99']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=2)  # as `make serve`
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3200, help="python client only")
    parser.add_argument("--seconds", type=int, default=20, help="wrk client only")
    parser.add_argument("--client", choices=("wrk", "python"), default="")
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") else "python")
    instance = Path(tempfile.mkdtemp(prefix="bin-lookup-"))
    app, url, schema = make_benchmark_app(args.database_url or None, instance)
    todo = paths(app, args.requests + 200)
    port = free_port()
    env = dict(
        os.environ,
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_DATABASE_URL=url,
        PORTAL_ENV="development",
        PORTAL_EMBEDDED_WORKER="false",
        PORTAL_JOBS_IMMEDIATE="true",
        PORTAL_RATELIMIT_ENABLED="false",
        PORTAL_SERVICES_PAGE_CACHE_SECONDS="0",
        PORTAL_PLANNING_PAGE_CACHE_SECONDS="0",
        PORTAL_LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers),
         "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--log-level", "warning",
         "wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        worker(port, todo[:200], [], [], timeout=180)  # warm-up: workers may still be starting
        todo = todo[200:]
        print(
            f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"load average before {os.getloadavg()[0]:.1f}"
        )
        print(
            f"database {'postgresql' if args.database_url else 'sqlite'}; {args.workers} gunicorn "
            f"workers; {args.concurrency} at once; page caches off; client {client}"
        )
        if client == "wrk":
            run_wrk(port, todo[:300], args.seconds, args.concurrency)
            print(f"load average after {os.getloadavg()[0]:.1f}")
            return
        timings: list[tuple[str, float]] = []
        errors: list[str] = []
        share = len(todo) // args.concurrency
        threads = [
            threading.Thread(
                target=worker, args=(port, todo[n * share : (n + 1) * share], timings, errors)
            )
            for n in range(args.concurrency)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        values = sorted(t for _, t in timings)

        def pct(p: float, data: list[float]) -> float:
            return data[min(len(data) - 1, int(p * len(data)))] * 1000

        print(
            f"{len(values)} requests in {elapsed:.1f}s ({len(values) / elapsed:.0f}/s), errors {len(errors)}"
        )
        print(
            f"latency ms: p50 {pct(0.5, values):.1f}, p95 {pct(0.95, values):.1f}, "
            f"p99 {pct(0.99, values):.1f}"
        )
        for label, prefix in (
            ("lookup", "/bin-collection?"),
            ("page", "/bin-collection/"),
            ("api", "/api/"),
        ):
            part = sorted(t for p, t in timings if p.startswith(prefix))
            print(f"  {label}: p50 {pct(0.5, part):.1f}, p95 {pct(0.95, part):.1f}")
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
