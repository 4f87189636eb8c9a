"""`make run` on another port gives out links on that port."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from portal.config import PROJECT_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _dry_run(port: str, base_url: str | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PORTAL_BASE_URL", "PORT"}}
    if base_url is not None:
        env["PORTAL_BASE_URL"] = base_url
    out = subprocess.run(
        ["make", "-n", "run", f"PORT={port}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if "flask --app portal" in line]


def test_make_run_sets_the_base_url_from_the_port():
    commands = _dry_run("5100")
    assert len(commands) == 3  # db upgrade, demo load, serve
    for command in commands:
        assert "PORTAL_BASE_URL=http://127.0.0.1:5100 " in command, command
    assert "--port 5100" in commands[-1]


def test_make_run_keeps_a_base_url_that_is_set():
    commands = _dry_run("5100", "https://www.castlebrook.example")
    for command in commands:
        assert "PORTAL_BASE_URL=https://www.castlebrook.example " in command, command
