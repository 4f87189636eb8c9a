"""Real processes for the fault tests: gunicorn servers, a Huey consumer, databases to share.

The services come from the same variables as the rest of the suite: PostgreSQL from
PORTAL_TEST_DATABASE_URL (each test gets its own schema), Redis from PORTAL_REDIS_URL. Without
them a test that needs them is skipped with the reason printed (`-ra`).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.config import normalise_database_url
from tests.conftest import PG_URL, REDIS_URL, migrate_database

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "reliability-secret-key-shared-by-every-node"
# The take-up kind written by wsgi_app's record route. Tests must not import wsgi_app: it builds
# an app at import and marks its routes CSRF-exempt on the shared CSRFProtect.
RECORD_KIND = "reliability-test"


def need_postgres() -> None:
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set PORTAL_TEST_DATABASE_URL (CI does when 5432 answers)")


def need_redis() -> None:
    if not REDIS_URL:
        pytest.skip("needs Redis: set PORTAL_REDIS_URL (CI does when 6379 answers)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bin_path(name: str) -> str:
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


@dataclass
class Database:
    url: str
    kind: str  # "postgresql" or "sqlite"

    def engine(self) -> sa.Engine:
        return sa.create_engine(normalise_database_url(self.url))

    def scalar(self, sql: str, **params: object) -> object:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql), params).scalar()
        finally:
            engine.dispose()

    def rows(self, sql: str, **params: object) -> list[tuple]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def execute(self, sql: str, **params: object) -> None:
        engine = self.engine()
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(sql), params)
        finally:
            engine.dispose()


@contextmanager
def database_in(tmp_path: Path) -> Iterator[Database]:
    """A migrated database that separate processes can share: a PostgreSQL schema of its own
    when PORTAL_TEST_DATABASE_URL is set, otherwise a SQLite file."""
    instance = tmp_path / "migrate-instance"
    instance.mkdir()
    if PG_URL:
        schema = f"portal_rel_{os.getpid()}_{secrets.token_hex(3)}"
        base = normalise_database_url(PG_URL)
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        joiner = "&" if "?" in base else "?"
        url = f"{base}{joiner}options=-csearch_path%3D{schema}"
        migrate_database(url, instance)
        yield Database(url, "postgresql")
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
        return
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate_database(url, instance)
    yield Database(url, "sqlite")


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[Database]:
    with database_in(tmp_path) as database:
        yield database


def portal_env(instance: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a portal process (production-like: no immediate jobs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_ENV": "development",
            "PORTAL_SECRET_KEY": SECRET_KEY,
            "PORTAL_INSTANCE_PATH": str(instance),
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_EMBEDDED_WORKER": "false",
            "PORTAL_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({f"PORTAL_{k.upper()}": v for k, v in settings.items()})
    instance.mkdir(parents=True, exist_ok=True)
    return env


def http(
    method: str,
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, bytes]:
    """One request; (status, body). Connection failures raise OSError."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Gunicorn:
    """A gunicorn master serving `app_module` on a free loopback port."""

    env: dict[str, str]
    log: Path
    workers: int = 2
    app_module: str = "tests.reliability.wsgi_app:app"
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Gunicorn:
        self._log = open(self.log, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [
                bin_path("gunicorn"),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "--timeout",
                "30",
                *self.extra_args,
                self.app_module,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_text()[-3000:]}")
            try:
                status, _ = http("GET", self.url + "/_reliability/hello", timeout=2)
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout}s:\n{self.log_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the parent pid is the 2nd field after the parenthesised command name
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # quick shutdown: tests need no grace
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()


@pytest.fixture(scope="module")
def module_servers() -> Iterator[list[Gunicorn]]:
    servers: list[Gunicorn] = []
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def gunicorn_servers() -> Iterator[list[Gunicorn]]:
    """Servers a test starts are stopped afterwards, even when it fails."""
    servers: list[Gunicorn] = []
    yield servers
    for server in servers:
        server.stop()
