"""PostgreSQL restarted mid-run: /healthz answers 503 while it is down, and the same gunicorn
processes answer 200 again once it is back (pool_pre_ping replaces the dead connections).

Uses a private PostgreSQL cluster started in a temporary folder on a free port, never the shared
server on 5432.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import migrate_database
from tests.reliability.conftest import Gunicorn, http, portal_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]


def _pg_bin(name: str) -> str | None:
    for candidate in [
        f"/usr/local/bin/{name}",
        *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")),
    ]:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


class PrivateCluster:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            pytest.skip("initdb/pg_ctl not found (/usr/local/bin, /usr/lib/postgresql/*/bin)")
        from tests.reliability.conftest import free_port

        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            runuser = shutil.which("runuser")
            if not runuser:
                pytest.skip("running as root without runuser: cannot start PostgreSQL")
            shutil.chown(self.root, "postgres", "postgres")
            self.as_user = [runuser, "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=2"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}")

    def init(self) -> None:
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_cluster():
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def test_postgres_restart_gives_503_then_recovers_without_restarting_the_portal(
    private_cluster, gunicorn_servers, tmp_path
):
    migrate_database(private_cluster.url, tmp_path / "migrate")
    server = Gunicorn(
        portal_env(tmp_path / "node", private_cluster.url, ratelimit_enabled="false"),
        tmp_path / "gunicorn.log",
        workers=2,
    )
    gunicorn_servers.append(server.start())
    master, workers = server.proc.pid, server.worker_pids()

    # Warm both workers' connection pools, so the restart leaves them holding dead connections.
    for _ in range(10):
        assert http("GET", server.url + "/healthz")[0] == 200

    seen: list[tuple[float, int | str]] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                status = http("GET", server.url + "/healthz", timeout=5)[0]
            except Exception as exc:  # a refused or cut-off connection is recorded, not raised
                status = type(exc).__name__
            seen.append((time.monotonic(), status))
            time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        time.sleep(0.5)
        private_cluster.stop()
        down_at = time.monotonic()
        time.sleep(2)
        down = [http("GET", server.url + "/healthz", timeout=5)[0] for _ in range(6)]
        private_cluster.start()
        up_at = time.monotonic()
        recovered = None
        while time.monotonic() < up_at + 20:
            if http("GET", server.url + "/healthz", timeout=5)[0] == 200:
                recovered = time.monotonic() - up_at
                break
            time.sleep(0.1)
        after = [http("GET", server.url + "/healthz", timeout=5)[0] for _ in range(10)]
    finally:
        stop.set()
        poller.join()

    print(f"\nback to 200 {recovered:.2f}s after PostgreSQL started again" if recovered else "")
    assert down == [503] * 6
    assert recovered is not None, "the portal did not recover within 20s"
    assert after == [200] * 10, "every worker's pool recovered (pool_pre_ping)"
    statuses = {status for _, status in seen}
    assert statuses <= {200, 503}, f"only 200 or 503, never an error page or a hang: {statuses}"
    assert any(s == 503 for t, s in seen if down_at < t < up_at)
    assert server.proc.pid == master and server.proc.poll() is None
    assert server.worker_pids() == workers, "no worker was restarted"
