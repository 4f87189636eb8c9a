"""The systemd units in deploy/systemd/ start commands that exist, in the documented order."""

from __future__ import annotations

import configparser
import shlex
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from portal.config import Settings

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
VENV = Path(sys.executable).parent.parent
# Variables the Makefile reads, besides the portal's own settings.
MAKE_VARIABLES = {"BIND", "PORT", "WORKER_ARGS"}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("portal-migrate.service", "migrate"),
        ("portal-web.service", "serve"),
        ("portal-worker.service", "worker"),
    ],
)
def test_each_unit_runs_a_make_target_that_exists(name: str, target: str):
    service = unit(name)["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/usr/bin/make" and command[-1] == target
    assert service["EnvironmentFile"] == "/etc/portal/portal.env"
    assert service["WorkingDirectory"] == "/srv/portal"
    # The target exists and runs from the installed .venv (a dry run: nothing is started).
    result = subprocess.run(
        ["make", "-n", "-C", str(ROOT), target, f"VENV={VENV}"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert f"{VENV}/bin/" in result.stdout
    assert "pip install" not in result.stdout  # no network needed at boot


def test_migrations_run_once_before_the_web_and_worker_services():
    migrate = unit("portal-migrate.service")
    assert migrate["Service"]["Type"] == "oneshot"
    for name in ("portal-web.service", "portal-worker.service"):
        service = unit(name)
        assert "portal-migrate.service" in service["Unit"]["After"]
        assert service["Service"]["Restart"] == "always"
    serve = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "serve", f"VENV={VENV}", "BIND=10.0.0.11"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "db upgrade" not in serve and "--bind 10.0.0.11:5000" in serve
    assert "--access-logfile" not in serve


def test_the_example_environment_file_names_only_real_settings():
    known = {f"PORTAL_{f.name.upper()}" for f in fields(Settings)} | MAKE_VARIABLES
    lines = (UNITS / "portal.env.example").read_text().splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert "PORTAL_SECRET_KEY" in names and "PORTAL_ENV" in names
    assert set(names) <= known, set(names) - known
