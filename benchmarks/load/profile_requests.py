"""Where a request's time goes: cProfile over the Flask test client, and SQL queries per page.

    PORTAL_DATABASE_URL=sqlite:////tmp/portal.db .venv/bin/python -m benchmarks.load.profile_requests

The database must be migrated and hold the demo council (`flask db upgrade && flask demo load`).
Each page is fetched `--repeat` times anonymously (page caches off unless `--page-cache`) and
signed in as a demo tenant; prints mean milliseconds and queries per request, then the top
functions by cumulative time for the page named by `--profile`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import time

os.environ.setdefault("PORTAL_ENV", "development")
os.environ.setdefault("PORTAL_SECRET_KEY", secrets.token_urlsafe(32))
os.environ["PORTAL_RATELIMIT_ENABLED"] = "false"
os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

PAGE_CACHES = (
    "PORTAL_SERVICES_PAGE_CACHE_SECONDS",
    "PORTAL_PLANNING_PAGE_CACHE_SECONDS",
)


def pages(app) -> dict[str, str]:  # noqa: ANN001
    with app.app_context():
        slug = db.session.scalar(sa.text("SELECT slug FROM council_services ORDER BY slug LIMIT 1"))
        form = db.session.scalar(
            sa.text(
                "SELECT slug FROM online_forms WHERE status = 'published' ORDER BY slug LIMIT 1"
            )
        )
        application = db.session.scalar(
            sa.text("SELECT slug FROM planning_applications ORDER BY id LIMIT 1")
        )
    return {
        "home": "/",
        "services A-Z": "/services",
        "service page": f"/services/{slug}",
        "form start page": f"/forms/{form}",
        "planning application": f"/planning/applications/{application}",
        "planning register": "/planning",
        "repairs start": "/repairs",
        "my council": "/my",
        "bare 404": "/_no_such_page",
        "health": "/healthz",
    }


def signed_in_client(app):  # noqa: ANN001
    from portal.accounts.models import User
    from portal.accounts.sessions import start_session

    client = app.test_client()
    with app.test_request_context("/"):
        email = db.session.scalar(
            sa.text(
                "SELECT u.email FROM users u JOIN repair_tenancies t ON t.user_id = u.id "
                "ORDER BY u.email LIMIT 1"
            )
        )
        user = db.session.scalar(sa.select(User).where(User.email == email))
        from flask import session

        start_session(user)
        db.session.commit()
        token = dict(session)
    with client.session_transaction() as browser:
        browser.update(token)
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--profile", default="")
    parser.add_argument("--signed-in", action="store_true", help="profile signed in")
    parser.add_argument("--page-cache", action="store_true")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    if not args.page_cache:
        for name in PAGE_CACHES:
            os.environ[name] = "0"
    app = create_app()
    queries = [0]
    with app.app_context():
        event.listen(
            db.engine, "before_cursor_execute", lambda *a: queries.__setitem__(0, queries[0] + 1)
        )
    urls = pages(app)
    anonymous, resident = app.test_client, signed_in_client(app)
    print(f"{'page':24} {'anon ms':>8} {'q':>3} {'signed ms':>10} {'q':>3}")
    for name, url in urls.items():
        row = [name]
        for who in ("anonymous", "signed in"):
            client = anonymous() if who == "anonymous" else resident
            client.get(url)
            queries[0] = 0
            started = time.perf_counter()
            for _ in range(args.repeat):
                client.get(url)
            elapsed = (time.perf_counter() - started) / args.repeat * 1000
            row += [f"{elapsed:.2f}", str(round(queries[0] / args.repeat, 1))]
        print(f"{row[0]:24} {row[1]:>8} {row[2]:>3} {row[3]:>10} {row[4]:>3}")
    if args.profile:
        client = resident if args.signed_in else anonymous()
        url = urls.get(args.profile, args.profile)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            client.get(url)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
