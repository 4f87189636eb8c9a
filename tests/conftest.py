"""Fixtures for the whole suite: an app on a real database whose schema the migrations built.

SQLite by default: the migrations run once per test process into a template file that each test
copies. PostgreSQL when PORTAL_TEST_DATABASE_URL is set: each test process gets its own schema,
migrated once, and every table is emptied after each test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ["PORTAL_ENV"] = "test"  # before portal is imported: jobs run immediately in tests

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.config import Settings, normalise_database_url
from portal.extensions import db

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("PORTAL_REDIS_URL", "")
# scrypt's cost in the suite's apps: N=2^10 (a millisecond or two) instead of production's 2^17
# (half a second on two busy cores). Only apps built with PORTAL_ENV=test honour it;
# tests/accounts/test_security.py pins production's factor and that other environments ignore it.
TEST_SCRYPT_LOG2_N = 10
TEST_CONFIG: dict[str, object] = {"TEST_SCRYPT_LOG2_N": TEST_SCRYPT_LOG2_N}


def _settings(instance: Path, database_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "secret_key": "test-secret-key-not-for-production",
        "instance_path": str(instance),
        "database_url": database_url,
        "redis_url": "",
        "embedded_worker": False,
        "jobs_immediate": True,
        "ratelimit_enabled": False,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def migrate_database(database_url: str, instance: Path) -> None:
    """Build the schema by running every migration from empty."""
    from flask_migrate import upgrade

    app = create_app(overrides=TEST_CONFIG, settings=_settings(instance, database_url))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


def _pg_schema_url(worker_id: str) -> tuple[str, str]:
    # One schema per test process, so parallel runs on one database never meet.
    schema = f"portal_test_{os.getpid()}_{worker_id}".replace("-", "_")
    base = normalise_database_url(PG_URL)
    joiner = "&" if "?" in base else "?"
    return schema, f"{base}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A migrated database for this test process: a SQLite file to copy, or a PostgreSQL URL."""
    instance = tmp_path_factory.mktemp("template-instance")
    if PG_URL:
        schema, url = _pg_schema_url(worker_id)
        engine = sa.create_engine(normalise_database_url(PG_URL))
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        migrate_database(url, instance)
        yield url
        engine = sa.create_engine(normalise_database_url(PG_URL))
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
        return
    path = instance / "template.db"
    migrate_database(f"sqlite:///{path}", instance)
    yield str(path)


def _database_url_for_test(template: str, instance: Path) -> str:
    if PG_URL:
        return template
    path = instance / "portal.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


# Tables whose id sequence has been drawn from since it was last restarted.
_USED_SEQUENCES = """
SELECT t.relname
FROM pg_sequences s
JOIN pg_namespace n ON n.nspname = s.schemaname
JOIN pg_class sc ON sc.relname = s.sequencename AND sc.relnamespace = n.oid
JOIN pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_class'::regclass
    AND d.refclassid = 'pg_class'::regclass
JOIN pg_class t ON t.oid = d.refobjid AND t.relkind = 'r'
WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL
"""


def _empty_all_tables() -> None:
    """Empty every table holding a row and restart the ids of every table whose ids were drawn.

    Only those tables are truncated (with what references them): a TRUNCATE of all 56 tables after
    every test took 1.5-2 s on the shared two-core machine, about twice the usual case.
    """
    query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    with db.engine.begin() as conn:
        tables = [row[0] for row in conn.execute(sa.text(query)) if row[0] != "alembic_version"]
        if not tables:
            return
        holding = " UNION ALL ".join(
            f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
        )
        dirty = {row[0] for row in conn.execute(sa.text(holding))}
        dirty |= {row[0] for row in conn.execute(sa.text(_USED_SEQUENCES))}
        if dirty:
            quoted = ", ".join(f'"{name}"' for name in sorted(dirty))
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Chromium per test process (Playwright), launched when a test first needs it;
    each test opens its own context in it. The browser tests and the link walk's reflow check share
    it."""
    from playwright.sync_api import sync_playwright

    from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def make_app(database_template: str, tmp_path: Path) -> Iterator:
    """Build an app on this test's database; extra settings and Flask config may be given."""
    apps: list[Flask] = []
    url = _database_url_for_test(database_template, tmp_path)

    def factory(config: dict | None = None, **settings: object) -> Flask:
        overrides = {**TEST_CONFIG, **(config or {})}
        app = create_app(overrides=overrides, settings=_settings(tmp_path, url, **settings))
        apps.append(app)
        from portal.jobs import set_worker_app

        set_worker_app(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            if PG_URL and app is apps[0]:
                _empty_all_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def pytest_report_header(config: pytest.Config) -> str:
    database = "PostgreSQL (PORTAL_TEST_DATABASE_URL)" if PG_URL else "SQLite"
    return f"portal test database: {database}; redis: {'PORTAL_REDIS_URL' if REDIS_URL else 'not used'}"
