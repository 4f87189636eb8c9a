"""Rate limits on the account forms, in one process (memory storage) and across 2 gunicorn
workers sharing Redis."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup

from tests.accounts.helpers import user_with_password
from tests.conftest import PG_URL
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def limited_app(make_app):  # noqa: ANN001, ANN201
    return make_app(ratelimit_enabled=True)


def _attempts(client, url, data, count, ip="10.0.0.1"):  # noqa: ANN001, ANN202
    token = csrf_token(client, url)
    statuses = []
    for _ in range(count):
        response = client.post(
            url, data={"csrf_token": token, **data}, environ_base={"REMOTE_ADDR": ip}
        )
        statuses.append(response.status_code)
    return statuses, response


def test_sign_in_is_limited_to_10_in_5_minutes_per_ip(limited_app):
    client = limited_app.test_client()
    statuses = []
    token = csrf_token(client, "/sign-in")
    for n in range(11):
        response = client.post(
            "/sign-in",
            data={"csrf_token": token, "email": f"person{n}@example.com", "password": ""},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        statuses.append(response.status_code)
    assert statuses == [200] * 10 + [429]
    soup = check_html(response)
    assert "Too many attempts" in soup.h1.get_text()
    assert re.search(r"wait \d+ minutes?", soup.get_text())
    assert 0 < int(response.headers["Retry-After"]) <= 300
    # Another address is not affected; GETs are never counted.
    other = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": "a@example.com", "password": ""},
        environ_base={"REMOTE_ADDR": "10.0.0.3"},
    )
    assert other.status_code == 200
    assert client.get("/sign-in", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_sign_in_is_limited_to_10_in_5_minutes_per_account(limited_app):
    client = limited_app.test_client()
    token = csrf_token(client, "/sign-in")
    statuses = []
    for n in range(11):
        response = client.post(
            "/sign-in",
            data={"csrf_token": token, "email": "Target@example.com ", "password": ""},
            environ_base={"REMOTE_ADDR": f"10.1.0.{n + 1}"},  # a different address each time
        )
        statuses.append(response.status_code)
    assert statuses == [200] * 10 + [429]


def test_registration_reset_and_resend_are_limited(limited_app):
    client = limited_app.test_client()
    statuses, _ = _attempts(client, "/register", {"email": "bad"}, 11, ip="10.2.0.1")
    assert statuses == [200] * 10 + [429]
    statuses, _ = _attempts(client, "/forgotten-password", {"email": "bad"}, 6, ip="10.2.0.2")
    assert statuses == [200] * 5 + [429]
    user = user_with_password(limited_app, "resend@example.com")
    signed_in = client_for(limited_app, user)
    token = csrf_token(signed_in, "/sign-out")
    statuses = [
        signed_in.post("/my/resend-confirmation", data={"csrf_token": token}).status_code
        for _ in range(6)
    ]
    assert statuses == [302] * 5 + [429]


# 2 gunicorn workers sharing Redis ------------------------------------------------------------


def _redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _pids(log_path: Path, request_line: str) -> set[str]:
    """The worker pids that answered `request_line` ("METHOD /path"), from the access log."""
    if not log_path.exists():
        return set()
    return {
        line.split()[0]
        for line in log_path.read_text().splitlines()
        if f" {request_line} " in f" {' '.join(line.split()[1:3])} "
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.redis
@pytest.mark.slow
def test_sign_in_limit_holds_exactly_across_two_gunicorn_workers(database_template, tmp_path):
    if not _redis_answers():
        message = "Redis does not answer on 127.0.0.1:6379: the gunicorn rate-limit test needs it"
        print(message)
        pytest.skip(message)
    if PG_URL:
        database_url = database_template
    else:
        shutil.copyfile(database_template, tmp_path / "portal.db")
        database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_SECRET_KEY": "gunicorn-test-secret",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PORTAL_RATELIMIT_ENABLED": "1",
        "PORTAL_RATELIMIT_KEY_PREFIX": f"portal-test-{uuid.uuid4().hex}",
        "PORTAL_EMBEDDED_WORKER": "0",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log_path = tmp_path / "access.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log_path),
            "--access-logformat",
            "%(p)s %(m)s %(U)s %(s)s",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                first = requests.get(base + "/sign-in", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("gunicorn did not start") from None
                time.sleep(0.3)
        # Wait until both workers have booted and answered (the access log names their pids).
        while len(_pids(log_path, "GET /sign-in")) < 2:
            if time.monotonic() > deadline:
                raise AssertionError("the second gunicorn worker never answered")
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(
                    pool.map(
                        lambda _n: requests.get(
                            base + "/sign-in", headers={"Connection": "close"}, timeout=30
                        ),
                        range(4),
                    )
                )
        token = BeautifulSoup(first.text, "html.parser").find(
            "input", attrs={"name": "csrf_token"}
        )["value"]
        cookies = first.cookies.get_dict()
        email = f"limit-{uuid.uuid4().hex[:8]}@example.com"

        def attempt(_n: int) -> int:
            response = requests.post(
                base + "/sign-in",
                data={"csrf_token": token, "email": email, "password": "not the password"},
                cookies=cookies,
                headers={"Connection": "close"},
                allow_redirects=False,
                timeout=60,
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(attempt, range(16)))
        assert sorted(statuses) == [200] * 10 + [429] * 6, statuses
    finally:
        server.terminate()
        server.wait(timeout=30)
    workers = {
        line.split()[0] for line in log_path.read_text().splitlines() if " POST /sign-in " in line
    }
    assert len(workers) == 2, f"both workers answered sign-in attempts: {workers}"
