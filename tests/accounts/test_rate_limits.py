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
from sqlalchemy import select

from portal.common.models import AuditEvent
from portal.extensions import db
from tests.accounts.helpers import PASSWORD, emails_to, link_in, user_with_password
from tests.conftest import PG_URL
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token, error_summary

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


# Sign-in counts failures only; the locked account's owner gets in with an emailed link --------


def _sign_in(client, email, password, ip):  # noqa: ANN001, ANN202
    token = csrf_token(client, "/sign-in")
    return client.post(
        "/sign-in",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_successful_sign_ins_do_not_count_against_a_shared_address(limited_app):
    user = user_with_password(limited_app, "library-user@example.com")
    for _ in range(11):  # more than the limit, all from the library's one address
        response = _sign_in(limited_app.test_client(), user.email, PASSWORD, "10.9.0.1")
        assert response.status_code == 302
    client = limited_app.test_client()
    statuses = [
        _sign_in(client, f"x{n}@example.com", "", "10.9.0.1").status_code for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]


def test_a_locked_account_owner_signs_in_with_an_emailed_link(limited_app):
    user = user_with_password(limited_app, "locked@example.com")
    attacker = limited_app.test_client()
    for n in range(12):
        _sign_in(attacker, user.email, "", f"10.8.0.{n + 1}")
    owner = limited_app.test_client()
    response = _sign_in(owner, user.email, PASSWORD, "10.8.1.1")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 300
    soup = check_html(response)
    assert "Too many attempts to sign in" in soup.h1.get_text()
    form = soup.find("form", action="/sign-in/email-link")
    assert form is not None and form.find("input", attrs={"name": "email"})["value"] == user.email
    with limited_app.app_context():
        locks = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sign_in.locked_account")
        ).all()
        assert [(e.object_type, e.object_id) for e in locks] == [("user", str(user.id))]

    token = csrf_token(owner, "/sign-in")
    response = owner.post(
        "/sign-in/email-link",
        data={"csrf_token": token, "email": user.email},
        environ_base={"REMOTE_ADDR": "10.8.1.1"},
    )
    assert response.status_code == 302
    check_html(owner.get(response.headers["Location"]))
    (email,) = [e for e in emails_to(limited_app, user.email) if "sign in" in e.subject.lower()]
    link = link_in(email)
    check_html(owner.get(link))  # a button; a GET signs nobody in
    assert owner.get("/my").status_code == 302
    response = owner.post(link, data={"csrf_token": csrf_token(owner, link)})
    assert response.status_code == 302 and response.headers["Location"] == "/my"
    assert owner.get("/my").status_code == 200
    assert limited_app.test_client().get(link).status_code == 404  # single use
    # The lock on the account is lifted for its owner's password too.
    response = _sign_in(limited_app.test_client(), user.email, PASSWORD, "10.8.1.2")
    assert response.status_code == 302


def test_sign_in_links_are_limited_and_say_nothing_about_accounts(limited_app):
    client = limited_app.test_client()
    token = csrf_token(client, "/sign-in")
    statuses = []
    for _ in range(4):
        response = client.post(
            "/sign-in/email-link",
            data={"csrf_token": token, "email": "nobody@example.com"},
            environ_base={"REMOTE_ADDR": "10.7.0.1"},
        )
        statuses.append(response.status_code)
    assert statuses == [302] * 3 + [429]
    assert emails_to(limited_app, "nobody@example.com") == []
    bad = client.post(
        "/sign-in/email-link",
        data={"csrf_token": token, "email": "not an address"},
        environ_base={"REMOTE_ADDR": "10.7.0.2"},
    )
    assert bad.status_code == 400 and error_summary(check_html(bad))


# Production refuses to start without shared rate-limit storage --------------------------------


def test_production_without_redis_is_refused(tmp_path):
    from portal import create_app
    from portal.config import ConfigurationError, Settings

    settings = Settings(env="production", secret_key="x" * 32, instance_path=str(tmp_path))
    with pytest.raises(ConfigurationError, match="PORTAL_REDIS_URL"):
        create_app(settings=settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_ENV="production",
        PORTAL_SECRET_KEY="x" * 32,
        PORTAL_INSTANCE_PATH=str(tmp_path),
        PORTAL_EMBEDDED_WORKER="0",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "The portal cannot start" in result.stderr and "PORTAL_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr
