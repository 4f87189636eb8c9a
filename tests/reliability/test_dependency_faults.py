"""Slow and failing dependencies: Redis or PostgreSQL refusing or hanging for one node.

Each node reaches Redis or PostgreSQL through a relay of the test's own (tests/reliability/relay.py)
that can pass, refuse or accept and never answer. With Redis gone the portal keeps working (rate
limits count in memory, emails wait for the outbox sweep); with PostgreSQL gone pages answer the
branded 503 page quickly; /readyz answers within its time limit however many callers it has.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.reliability.conftest import (
    Gunicorn,
    database_in,
    http,
    need_postgres,
    need_redis,
    portal_env,
)
from tests.reliability.relay import Relay

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

# Short limits so the test is quick; the defaults are in portal/config.py and the README.
# Well inside gunicorn's 30 s, with room for password hashing (scrypt) on a busy machine.
LIMIT = 15
FAST = {
    "redis_connect_timeout": "1",
    "redis_socket_timeout": "1",
    "database_connect_timeout": "2",
    "readyz_timeout": "1.5",
}


def _ward() -> str:
    from portal.common.gazetteer.geography import DEMO_WARD_NAMES

    return DEMO_WARD_NAMES[0]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    need_postgres()
    need_redis()
    with database_in(tmp_path_factory.mktemp("faults-db")) as database:
        yield database


def _relay_for(url: str) -> Relay:
    parts = urlsplit(url)
    return Relay(parts.hostname or "127.0.0.1", parts.port or 0)


def _through(url: str, relay: Relay) -> str:
    """`url` with its host and port replaced by the relay's."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{relay.port}"
    netloc = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
    return parts._replace(netloc=netloc).geturl()


class Browser:
    """Cookies and CSRF tokens across requests to one node, as a browser keeps them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        # a client address of its own (the nodes trust one proxy), so limits never carry over
        self.ip = (
            f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
        )

    def _headers(self) -> dict[str, str]:
        cookies = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookies, "X-Forwarded-For": self.ip}

    def get(self, path: str, timeout: float = 15) -> tuple[int, str]:
        return self._send(
            urllib.request.Request(self.base + path, headers=self._headers()), timeout
        )

    def token(self, path: str) -> str:
        _, page = self.get(path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, f"no CSRF token on {path}"
        return token.group(1)

    def post(
        self, path: str, form: dict, timeout: float = 20, token: str | None = None
    ) -> tuple[int, str]:
        token = token or self.token(path)
        data = urllib.parse.urlencode({"csrf_token": token, **form}, doseq=True).encode()
        headers = {**self._headers(), "Content-Type": "application/x-www-form-urlencoded"}
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        return self._send(request, timeout)

    def _send(self, request: urllib.request.Request, timeout: float) -> tuple[int, str]:
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            response = exc
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name] = value
        return response.status, response.read().decode(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


def timed(func, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    started = time.monotonic()
    result = func(*args, **kwargs)
    return result, time.monotonic() - started


# ---------------------------------------------------------------- Redis


@pytest.fixture(scope="module")
def redis_node(database, module_servers, tmp_path_factory):
    """One node whose Redis (jobs and rate limits) is behind a relay; no worker runs."""
    from tests.conftest import REDIS_URL

    relay = _relay_for(REDIS_URL)
    tmp_path = tmp_path_factory.mktemp("redis-node")
    env = portal_env(
        tmp_path / "node",
        database.url,
        redis_url=_through(REDIS_URL, relay),
        ratelimit_key_prefix=f"faults-{secrets.token_hex(4)}",
        readyz_outbox_stall_seconds="2",
        trusted_proxies="1",
        **FAST,
    )
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=1)
    module_servers.append(server)
    server.start()
    yield server, relay
    relay.close()


def test_with_redis_refusing_forms_work_and_saved_emails_wait_for_the_sweep(redis_node, database):
    server, relay = redis_node
    relay.mode = "refuse"
    browser = Browser(server.url)
    email = f"alerts-{secrets.token_hex(4)}@example.com"

    (status, _), took = timed(
        browser.post, "/sign-in", {"email": "nobody@example.com", "password": "wrong-password"}
    )
    assert status == 200 and took < LIMIT, (status, took)  # the form again: wrong password
    (status, _), took = timed(
        browser.post,
        "/register",
        {
            "display_name": "Resident",
            "email": f"new-{secrets.token_hex(4)}@example.com",
            "password": "a walrus in the marmalade",
        },
    )
    assert status == 302 and took < LIMIT, (status, took)
    (status, _), took = timed(
        browser.post,
        "/planning/alerts",
        {"email": email, "frequency": "instant", "area": "ward", "wards": _ward()},
    )
    assert status == 302 and took < LIMIT, (status, took)
    # Saved once, reported as done; its email waits in the outbox for the sweep.
    assert database.scalar("SELECT count(*) FROM planning_alerts WHERE email = :e", e=email) == 1
    assert database.rows("SELECT status FROM outbox_emails WHERE to_address = :e", e=email) == [
        ("pending",)
    ]

    (status, body), took = timed(http, "GET", server.url + "/readyz")
    assert status == 503 and took < 3, (status, took)
    assert json.loads(body)["redis"] == "unavailable"
    assert "WORKER TIMEOUT" not in server.log_text()


def test_with_redis_refusing_sign_in_is_still_limited_in_memory(redis_node):
    from portal.accounts import ratelimits

    server, relay = redis_node
    relay.mode = "refuse"
    browser = Browser(server.url)
    allowed = int(ratelimits.SIGN_IN.split()[0])
    email = f"guess-{secrets.token_hex(4)}@example.com"
    statuses = [
        browser.post("/sign-in", {"email": email, "password": f"guess-{n}"})[0]
        for n in range(allowed + 2)
    ]
    # The sign-in limit still holds (per worker) while Redis is away: see docs/security.md.
    assert statuses == [200] * allowed + [429] * 2, statuses


def test_with_redis_hanging_requests_answer_within_the_timeouts(redis_node, database):
    server, relay = redis_node
    relay.mode = "hang"
    browser = Browser(server.url)
    email = f"hang-{secrets.token_hex(4)}@example.com"
    (status, _), took = timed(
        browser.post,
        "/planning/alerts",
        {"email": email, "frequency": "daily", "area": "ward", "wards": _ward()},
    )
    assert status == 302 and took < LIMIT, (status, took)
    assert database.scalar("SELECT count(*) FROM planning_alerts WHERE email = :e", e=email) == 1
    (status, _), took = timed(
        browser.post, "/sign-in", {"email": "nobody@example.com", "password": "wrong-password"}
    )
    assert status == 200 and took < LIMIT, (status, took)
    (status, body), took = timed(http, "GET", server.url + "/readyz")
    assert status == 503 and took < 3, (status, took)
    assert json.loads(body)["redis"] in ("timed out", "unavailable")
    # Four at once on this one-worker node: answered one after another, each within its limit.
    (results, took) = timed(
        lambda: list(
            ThreadPoolExecutor(4).map(lambda _: http("GET", server.url + "/readyz"), range(4))
        )
    )
    assert [status for status, _ in results] == [503] * 4 and took < 10, took
    assert http("GET", server.url + "/_reliability/hello", timeout=3)[0] == 200
    assert "WORKER TIMEOUT" not in server.log_text()


def test_readyz_reports_a_stalled_queue(redis_node, database):
    """No worker runs on this node: an email left unsent past the threshold makes /readyz 503."""
    server, relay = redis_node
    relay.mode = "pass"
    browser = Browser(server.url)
    email = f"stalled-{secrets.token_hex(4)}@example.com"
    status, _ = browser.post(
        "/planning/alerts",
        {"email": email, "frequency": "weekly", "area": "ward", "wards": _ward()},
    )
    assert status == 302
    # Due a while ago and never sent (the setting here is 2 seconds).
    database.execute(
        "UPDATE outbox_emails SET next_attempt_at = next_attempt_at - interval '1 minute'"
        " WHERE status = 'pending'"
    )
    request = urllib.request.Request(server.url + "/readyz")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("/readyz answered 200 with a stalled queue")
    except urllib.error.HTTPError as exc:
        assert exc.code == 503
        assert exc.headers["Cache-Control"] == "no-store"
        body = json.loads(exc.read())
    assert body["redis"] == "ok" and body["database"] == "ok"
    assert body["outbox"]["stalled"] is True and body["outbox"]["oldest_due_seconds"] >= 60
    assert any(reason.startswith("queue stalled") for reason in body["reasons"]), body
    # Once sent, the node is ready again.
    database.execute("UPDATE outbox_emails SET status = 'sent' WHERE status = 'pending'")
    status, body = http("GET", server.url + "/readyz", timeout=5)
    assert status == 200, body


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def postgres_node(database, module_servers, tmp_path_factory):
    """A node (two workers) whose PostgreSQL is behind a relay."""
    relay = _relay_for(database.url)
    tmp_path = tmp_path_factory.mktemp("postgres-node")
    env = portal_env(
        tmp_path / "node",
        _through(database.url, relay),
        ratelimit_enabled="false",
        trusted_proxies="1",
        planning_page_cache_seconds="0",
        services_page_cache_seconds="0",
        **FAST,
    )
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2)
    module_servers.append(server)
    server.start()
    yield server, relay
    relay.close()


def _is_branded_503(status: int, body: str) -> bool:
    return status == 503 and "Sorry, the service is unavailable" in body and "govuk-" in body


def test_with_postgres_refusing_pages_answer_the_branded_503(postgres_node):
    server, relay = postgres_node
    relay.mode = "pass"
    assert http("GET", server.url + "/planning")[0] == 200
    relay.mode = "refuse"
    for path in ("/planning", "/planning/weekly"):
        (status, body), took = timed(http, "GET", server.url + path)
        assert _is_branded_503(status, body.decode()), (path, status, body[:300])
        assert took < 5
    relay.mode = "pass"


def test_with_postgres_hanging_readyz_and_pages_answer_quickly_and_the_node_survives(
    postgres_node,
):
    server, relay = postgres_node
    relay.mode = "pass"
    browser = Browser(server.url)
    token = browser.token("/sign-in")
    relay.mode = "hang"
    # One call per worker at once: each answers within its own limit (1.5 s here).
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: timed(http, "GET", server.url + "/readyz"), range(2)))
    for (status, body), took in results:
        assert status == 503 and took < 3, (status, took)
        assert json.loads(body)["database"] != "ok"
    (status, _), took = timed(http, "GET", server.url + "/healthz")
    assert status == 503 and took < 3, (status, took)
    # Three times as many calls as workers: all answered, none ties a worker up.
    (results, took) = timed(
        lambda: list(
            ThreadPoolExecutor(6).map(lambda _: http("GET", server.url + "/readyz"), range(6))
        )
    )
    assert [status for status, _ in results] == [503] * 6 and took < 8, took
    (status, body), took = timed(
        browser.post,
        "/sign-in",
        {"email": "someone@example.com", "password": "a-password"},
        token=token,
    )
    assert _is_branded_503(status, body) and took < LIMIT, (status, took)
    assert http("GET", server.url + "/_reliability/hello", timeout=3)[0] == 200
    relay.mode = "pass"
    deadline = time.monotonic() + 10
    while http("GET", server.url + "/readyz")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert http("GET", server.url + "/planning")[0] == 200
    assert "WORKER TIMEOUT" not in server.log_text()
