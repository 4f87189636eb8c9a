"""/services and a service page under gunicorn (2 workers) at concurrency 16, against "hello".

Run: .venv/bin/python -m benchmarks.services.bench_http [--seconds 5] [--rounds 3]
Loopback only. Uses wrk when installed (`-t2 -c16 -d<seconds>s`), otherwise a bounded Python
load generator with 16 threads. Each target runs in its own gunicorn, one after the other.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.services.catalogue import build_catalogue, make_bench_app, temporary_instance
from portal.extensions import db

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [GUNICORN, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn {target} did not start")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def load_wrk(url: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def load_python(url: str, seconds: int, max_requests: int = 20000) -> float:
    host, port_path = url.split("//")[1].split(":")
    port, path = port_path.split("/", 1)
    done = []
    stop_at = time.time() + seconds
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.time() < stop_at:
            with lock:
                if len(done) >= max_requests:
                    return
            conn.request("GET", "/" + path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{url}: {response.status}")
            with lock:
                done.append(1)

    start = time.time()
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(done) / (time.time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-page-cache", action="store_true", help="turn the page cache off")
    args = parser.parse_args()
    load = load_wrk if shutil.which("wrk") else load_python
    instance = temporary_instance()
    app = make_bench_app(instance)
    with app.app_context():
        build_catalogue(1000, 10)
        db.engine.dispose()
    env = dict(
        os.environ,
        PORTAL_ENV="development",
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_DATABASE_URL=f"sqlite:///{instance / 'bench.db'}",
        PORTAL_SECRET_KEY="benchmark-secret-key",
        PORTAL_EMBEDDED_WORKER="false",
        PORTAL_RATELIMIT_ENABLED="false",
        PORTAL_LOG_LEVEL="WARNING",
        PORTAL_SERVICES_PAGE_CACHE_SECONDS="0" if args.no_page_cache else "5",
    )
    targets = [
        ("hello", "hello", "/"),
        ("/services", "portal", "/services"),
        ("/services?letter=C", "portal", "/services?letter=C"),
        ("service page", "portal", "/services/household-waste-collection"),
    ]
    servers = {}
    try:
        for name, target in [("hello", "benchmarks.services.hello:app"), ("portal", "wsgi:app")]:
            port = free_port()
            servers[name] = (start_gunicorn(target, port, env), port)
        runs: dict[str, list[float]] = {label: [] for label, _, _ in targets}
        for _label, server, path in targets:  # warm up
            load(f"http://127.0.0.1:{servers[server][1]}{path}", 2)
        # Interleaved rounds, so a change in the machine's load touches every target alike.
        for _ in range(args.rounds):
            for label, server, path in targets:
                runs[label].append(
                    load(f"http://127.0.0.1:{servers[server][1]}{path}", args.seconds)
                )
    finally:
        for proc, _ in servers.values():
            stop(proc)
    results = {label: statistics.median(values) for label, values in runs.items()}
    hello = results["hello"]
    print(f"load generator: {'wrk -t2 -c16' if load is load_wrk else 'python, 16 threads'}")
    print(f"page cache: {'off' if args.no_page_cache else '5 s'}; {args.rounds} interleaved rounds")
    print(f"1-minute load average at the end: {os.getloadavg()[0]:.1f}")
    print("| target | requests/s (median of rounds) | each round | share of hello |")
    print("|---|---:|---|---:|")
    for label, rps in results.items():
        each = ", ".join(f"{v:.0f}" for v in runs[label])
        print(f"| {label} | {rps:.0f} | {each} | {100 * rps / hello:.0f} % |")


if __name__ == "__main__":
    main()
