"""No page issues more than a fixed number of SQL queries (docs/performance.md lists them).

The demo council is loaded (all but a year of take-up records, which no page here reads) and each
page is fetched twice, anonymously and signed in as a demo tenant, the way a person reaches it;
the second fetch is counted with a `before_cursor_execute` listener on the engine. A page that
starts querying per row (a lazy load in a loop) fails here long before it is slow.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from tests.accounts.helpers import sign_in_with_form
from tests.helpers.pages import check_html

# SQLite's BEGIN goes through the cursor, PostgreSQL's does not: count only the queries. The
# site-wide alerts shown on every page are read once per BANNER_TTL (5 s) per worker, by whichever
# page comes first: that one query may come on top of any page's number.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# (page, path or a key filled in from the demo data): most queries allowed, anonymous and signed in.
ANONYMOUS_LIMITS = {
    "home": 1,  # the top tasks' live deliveries, in one query
    "services A to Z": 1,
    "contact": 0,
    "accessibility statement": 0,
    "planning register": 3,
    "service page": 3,
    "planning application": 5,
}
# Signed in, every page adds the browser session and the user's session (with the user and the
# roles joined in): two queries.
SIGNED_IN_LIMITS = {
    "my council": 13,  # one query per section: payments, repairs, drafts, requests, alerts, bins, garden …
    "service page": 5,
    "form start page": 4,
    "repairs start page": 4,
    "planning application": 7,
}


@pytest.fixture
def demo_app(make_app) -> Iterator[Flask]:  # noqa: ANN001
    app = make_app(services_page_cache_seconds=0, planning_page_cache_seconds=0)
    with app.app_context():
        for loader in sorted(app.extensions["portal_demo_loaders"], key=lambda r: r.order):
            if loader.name != "channels":
                loader.load()
        db.session.commit()
    yield app


def _paths(app: Flask) -> dict[str, str]:
    with app.app_context():
        service = db.session.scalar(
            sa.text("SELECT slug FROM council_services ORDER BY slug LIMIT 1")
        )
        form = db.session.scalar(
            sa.text("SELECT slug FROM online_forms WHERE status = 'live' ORDER BY slug")
        )
        application = db.session.scalar(
            sa.text("SELECT slug FROM planning_applications ORDER BY id LIMIT 1")
        )
        tenant = db.session.scalar(
            sa.text(
                "SELECT u.email FROM users u JOIN repair_tenancies t ON t.user_id = u.id "
                "ORDER BY u.email"
            )
        )
    return {
        "home": "/",
        "services A to Z": "/services",
        "contact": "/contact",
        "accessibility statement": "/accessibility",
        "planning register": "/planning",
        "service page": f"/services/{service}",
        "planning application": f"/planning/applications/{application}",
        "my council": "/my",
        "form start page": f"/forms/{form}",
        "repairs start page": "/repairs",
        "tenant": tenant,
    }


def _count(app: Flask, client: FlaskClient, path: str) -> int:
    check_html(client.get(path))  # the first fetch warms what a worker keeps
    counted: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            return
        if "FROM site_alerts" in statement:
            return  # re-read at most every BANNER_TTL seconds per worker, whichever page asks
        counted.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return len(counted)


def test_every_page_stays_within_its_query_count(demo_app: Flask):
    from portal.accounts.demo import demo_password

    paths = _paths(demo_app)
    anonymous = demo_app.test_client()
    resident = demo_app.test_client()
    email = paths["tenant"]
    assert sign_in_with_form(resident, email, demo_password(email.split("@")[0])).status_code == 302
    over = []
    for who, client, limits in (
        ("anonymous", anonymous, ANONYMOUS_LIMITS),
        ("signed in", resident, SIGNED_IN_LIMITS),
    ):
        for page, limit in limits.items():
            count = _count(demo_app, client, paths[page])
            if count > limit:
                over.append(f"{page} ({who}): {count} queries, at most {limit}")
    assert not over, "\n".join(over)
