"""Walk the whole URL map: every state-changing route refuses a request without a valid CSRF token,
and no GET changes the database, whoever asks."""

from __future__ import annotations

import hashlib
import uuid

import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import Rule

from portal.common.audit import record_audit
from portal.extensions import csrf, db
from tests.accounts.helpers import user_with_password
from tests.helpers.auth import client_for, make_user

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# The only route allowed to take a POST without a CSRF token: the payment provider's webhook,
# which proves itself with a signature over the raw body instead.
# Machine-to-machine POSTs that carry their own secret instead of a session, so there is no
# cookie-borne authority to forge: Stripe's signed webhook, the RFC 8058 one-click unsubscribe
# (an unguessable token in the URL, posted by mail providers) and Open311 (an API key).
CSRF_EXEMPT_ENDPOINTS = {
    "payments.stripe_webhook",
    "planning.unsubscribe",
    "waste.unsubscribe_reminders",
    "open311.create_request",
}
# A session's last-seen time is written on purpose (at most once a minute) to enforce the idle
# timeout; it is the one column a GET may touch.
IGNORED_COLUMNS = {("user_sessions", "last_seen_at")}
# What a browser's session holds (a flash message, the page to return to): the cookie's contents
# before they were kept on the server, which a GET may always change.
IGNORED_TABLES = {"browser_sessions"}


def _sample_value(converter: object) -> object:
    name = type(converter).__name__
    if name == "IntegerConverter":
        return 1
    if name == "FloatConverter":
        return 1.0
    if name == "UUIDConverter":
        return uuid.UUID(int=1)
    if name == "AnyConverter":
        return sorted(converter.items)[0]  # type: ignore[attr-defined]
    return "x"


def _path(rule: Rule) -> str:
    values = {name: _sample_value(conv) for name, conv in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def test_every_state_changing_route_needs_a_csrf_token(app: Flask):
    admin = make_user(app, roles=("admin",))
    checked = []
    failures = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & STATE_CHANGING
        if not methods or rule.endpoint in CSRF_EXEMPT_ENDPOINTS:
            continue
        path = _path(rule)
        for method in sorted(methods):
            for actor in (None, admin):
                client = client_for(app, actor)
                for headers in ({}, {"X-CSRFToken": "forged"}):
                    response = client.open(
                        path,
                        method=method,
                        data={"csrf_token": "forged"} if headers else {},
                        headers=headers,
                    )
                    if response.status_code != 400:
                        failures.append(
                            f"{method} {path} ({rule.endpoint}) as {actor and 'admin' or 'anonymous'}: {response.status_code}"
                        )
            checked.append(f"{method} {rule.endpoint}")
    assert not failures, "\n".join(failures)
    assert len(checked) >= 15, checked  # the walk really covered this slice's forms
    assert not csrf._exempt_blueprints
    exempt = {view.rsplit(".", 1)[-1] for view in csrf._exempt_views}
    allowed = {endpoint.rsplit(".", 1)[-1] for endpoint in CSRF_EXEMPT_ENDPOINTS}
    assert exempt <= allowed, f"views exempt from CSRF: {sorted(exempt)}"


def _database_checksum(app: Flask) -> dict[str, str]:
    with app.app_context():
        sums = {}
        with db.engine.connect() as conn:
            inspector = sa.inspect(conn)  # the same connection: a second one would wait on its lock
            for table in sorted(set(inspector.get_table_names()) - IGNORED_TABLES):
                columns = [
                    c["name"]
                    for c in inspector.get_columns(table)
                    if (table, c["name"]) not in IGNORED_COLUMNS
                ]
                quoted = ", ".join(f'"{c}"' for c in columns)
                rows = conn.execute(sa.text(f'SELECT {quoted} FROM "{table}"')).all()
                digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
                sums[table] = f"{len(rows)}:{digest}"
        return sums


def test_no_get_changes_the_database(app: Flask):
    resident = user_with_password(app, "getter@example.com")
    staff = make_user(
        app,
        roles=(
            "admin",
            "editor",
            "officer",
            "housing",
            "planning",
            "finance",
            "library",
            "manager",
        ),
    )
    with app.app_context():
        record_audit("test.seed", "thing", 1)
        db.session.commit()
    actors = {
        "anonymous": client_for(app, None),
        "resident": client_for(app, resident),
        "staff": client_for(app, staff),
    }
    for client in actors.values():
        client.get("/")  # the session rows exist before the first checksum
    routes = sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or set()) and not rule.arguments
        }
    )
    assert {"/my", "/staff/", "/staff/audit", "/sign-in", "/my/data"} <= set(routes)
    before = _database_checksum(app)
    errors = []
    for name, client in actors.items():
        for route in routes:
            status = client.get(route).status_code
            if status >= 500:
                errors.append(f"GET {route} as {name}: {status}")
    assert not errors, "\n".join(errors)
    after = _database_checksum(app)
    changed = [table for table in before if before[table] != after.get(table)]
    assert not changed, f"GET requests changed {changed}"
    assert before.keys() == after.keys()


def test_the_checksum_sees_a_write(app: Flask):
    """The checksum above would notice a GET that writes (so the walk can fail)."""
    before = _database_checksum(app)
    make_user(app)
    assert _database_checksum(app) != before
