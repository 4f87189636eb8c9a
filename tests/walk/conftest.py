"""The demo council, loaded once per test process and shared by every role's walk.

SQLite: the migrated template is copied, the demo loaded into the copy once, and each walk works
on its own copy of that. PostgreSQL: one schema per test process, migrated and loaded once; the
walks only read (and sign people in), so they share it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from portal import create_app
from portal.config import normalise_database_url
from portal.demo import load_all
from portal.extensions import db
from tests.conftest import PG_URL, TEST_CONFIG, _pg_schema_url, _settings, migrate_database
from tests.helpers.walk import vnu_service


def _load_demo(url: str, instance: Path) -> None:
    app = create_app(overrides=TEST_CONFIG, settings=_settings(instance, url))
    with app.app_context():
        load_all()
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def demo_database(
    database_template: str, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[str]:
    """A database holding the demo council: a SQLite file to copy, or a PostgreSQL URL."""
    vnu_service.start()  # the walks' HTML checker starts its JVM while the demo loads
    instance = tmp_path_factory.mktemp("demo-instance")
    if PG_URL:
        schema, url = _pg_schema_url(f"walk_{worker_id}")
        engine = sa.create_engine(normalise_database_url(PG_URL))
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        migrate_database(url, instance)
        _load_demo(url, instance)
        yield url
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
        return
    path = instance / "demo.db"
    shutil.copyfile(database_template, path)
    _load_demo(f"sqlite:///{path}", instance)
    yield str(path)


@pytest.fixture
def demo_app(demo_database: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on the demo council (a copy of it on SQLite)."""
    if PG_URL:
        url = demo_database
    else:
        path = tmp_path / "portal.db"
        shutil.copyfile(demo_database, path)
        url = f"sqlite:///{path}"
    app = create_app(overrides=TEST_CONFIG, settings=_settings(tmp_path, url))
    from portal.jobs import set_worker_app

    set_worker_app(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
