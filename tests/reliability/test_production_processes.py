"""The production processes as `make serve` and `make worker` start them: where their logs go,
and what they refuse."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import (
    ROOT,
    VENV_BIN,
    bin_path,
    free_port,
    http,
    portal_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]


def make_dry_run(target: str, **variables: str) -> str:
    """The commands `make <target>` would run (nothing is run)."""
    args = [f"{name}={value}" for name, value in variables.items()]
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-C",
            str(ROOT),
            target,
            f"VENV={VENV_BIN.parent}",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_make_serve_logs_each_request_once_as_json_on_stdout(shared_database, tmp_path: Path):
    port = free_port()
    (command,) = [
        line
        for line in make_dry_run("serve", PORT=str(port)).splitlines()
        if line.startswith(str(VENV_BIN / "gunicorn"))
    ]
    assert "db upgrade" not in make_dry_run("serve") and "pip" not in make_dry_run("serve")
    env = portal_env(tmp_path / "node", shared_database.url, log_level="INFO")
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with open(out, "wb") as out_file, open(err, "wb") as err_file:
        proc = subprocess.Popen(
            shlex.split(command), cwd=ROOT, env=env, stdout=out_file, stderr=err_file
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, _ = http("GET", f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except OSError:
                    assert proc.poll() is None, err.read_text()
                    assert time.monotonic() < deadline, "gunicorn did not answer"
                    time.sleep(0.2)
            request_id = "3f2c9a64-5b1e-4c1d-9a0e-7d2b8c6f1e11"
            status, _ = http(
                "GET",
                f"http://127.0.0.1:{port}/confirm-email/secret-link-token-123",
                headers={"X-Request-Id": request_id},
            )
        finally:
            _stop(proc)
    stdout, stderr = out.read_text(), err.read_text()
    mentions = [line for line in (stdout + stderr).splitlines() if request_id in line]
    assert len(mentions) == 1, mentions  # no second (access log) line
    line = json.loads(mentions[0])
    assert mentions[0] in stdout.splitlines()
    assert line["path"] == "/confirm-email/[redacted]" and line["status"] == status
    assert "secret-link-token-123" not in stdout + stderr


def test_the_worker_prints_each_message_once(shared_database, tmp_path: Path):
    env = portal_env(tmp_path / "worker", shared_database.url, log_level="INFO")
    (command,) = [
        line
        for line in make_dry_run("worker").splitlines()
        if line.startswith(str(VENV_BIN / "huey_consumer"))
    ]
    log = tmp_path / "worker.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            shlex.split(command), cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while "The following commands are available" not in log.read_text():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            time.sleep(1)
        finally:
            _stop(proc)
    lines = [line for line in log.read_text().splitlines() if "consumer started with" in line]
    assert len(lines) == 1, log.read_text()
    executing = [line for line in log.read_text().splitlines() if "Executing portal." in line]
    task_ids = {line.rsplit(" ", 1)[-1] for line in executing}
    assert executing and len(executing) == len(task_ids), executing  # each run printed once


def test_production_without_a_secret_key_refuses_to_start(tmp_path: Path):
    env = portal_env(tmp_path / "node", f"sqlite:///{tmp_path / 'p.db'}", env="production")
    del env["PORTAL_SECRET_KEY"]
    flask = subprocess.run(
        [bin_path("flask"), "--app", "portal", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert flask.returncode != 0
    assert "PORTAL_SECRET_KEY is not set" in flask.stderr
    port = free_port()
    gunicorn = subprocess.run(
        [bin_path("gunicorn"), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gunicorn.returncode != 0
    assert "PORTAL_SECRET_KEY is not set" in gunicorn.stderr
    assert not (tmp_path / "node" / "secret_key").exists()  # no per-node key was made


def test_make_serve_fails_clearly_without_an_installed_venv(tmp_path: Path):
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "serve", f"VENV={tmp_path / 'none'}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "run 'make install'" in result.stderr
    assert not (tmp_path / "none").exists()  # nothing was installed
