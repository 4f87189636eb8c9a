"""Two nodes, one portal: two gunicorn instances on different ports share PostgreSQL, Redis and
the uploads folder, and behave as one portal (sessions, rate limits, uploads, planning alerts).

Each node has its own instance folder (so nothing is shared by accident through it); they share
PORTAL_SECRET_KEY, PORTAL_DATABASE_URL (a schema of their own), PORTAL_REDIS_URL and
PORTAL_UPLOAD_DIR, as docs/operations.md says production nodes must.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import urllib.request
from collections import Counter

import pytest

from portal import create_app
from portal.common.browser_sessions import new_browser_session
from portal.config import Settings
from tests.helpers.auth import make_user, new_session
from tests.reliability.conftest import (
    ROOT,
    SECRET_KEY,
    Gunicorn,
    database_in,
    http,
    need_postgres,
    need_redis,
    portal_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]


@pytest.fixture(scope="module")
def shared_database(tmp_path_factory):
    need_postgres()
    need_redis()
    with database_in(tmp_path_factory.mktemp("two-nodes-db")) as database:
        yield database


@pytest.fixture(scope="module")
def two_nodes(shared_database, module_servers, tmp_path_factory):
    """Started once for the module: starting gunicorn is the slow part."""
    from tests.conftest import REDIS_URL

    tmp_path = tmp_path_factory.mktemp("two-nodes")
    uploads = tmp_path / "shared-uploads"
    nodes = []
    prefix = f"two-nodes-{secrets.token_hex(4)}"
    for name in ("a", "b"):
        env = portal_env(
            tmp_path / f"node-{name}",
            shared_database.url,
            redis_url=REDIS_URL,
            upload_dir=str(uploads),
            jobs_immediate="true",
            trusted_proxies="1",  # as behind the load balancer: X-Forwarded-For is the client
            env="production",  # as deployed: refuses to start without the shared Redis
            ratelimit_key_prefix=prefix,  # the same on both nodes, new for each run
        )
        server = Gunicorn(env, tmp_path / f"gunicorn-{name}.log", workers=1)
        module_servers.append(server)
        nodes.append(server)
    for server in nodes:
        server.start()
    return nodes


def _local_app(database_url: str, tmp_path):
    settings = Settings(
        env="test",
        secret_key=SECRET_KEY,
        instance_path=str(tmp_path / "local"),
        database_url=database_url,
        jobs_immediate=True,
        ratelimit_enabled=False,
    )
    return create_app(settings=settings)


def test_a_resident_signed_in_on_one_node_is_signed_in_on_the_other(
    two_nodes, shared_database, tmp_path
):
    from portal.accounts.sessions import SESSION_KEY, _hash

    node_a, node_b = two_nodes
    app = _local_app(shared_database.url, tmp_path)
    user = make_user(app, email=f"resident-{secrets.token_hex(3)}@example.com")
    token = new_session(app, user)
    # The session cookie as a node signs it: both nodes hold the same PORTAL_SECRET_KEY.
    cookie_value = new_browser_session(app, {SESSION_KEY: token})
    cookie = {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie_value}"}

    for node in (node_a, node_b):
        assert http("GET", node.url + "/_reliability/whoami")[1] == b"anonymous"
        assert (
            http("GET", node.url + "/_reliability/whoami", headers=cookie)[1] == user.email.encode()
        )

    # Signing out (the server-side row revoked) ends it on both nodes at once.
    shared_database.execute(
        "UPDATE user_sessions SET revoked_at = CURRENT_TIMESTAMP WHERE token_hash = :h",
        h=_hash(token),
    )
    for node in (node_a, node_b):
        assert http("GET", node.url + "/_reliability/whoami", headers=cookie)[1] == b"anonymous"


def test_a_rate_limit_is_shared_exactly_between_nodes(two_nodes):
    bucket = {"X-Bucket": f"bucket{secrets.token_hex(6)}"}
    statuses = [
        http("GET", two_nodes[i % 2].url + "/_reliability/limited", headers=bucket)[0]
        for i in range(12)
    ]
    # 5 a minute across the portal, not 5 per node: requests alternate between the nodes.
    assert Counter(statuses) == {200: 5, 429: 7}, statuses
    assert statuses[:5] == [200] * 5


def test_the_sign_in_limit_is_shared_exactly_between_nodes(two_nodes, shared_database, tmp_path):
    """The accounts slice's own sign-in limit (when it exists), counted across both nodes."""
    app = _local_app(shared_database.url, tmp_path)
    if "accounts.sign_in" not in app.view_functions:
        pytest.skip(
            "the accounts slice's sign-in page (accounts.sign_in) is not on this branch yet"
        )
    from portal.accounts import ratelimits

    with app.test_request_context():
        from flask import url_for

        path = url_for("accounts.sign_in")
    allowed = int(ratelimits.SIGN_IN.split()[0])
    client_ip = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    forwarded = {"X-Forwarded-For": client_ip}
    # A CSRF token and its session cookie from node A are good on node B (same secret key).
    page, cookie = _page_and_cookie(two_nodes[0].url + path, forwarded)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    email = f"nobody-{secrets.token_hex(4)}@example.com"
    body = f"csrf_token={token.group(1).decode()}&email={email}&password=wrong-password".encode()
    headers = {**forwarded, "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    statuses = [
        http("POST", two_nodes[i % 2].url + path, data=body, headers=headers)[0]
        for i in range(allowed + 3)
    ]
    # 10 across both nodes, not 10 per node (20): the production nodes share the count in Redis.
    assert statuses[:allowed] == [200] * allowed, statuses  # wrong password: the form again
    assert statuses[allowed:] == [429] * 3, statuses


def test_a_production_node_refuses_to_start_without_shared_storage(shared_database, tmp_path):
    env = portal_env(tmp_path / "node-c", shared_database.url, env="production")
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PORTAL_REDIS_URL" in result.stderr


def _page_and_cookie(url: str, headers: dict[str, str]) -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
        return response.read(), "; ".join(c.split(";", 1)[0] for c in cookies)


def test_an_upload_stored_through_one_node_is_served_by_the_other(two_nodes):
    node_a, node_b = two_nodes
    data = secrets.token_bytes(200_000)
    status, body = http("POST", node_a.url + "/_reliability/upload", data=data)
    assert status == 201
    key = json.loads(body)["key"]
    assert http("GET", node_b.url + f"/_reliability/upload/{key}") == (200, data)
    assert http("GET", node_a.url + f"/_reliability/upload/{key}") == (200, data)


DIGEST_SCRIPT = """
from portal import create_app
from portal.db import write_intent
from portal.extensions import db
from portal.planning.services import send_digests
app = create_app()
with app.app_context(), write_intent():
    print(send_digests("daily"))
    db.session.commit()
"""


def test_a_planning_alert_is_sent_once_when_both_nodes_run_the_digest(
    two_nodes, shared_database, tmp_path
):
    try:
        from portal.planning import services  # noqa: F401
    except ImportError:
        pytest.skip("the planning slice (portal.planning) is not on this branch yet")
    envs = [server.env for server in two_nodes]
    load = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", "demo", "load"],
        cwd=ROOT,
        env={**envs[0], "PORTAL_ENV": "development"},  # demo data is refused in production
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert load.returncode == 0, load.stderr
    # A day has passed: every daily alert is due and every application is new since then.
    from datetime import timedelta

    from sqlalchemy import update

    from portal.common.models import utcnow
    from portal.extensions import db
    from portal.planning.models import PlanningAlert, PlanningApplication

    app = _local_app(shared_database.url, tmp_path)
    with app.app_context():
        two_days_ago, an_hour_ago = utcnow() - timedelta(days=2), utcnow() - timedelta(hours=1)
        db.session.execute(
            update(PlanningAlert).values(
                last_digest_at=None, created_at=two_days_ago, confirmed_at=two_days_ago
            )
        )
        db.session.execute(update(PlanningApplication).values(created_at=an_hour_ago))
        db.session.commit()
    shared_database.execute("DELETE FROM outbox_emails")

    runs = [
        subprocess.Popen(
            [sys.executable, "-c", DIGEST_SCRIPT],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in envs
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    failed = [err for run, (_, err) in zip(runs, outputs, strict=True) if run.returncode != 0]
    # Both nodes ran the digest at once: one may lose the race on the deliveries' unique key
    # (its transaction, emails included, rolls back), never both.
    assert len(failed) < 2, failed
    assert all("uq_planning_alert_delivery" in err or "UNIQUE" in err for err in failed), failed
    emails = shared_database.rows("SELECT to_address, subject, body_text FROM outbox_emails")
    assert emails, f"the digests sent nothing: {outputs}"
    duplicates = [email for email, n in Counter(emails).items() if n > 1]
    assert not duplicates, f"{len(duplicates)} alert emails sent by both nodes"
