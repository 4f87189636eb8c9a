"""Load test: a mixed workload against 2 gunicorn workers, on SQLite or PostgreSQL.

    python benchmarks/load/run.py --db sqlite
    python benchmarks/load/run.py --db postgres [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
    python benchmarks/load/run.py --write-docs     # only rewrite the docs from the results files

Builds a fresh database (migrations + `flask demo load`), starts `gunicorn --workers 2` on a free
loopback port serving `benchmarks/load/wsgi_bench.py`, and measures:

- each single-request part (public pages, searches, the health check, a transactional POST) alone
  with wrk, with two yardsticks measured the same way just before it (same connections and
  duration, so requests per second compare): a bare Flask app (`benchmarks/services/hello.py`)
  in its own gunicorn with the same settings, and the portal's own empty route `/_bench/hello`
  (which pays every hook the portal runs on each request);
- the pages a signed-in resident sees (My council, a service page, a form's start page, the
  repairs start page, a planning application), as a demo tenant signed in through the real form;
- each multi-step journey (forms with and without a file, a sandbox payment, a payment webhook,
  a repair booking, a planning alert sign-up) with `benchmarks/load/journeys.py`: as many Python
  clients as wrk has connections, for the same number of seconds, timing every request, the
  measured POST step and the whole journey;
- then everything at once: wrk cycling through the single-request parts while one client of each
  journey runs it.

Parts run only when their endpoint exists in this build (see WORKLOAD). Afterwards the server
log is searched for 5xx responses and "database is locked".

Results go to benchmarks/load/results/<db>.json and the "## Load test" section of
docs/performance.md is rewritten from every results file present (unless --no-docs).
Bounded: each part runs --seconds (default 5) with --connections (default 4); about three
minutes in all. Needs wrk (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: the portal and benchmarks packages from here

from benchmarks.load.journeys import (  # noqa: E402
    JOURNEYS,
    Client,
    Context,
    JourneyError,
    MissedCollection,
    Recorder,
    drive,
    png_bytes,
    prepare_clients,
    sign_in,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
BIN = Path(sys.executable).parent

# Budgets from the production issue.
PAGE_P95_MS = 50.0
PAGE_RPS_SHARE = 0.35
FORM_POST_P95_MS = 100.0
FINDINGS = "### Findings"
# Targets of issue 17, as shares of the bare Flask app measured just before each part.
EMPTY_ROUTE_BARE_SHARE = 0.85
ANONYMOUS_BARE_SHARE = 0.70  # anonymous pages and searches (page cache on)
SIGNED_IN_BARE_SHARE = 0.20

# The workload: (part, kind, endpoint that must exist, how to build the request).
# kind "page" and "search" are held to the public page budgets; "journey" parts are multi-step
# journeys driven by benchmarks/load/journeys.py (the form POST budget applies to every POST of
# the journey marked budget="form_post"). A part whose endpoint is absent is listed as such in the
# results (never silently left out).
WORKLOAD = [
    ("Home page", "page", "site.home", {"path": "/"}),
    ("Contact page", "page", "site.contact", {"path": "/contact"}),
    ("Accessibility statement", "page", "site.accessibility", {"path": "/accessibility"}),
    ("Services A to Z", "page", "council_services.index", {"endpoint_path": True}),
    ("Planning applications register", "page", "planning.register", {"endpoint_path": True}),
    (
        "Search: your area by postcode",
        "search",
        "gazetteer.your_area",
        {"postcode": "uprn_postcode"},
    ),
    ("Search: address lookup", "search", "gazetteer.lookup", {"postcode": "postcode"}),
    ("Search: services", "search", "council_services.search", {"query": "q=council+tax"}),
    ("Search: planning applications", "search", "planning.register", {"query": "q=extension"}),
    ("Health check", "health", "health.healthz", {"path": "/healthz"}),
    ("Transactional POST (one take-up row)", "post", "_bench", {"post": "/_bench/record"}),
    *((j.part, "journey", j.endpoint, {}) for j in JOURNEYS),
]
JOURNEY_BY_PART = {j.part: j for j in JOURNEYS}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    memory = next((line.split()[1] for line in free.splitlines() if line.startswith("Mem:")), "?")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    return {
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "memory": memory,
        "free_h": free,
        "python": platform.python_version(),
        "load_before": " ".join(load),
    }


def run(cmd: list[str], env: dict[str, str], timeout: int = 600) -> str:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Database:
    """A fresh database for one run: a SQLite file, or a PostgreSQL database of its own."""

    def __init__(self, kind: str, pg_url: str, workdir: Path) -> None:
        self.kind = kind
        self.pg_url = pg_url
        self.name = ""
        self.engines: list = []
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'portal.db'}"
        else:
            self.name = f"portal_load_{os.getpid()}_{secrets.token_hex(3)}"
            self.url = pg_url.rsplit("/", 1)[0] + "/" + self.name

    def _admin(self, sql: str) -> None:
        import sqlalchemy as sa

        from portal.config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(self.pg_url), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
        engine.dispose()

    def create(self) -> None:
        if self.kind == "postgres":
            self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self.kind == "postgres":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def first_postcode(self) -> str | None:
        import sqlalchemy as sa

        from portal.config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(self.url))
        try:
            with engine.connect() as conn:
                return conn.execute(
                    sa.text("SELECT postcode FROM addresses ORDER BY uprn LIMIT 1")
                ).scalar()
        except Exception:
            return None
        finally:
            engine.dispose()

    def signed_in_paths(self) -> dict[str, str]:
        """Pages a signed-in resident sees, with the demo council's first service, form and
        planning application filled in."""
        import sqlalchemy as sa

        from portal.config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(self.url))
        try:
            with engine.connect() as conn:

                def first(sql: str) -> str | None:
                    return conn.execute(sa.text(sql)).scalar()

                service = first("SELECT slug FROM council_services ORDER BY slug LIMIT 1")
                form = first("SELECT slug FROM online_forms WHERE status = 'live' ORDER BY slug")
                application = first("SELECT slug FROM planning_applications ORDER BY id LIMIT 1")
        except Exception:
            return {}
        finally:
            engine.dispose()
        paths = {"My council (signed in)": "/my", "Repairs start page (signed in)": "/repairs"}
        if service:
            paths["Service page (signed in)"] = f"/services/{service}"
        if form:
            paths["Form start page (signed in)"] = f"/forms/{form}"
        if application:
            paths["Planning application (signed in)"] = f"/planning/applications/{application}"
        return paths

    def journey_context(self, webhook_secret: str) -> Context | None:
        """What the journeys need from the demo council (None when the demo data lacks it)."""
        import sqlalchemy as sa

        from portal.accounts.demo import demo_password
        from portal.common.gazetteer.geography import DEMO_WARD_BOXES as WARDS
        from portal.config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(self.url))
        self.engines.append(engine)
        try:
            with engine.connect() as conn:
                address = conn.execute(
                    sa.text("SELECT uprn, postcode FROM addresses ORDER BY uprn LIMIT 1")
                ).first()
                bill = conn.execute(
                    sa.text(
                        "SELECT reference FROM payment_bills WHERE bill_type = 'council_tax' "
                        "ORDER BY reference LIMIT 1"
                    )
                ).scalar()
                tenants = conn.execute(
                    sa.text(
                        "SELECT u.email FROM users u JOIN repair_tenancies t ON t.user_id = u.id "
                        "ORDER BY u.email"
                    )
                ).scalars()
                residents = [(e, demo_password(e.split("@")[0])) for e in tenants]
        except sa.exc.SQLAlchemyError:
            return None
        if address is None or bill is None:
            return None

        def outbox(to_address: str) -> str | None:
            # The resident reads the email the portal queued for them.
            with engine.connect() as conn:
                return conn.execute(
                    sa.text(
                        "SELECT body_text FROM outbox_emails WHERE to_address = :to "
                        "ORDER BY id DESC LIMIT 1"
                    ),
                    {"to": to_address},
                ).scalar()

        missed = reportable_missed_collection(self.url)
        return Context(
            missed=missed,
            uprn=str(address[0]),
            postcode=address[1],
            council_tax_reference=bill,
            residents=residents,
            webhook_secret=webhook_secret,
            database_url=self.url,
            wards=list(WARDS),
            photo=png_bytes(),
            outbox=outbox,
        )


def reportable_missed_collection(database_url: str) -> MissedCollection | None:
    """A demo address with a collection that can be reported missed today, found by the
    portal's own bin-day rules (the form refuses any other bin or date)."""
    import tempfile

    import sqlalchemy as sa

    from portal import create_app
    from portal.config import Settings
    from portal.extensions import db
    from portal.waste import services

    app = create_app(
        settings=Settings(
            env="development",
            secret_key="load-test",
            instance_path=tempfile.mkdtemp(prefix="load-missed-"),
            database_url=database_url,
            embedded_worker=False,
            ratelimit_enabled=False,
        )
    )
    with app.app_context():
        try:
            for uprn, postcode in db.session.execute(
                sa.text("SELECT uprn, postcode FROM addresses ORDER BY uprn")
            ):
                options = services.missed_options(str(uprn))
                if options:
                    found = options[0].collection
                    return MissedCollection(str(uprn), postcode, found.type.name.lower(), found.day)
            return None
        finally:
            db.session.remove()
            db.engine.dispose()


def wrk(url: str, seconds: int, connections: int, extra_env: dict[str, str]) -> dict:
    env = {**os.environ, **extra_env}
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "report.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 60,
    ).stdout
    match = re.search(r"^RESULT (.*)$", out, re.M)
    if not match:
        raise SystemExit(f"wrk gave no result for {url}:\n{out}")
    values = dict(item.split("=") for item in match.group(1).split())
    requests, duration = int(values["requests"]), int(values["duration_us"]) / 1e6
    return {
        "requests": requests,
        "rps": round(requests / duration, 1),
        "p50_ms": float(values["p50"]),
        "p95_ms": float(values["p95"]),
        "p99_ms": float(values["p99"]),
        "non_2xx_3xx": int(values["status_errors"]),
        "socket_errors": int(values["socket_errors"]),
        "s5xx": int(values["s5xx"]),
    }


def plan(endpoints: dict, postcode: str | None, context: Context | None) -> list[dict]:
    """Which workload parts run in this build, and the request each makes."""
    parts = []
    for name, kind, endpoint, how in WORKLOAD:
        entry = {"part": name, "kind": kind, "endpoint": endpoint}
        present = endpoint == "_bench" or endpoint in endpoints
        if not present:
            entry["status"] = "endpoint absent in this build"
        elif kind == "journey":
            journey = JOURNEY_BY_PART[name]
            entry["path"] = journey.measured_step
            if context is None:
                entry["status"] = "the demo data lacks what the journey needs"
            elif journey.prepare is not None and not context.residents:
                entry["status"] = "no demo tenants to sign in"
            else:
                entry["status"] = "measured"
        elif "postcode" in how and not postcode:
            entry["status"] = "no demo addresses to search"
        else:
            rule = endpoints.get(endpoint, {}).get("rule", "")
            if "<" in rule:
                entry["status"] = f"endpoint needs arguments ({rule}); not driven"
            else:
                if "post" in how:
                    entry["method"], entry["path"] = "POST", how["post"]
                elif "postcode" in how:
                    entry["method"] = "GET"
                    entry["path"] = f"{rule}?{how['postcode']}={postcode.replace(' ', '+')}"
                elif "query" in how:
                    entry["method"], entry["path"] = "GET", f"{rule}?{how['query']}"
                else:
                    entry["method"], entry["path"] = "GET", how.get("path") or rule
                entry["status"] = "measured"
        parts.append(entry)
    return parts


# Every anonymous-visitor page cache (see docs/architecture.md); `--no-page-cache` turns them off.
PAGE_CACHE_SETTINGS = ("PORTAL_SERVICES_PAGE_CACHE_SECONDS", "PORTAL_PLANNING_PAGE_CACHE_SECONDS")


def bench_env(
    database: Database, workdir: Path, base: str, redis_url: str, page_cache: bool = True
) -> dict[str, str]:
    """The bench app's settings (PORTAL_* variables; see docs/performance.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_ENV": "development",
            "PORTAL_SECRET_KEY": secrets.token_urlsafe(32),
            "PORTAL_INSTANCE_PATH": str(workdir / "instance"),
            "PORTAL_DATABASE_URL": database.url,
            "PORTAL_BASE_URL": base,  # the sandbox gateway sends the payer back here
            "PORTAL_EMBEDDED_WORKER": "false",
            "PORTAL_LOG_LEVEL": "INFO",
            # The webhook endpoint answers only when a secret is set; the sandbox gateway stays
            # in use because no Stripe secret key is set.
            "PORTAL_STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
            # The limits count per client address and account, and all of the load comes from
            # one loopback address and three demo tenants: with them on, the portal would
            # rightly refuse the run within seconds (e.g. 30 bookings an hour per address).
            "PORTAL_RATELIMIT_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    if redis_url:
        env["PORTAL_REDIS_URL"] = redis_url
    if not page_cache:
        env.update(dict.fromkeys(PAGE_CACHE_SETTINGS, "0"))
    return env


def measure(db_kind: str, args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"portal-load-{db_kind}-"))
    database = Database(db_kind, args.pg_url, workdir)
    database.create()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    redis_url = args.redis_url if db_kind == "postgres" else ""
    env = bench_env(database, workdir, base, redis_url, page_cache=not args.no_page_cache)
    log_path = workdir / "gunicorn.log"
    bare_port = free_port()
    bare_base = f"http://127.0.0.1:{bare_port}"
    server = bare = None
    try:
        print(f"[{db_kind}] migrating and loading the demo council into {database.url}")
        run([str(BIN / "flask"), "--app", "portal", "db", "upgrade"], env)
        run([str(BIN / "flask"), "--app", "portal", "demo", "load"], env)
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--workers",
                    "2",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--access-logfile",
                    "-",
                    "benchmarks.load.wsgi_bench:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # The bare Flask app, in its own gunicorn with the same settings: the yardstick.
        bare = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{bare_port}",
                "--access-logfile",
                "-",
                "benchmarks.services.hello:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/_bench/endpoints", timeout=2) as response:
                    endpoints = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
        while True:
            try:
                urllib.request.urlopen(bare_base + "/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or bare.poll() is not None:
                    raise SystemExit("the bare Flask app's gunicorn did not start") from None
                time.sleep(0.3)
        context = database.journey_context(env["PORTAL_STRIPE_WEBHOOK_SECRET"])
        parts = plan(endpoints, database.first_postcode(), context)
        cookie = ""
        if context is not None and context.residents:
            email, password = context.residents[0]
            resident = Client(base)
            try:
                sign_in(resident, email, password)
                cookie = "; ".join(f"{k}={v}" for k, v in resident.http.cookies.items())
            except (JourneyError, OSError) as exc:
                print(f"[{db_kind}] signed-in pages: could not sign in: {exc}")
        for name, path in database.signed_in_paths().items():
            parts.append(
                {
                    "part": name,
                    "kind": "signed-in",
                    "endpoint": "",
                    "method": "GET",
                    "path": path,
                    "cookie": cookie,
                    "status": "measured" if cookie else "no demo tenant could sign in",
                }
            )
        results: dict = {"hello": None, "bare": None, "parts": parts, "mixed": None}

        def bench(
            path: str, method: str = "GET", paths: str = "", seconds: int = 0, cookie: str = ""
        ) -> dict:
            extra = {"WRK_METHOD": method}
            if cookie:
                extra["WRK_COOKIE"] = cookie
            if method == "POST":
                extra.update({"WRK_BODY": "x=1", "WRK_CTYPE": "application/x-www-form-urlencoded"})
            if paths:
                extra["WRK_PATHS"] = paths
            # a short warm-up, then the measured run
            wrk(base + path, 1, args.connections, extra)
            return wrk(base + path, seconds or args.seconds, args.connections, extra)

        def bench_bare() -> dict:
            wrk(bare_base + "/", 1, args.connections, {})
            return wrk(bare_base + "/", args.seconds, args.connections, {})

        # The machine may be shared, so its speed drifts: the bare Flask app and the portal's
        # empty route are measured right before each part, and each part is compared with the
        # runs next to it.
        hello_runs, bare_runs = [], []
        for part in parts:
            if part["status"] != "measured" or part["kind"] == "journey":
                if part["status"] != "measured":
                    print(f"[{db_kind}] {part['part']}: {part['status']}")
                continue
            part["bare"] = bench_bare()
            bare_runs.append(part["bare"])
            part["hello"] = bench("/_bench/hello")
            hello_runs.append(part["hello"])
            part["result"] = bench(part["path"], part["method"], cookie=part.get("cookie", ""))
            r, h, b = part["result"], part["hello"], part["bare"]
            print(
                f"[{db_kind}] {part['part']}: {r['rps']} req/s = {r['rps'] / b['rps']:.0%} of "
                f"bare Flask ({b['rps']}), {r['rps'] / h['rps']:.0%} of /_bench/hello "
                f"({h['rps']}); p95 {r['p95_ms']} ms, 5xx {r['s5xx']}"
            )
        results["hello"] = max(hello_runs, key=lambda r: r["rps"])
        results["hello_runs"] = [h["rps"] for h in hello_runs]
        results["bare"] = max(bare_runs, key=lambda r: r["rps"])
        results["bare_runs"] = [b["rps"] for b in bare_runs]

        # Journeys: --connections clients each, signed in once where the journey needs it
        # (outside the timed window), then a one-second warm-up and the measured run.
        journeys = [p for p in parts if p["kind"] == "journey" and p["status"] == "measured"]
        if args.no_journeys:
            for part in journeys:
                part["status"] = "not run (--no-journeys)"
            journeys = []
        prepared = {}
        for part in journeys:
            journey = JOURNEY_BY_PART[part["part"]]
            try:
                clients = prepare_clients(base, journey, context, args.connections, Recorder())
            except (JourneyError, OSError) as exc:
                part["status"] = f"could not set up its clients: {exc}"
                print(f"[{db_kind}] {part['part']}: {part['status']}")
                continue
            prepared[part["part"]] = clients
            drive(journey, context, clients, 1, Recorder())
            recorder = Recorder()
            for client in clients:
                client.recorder = recorder
            part["result"] = drive(journey, context, clients, args.seconds, recorder)
            r = part["result"]
            print(
                f"[{db_kind}] {part['part']}: {r['journeys']['completed']} journeys "
                f"({r['journeys']['per_second']}/s, p95 {r['journeys']['p95_ms']} ms); "
                f"{r['step']['name']} {r['step']['rps']} req/s, p95 {r['step']['p95_ms']} ms; "
                f"all POSTs p95 {r['posts']['p95_ms']} ms; 5xx {r['s5xx']}; "
                f"failed {r['failed_journeys']} {r['failures']}"
            )

        # Mixed: wrk cycles through every measured single-request part while one client of each
        # journey runs its journey, all at once for the same number of seconds.
        measured = [
            p
            for p in parts
            if p["status"] == "measured" and p["kind"] not in ("journey", "signed-in")
        ]
        mixed_paths = " ".join(
            (f"POST:{p['path']}" if p["method"] == "POST" else p["path"]) for p in measured
        )
        mixed_journeys: dict[str, dict] = {}

        def mixed_journey(part: dict) -> None:
            journey = JOURNEY_BY_PART[part["part"]]
            recorder = Recorder()
            clients = prepared[part["part"]][:1]
            clients[0].recorder = recorder
            mixed_journeys[part["part"]] = drive(
                journey, context, clients, args.seconds + 1, recorder
            )

        journeys = [p for p in journeys if p["status"] == "measured"]
        threads = [threading.Thread(target=mixed_journey, args=(p,)) for p in journeys]
        for thread in threads:
            thread.start()
        results["mixed"] = bench("/", paths=mixed_paths)
        for thread in threads:
            thread.join()
        results["mixed_parts"] = [p["part"] for p in measured]
        results["mixed_journeys"] = mixed_journeys
        print(f"[{db_kind}] mixed: {results['mixed']}")
        for name, r in mixed_journeys.items():
            print(
                f"[{db_kind}] mixed, {name}: {r['journeys']['completed']} journeys, "
                f"{r['step']['name']} p95 {r['step']['p95_ms']} ms, 5xx {r['s5xx']}, "
                f"failed {r['failed_journeys']} {r['failures']}"
            )
    finally:
        if bare is not None and bare.poll() is None:
            bare.send_signal(signal.SIGTERM)
            try:
                bare.wait(timeout=20)
            except subprocess.TimeoutExpired:
                bare.kill()
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        database.drop()
    log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    results["server_log"] = {
        "database_is_locked": log_text.count("database is locked"),
        "status_5xx": len(re.findall(r'"status": 5\d\d', log_text)),
        "tracebacks": log_text.count("Traceback"),
    }
    shutil.rmtree(workdir, ignore_errors=True)
    return results


def verdicts(results: dict) -> list[tuple[str, bool, str]]:
    checks = []
    for part in results["parts"]:
        r = part.get("result")
        if not r:
            continue
        bare = (part.get("bare") or {}).get("rps")
        if bare and part["kind"] in ("page", "search", "signed-in"):
            target = SIGNED_IN_BARE_SHARE if part["kind"] == "signed-in" else ANONYMOUS_BARE_SHARE
            checks.append(
                (
                    f"{part['part']}: ≥ {target:.0%} of the bare Flask app's req/s (issue 17)",
                    r["rps"] / bare >= target,
                    f"{r['rps'] / bare:.0%} ({r['rps']} of {bare} just before)",
                )
            )
        if bare and part.get("hello"):
            hello_share = part["hello"]["rps"] / bare
            checks.append(
                (
                    f"the portal's empty route before {part['part']}: ≥ "
                    f"{EMPTY_ROUTE_BARE_SHARE:.0%} of the bare Flask app (issue 17)",
                    hello_share >= EMPTY_ROUTE_BARE_SHARE,
                    f"{hello_share:.0%} ({part['hello']['rps']} of {bare})",
                )
            )
        if part["kind"] in ("page", "search"):
            hello = part["hello"]["rps"]
            checks.append(
                (
                    f"{part['part']}: p95 ≤ {PAGE_P95_MS:g} ms",
                    r["p95_ms"] <= PAGE_P95_MS,
                    f"{r['p95_ms']} ms",
                )
            )
            share = r["rps"] / hello if hello else 0
            checks.append(
                (
                    f"{part['part']}: ≥ {PAGE_RPS_SHARE:.0%} of hello's req/s",
                    share >= PAGE_RPS_SHARE,
                    f"{share:.0%} ({r['rps']} of hello's {hello} just before)",
                )
            )
        if part["kind"] == "journey":
            journey = JOURNEY_BY_PART[part["part"]]
            if journey.budget == "form_post":
                checks.append(
                    (
                        f"{part['part']}: every POST p95 ≤ {FORM_POST_P95_MS:g} ms",
                        r["posts"]["p95_ms"] <= FORM_POST_P95_MS,
                        f"{r['posts']['p95_ms']} ms over {r['posts']['requests']} POSTs "
                        f"({r['step']['name']} {r['step']['p95_ms']} ms)",
                    )
                )
            checks.append(
                (
                    f"{part['part']}: every journey completed",
                    r["failed_journeys"] == 0 and r["journeys"]["completed"] > 0,
                    f"{r['journeys']['completed']} completed, {r['failed_journeys']} failed",
                )
            )
    mixed_journeys = list(results.get("mixed_journeys", {}).values())
    failed = sum(r["failed_journeys"] for r in mixed_journeys)
    if mixed_journeys:
        checks.append(("mixed: every journey completed", failed == 0, f"{failed} failed"))
    runs = [p["result"] for p in results["parts"] if p.get("result")] + [results["mixed"]]
    five = (
        sum(r["s5xx"] for r in runs)
        + sum(r["s5xx"] for r in mixed_journeys)
        + results["server_log"]["status_5xx"]
    )
    checks.append(("zero 5xx (wrk, the journey clients and the server log)", five == 0, str(five)))
    locked = results["server_log"]["database_is_locked"]
    checks.append(('zero "database is locked" in the server log', locked == 0, str(locked)))
    return checks


def render_section(all_results: dict) -> str:
    lines = [
        "## Load test",
        "",
        "`python benchmarks/load/run.py --db sqlite` and `--db postgres` (one command each; "
        "re-run them after new slices land: each workload part runs when its endpoint exists). "
        "Two gunicorn sync workers serve `benchmarks/load/wsgi_bench.py` (the portal plus a bare "
        "`/_bench/hello` route and a minimal transactional POST) on loopback; two more serve the "
        "bare Flask app `benchmarks/services/hello.py`, the yardstick. The database is "
        "fresh: migrations plus `flask demo load`. Request logs are on (JSON, INFO), as in "
        "production.",
        "",
        "- **Single requests** (public pages, searches, the health check, the transactional "
        "POST): wrk (1 thread, the same connections and seconds for every part) measures each "
        "part alone, with the bare Flask app and the portal's empty route `/_bench/hello` "
        "measured the same way just before it; each part's share of both is given.",
        "- **Signed-in pages** (My council, a service page, a form's start page, the repairs "
        "start page, a planning application): the same, with the cookie of a demo tenant signed "
        "in through the real form.",
        "- **Journeys** (forms, payments, the webhook, repair booking, alert sign-up): "
        "`benchmarks/load/journeys.py` drives each like a browser, as many clients as wrk has "
        "connections, for the same seconds: it reads each page's CSRF token, posts the form, "
        "follows the redirects, uploads the photo as multipart data, signs in for real once per "
        "client (repairs), signs webhook events with the `stripe` library against the bench's "
        "webhook secret, and reads the alert's confirmation link from the queued email. It "
        "times every request, the measured POST step and the whole journey.",
        "- **Mixed**: wrk cycles through every single-request part while one client of each "
        "journey runs it, all at once.",
        '- Afterwards the server log is searched for 5xx and "database is locked".',
        "",
        "Bench-only settings: `PORTAL_RATELIMIT_ENABLED=false` (the limits count per client "
        "address and account, and all of this load comes from one loopback address and three "
        "demo tenants, so the portal would rightly refuse it within seconds; the limits' own "
        "tests are in `tests/accounts` and `tests/reliability`), `PORTAL_STRIPE_WEBHOOK_SECRET` "
        "(a random secret per run; the sandbox gateway stays in use because no Stripe key is "
        "set), `PORTAL_BASE_URL` (the bench's own address, where the sandbox gateway sends the "
        "payer back). The journey clients are Python threads on the same machine as the "
        "server, so their own CPU time is part of what they measure.",
        "",
    ]
    for key, results in sorted(
        all_results.items(), key=lambda kv: (kv[0].endswith("cache"), kv[0])
    ):
        m = results["machine"]
        db_kind = key.removesuffix("-no-page-cache")
        title = "SQLite" if db_kind == "sqlite" else "PostgreSQL"
        if key.endswith("-no-page-cache"):
            title += ", page caches off (`--no-page-cache`: every page rendered for every request)"
        lines += [
            f"### {title}",
            "",
            f"Run {results['date']} on {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory "
            f"(`free -h` total), Python {m['python']}; load average before the run "
            f"{m['load_before']} (1, 5 and 15 minutes). {results['connections']} connections, "
            f"{results['seconds']} s per part."
            + (
                (
                    " Redis for rate limits and the queue."
                    if results.get("ratelimit_enabled", True)  # runs before journeys had them on
                    else " Redis for the job queue."
                )
                if results.get("redis")
                else ""
            ),
            "",
            "| part | request | req/s | bare Flask req/s just before | share of bare Flask "
            "| /_bench/hello req/s just before | share of /_bench/hello "
            "| p50 ms | p95 ms | p99 ms | 5xx |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        b = results.get("bare")
        if b:
            lines.append(
                f"| bare Flask app (best of its runs) | `GET /` (`benchmarks/services/hello.py`) "
                f"| {b['rps']} | | | | | {b['p50_ms']} | {b['p95_ms']} | {b['p99_ms']} "
                f"| {b['s5xx']} |"
            )
        h = results["hello"]
        share = f"{h['rps'] / b['rps']:.0%}" if b else ""
        lines.append(
            f"| the portal's empty route (best of its runs) | `GET /_bench/hello` | {h['rps']} "
            f"| | {share} | | | {h['p50_ms']} | {h['p95_ms']} | {h['p99_ms']} | {h['s5xx']} |"
        )
        for part in results["parts"]:
            r = part.get("result")
            if r and part["kind"] != "journey":
                hello = (part.get("hello") or results["hello"])["rps"]
                bare = (part.get("bare") or {}).get("rps")
                bare_cells = f"{bare} | {r['rps'] / bare:.0%}" if bare else " | "
                lines.append(
                    f"| {part['part']} | `{part['method']} {part['path']}` | {r['rps']} | "
                    f"{bare_cells} | {hello} | {r['rps'] / hello:.0%} | "
                    f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['s5xx']} |"
                )
        x = results["mixed"]
        label = (
            "all single-request parts in turn, with the journeys below running"
            if results.get("mixed_journeys")
            else "all measured parts in turn"
        )
        lines.append(
            f"| **mixed** ({label}) "
            f"| | {x['rps']} | | | | | {x['p50_ms']} | {x['p95_ms']} | {x['p99_ms']} "
            f"| {x['s5xx']} |"
        )
        journeys = [p for p in results["parts"] if p["kind"] == "journey" and p.get("result")]
        if journeys:
            lines += [
                "",
                "Journeys (step: the measured POST; POSTs: every POST of the journey; journey: "
                "first request to last, redirects followed):",
                "",
                "| part | step | step req/s | step p50 / p95 / p99 ms | POSTs p95 ms | "
                "journeys/s | journey p50 / p95 ms | requests/s | 5xx | failed |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for part in journeys:
                r = part["result"]
                st, jn = r["step"], r["journeys"]
                lines.append(
                    f"| {part['part']} | {st['name']} | {st['rps']} | "
                    f"{st['p50_ms']} / {st['p95_ms']} / {st['p99_ms']} | {r['posts']['p95_ms']} | "
                    f"{jn['per_second']} | {jn['p50_ms']} / {jn['p95_ms']} | {r['rps']} | "
                    f"{r['s5xx']} | {r['failed_journeys']} |"
                )
            for name, r in results.get("mixed_journeys", {}).items():
                st, jn = r["step"], r["journeys"]
                lines.append(
                    f"| {name} (**mixed**, 1 client) | {st['name']} | {st['rps']} | "
                    f"{st['p50_ms']} / {st['p95_ms']} / {st['p99_ms']} | {r['posts']['p95_ms']} | "
                    f"{jn['per_second']} | {jn['p50_ms']} / {jn['p95_ms']} | {r['rps']} | "
                    f"{r['s5xx']} | {r['failed_journeys']} |"
                )
        lines += ["", "Not measured in this run:", ""]
        skipped = [p for p in results["parts"] if p["status"] != "measured"]
        lines += [f"- {p['part']} (`{p['endpoint']}`): {p['status']}" for p in skipped] or [
            "- none"
        ]
        lines += ["", "| budget | met | measured |", "|---|---|---|"]
        for label, ok, value in results["verdicts"]:
            lines.append(f"| {label} | {'yes' if ok else '**no**'} | {value} |")
        lines.append("")
    return "\n".join(lines)


def write_docs() -> None:
    all_results = {}
    for path in sorted(RESULTS.glob("*.json")):
        all_results[path.stem] = json.loads(path.read_text())
    section = render_section(all_results)
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    pattern = re.compile(r"^## Load test\n.*?(?=^## |\Z)", re.S | re.M)
    found = pattern.search(text)
    if found:
        # A hand-written "### Findings" subsection (the causes of any gap) is kept as it is.
        old = found.group(0)
        if FINDINGS in old:
            section += "\n" + old[old.index(FINDINGS) :].rstrip("\n") + "\n"
        text = pattern.sub(lambda _m: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text.rstrip("\n") + "\n")
    print(f"wrote the Load test section of {DOC.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="used with --db postgres (the production profile); empty for none",
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--no-journeys",
        action="store_true",
        help="single requests and signed-in pages only (a short run on a shared machine)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="turn the anonymous-visitor page caches off (results in <db>-no-page-cache.json)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="measure nothing: rewrite the Load test section from the results files present",
    )
    args = parser.parse_args()
    if args.write_docs:
        write_docs()
        return 0
    if not args.db:
        parser.error("--db is required (or --write-docs)")
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    machine_info = machine()
    results = measure(args.db, args)
    results.update(
        {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine_info,
            "seconds": args.seconds,
            "connections": args.connections,
            "redis": bool(args.redis_url) and args.db == "postgres",
            "ratelimit_enabled": False,  # see bench_env
            "page_cache": not args.no_page_cache,
        }
    )
    results["verdicts"] = verdicts(results)
    RESULTS.mkdir(exist_ok=True)
    name = f"{args.db}-no-page-cache" if args.no_page_cache else args.db
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    for label, ok, value in results["verdicts"]:
        print(f"{'PASS' if ok else 'MISS'}  {label}: {value}")
    if not args.no_docs:
        write_docs()
    return 0 if all(ok for _, ok, _ in results["verdicts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
