"""Shared set-up for the planning benchmarks: a migrated database on SQLite or PostgreSQL."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import sqlalchemy as sa

from portal import create_app
from portal.config import Settings, normalise_database_url
from portal.extensions import db


def make_benchmark_app(database_url: str | None, instance: Path | None = None):
    """An app on a fresh, migrated database (a new SQLite file, or a new PostgreSQL schema)."""
    os.environ.setdefault("PORTAL_ENV", "test")
    instance = instance or Path(tempfile.mkdtemp(prefix="planning-bench-"))
    schema = None
    if database_url:
        schema = f"planning_bench_{os.getpid()}"
        base = normalise_database_url(database_url)
        engine = sa.create_engine(base)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        joiner = "&" if "?" in base else "?"
        url = f"{base}{joiner}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{instance / 'portal.db'}"
    settings = Settings(
        env="test",
        secret_key="benchmark",
        instance_path=str(instance),
        database_url=url,
        embedded_worker=False,
        jobs_immediate=True,
        ratelimit_enabled=False,
    )
    app = create_app(settings=settings)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
    return app, url, schema


def drop_schema(database_url: str, schema: str | None) -> None:
    if not schema:
        return
    engine = sa.create_engine(normalise_database_url(database_url))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


__all__ = ["db", "drop_schema", "make_benchmark_app"]
