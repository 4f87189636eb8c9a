"""Migrations on a shared database: the models and the migrations agree (what `flask db check`
reports), and two nodes upgrading an empty PostgreSQL schema at once both succeed."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.config import normalise_database_url
from portal.schema import include_object
from tests.conftest import PG_URL, _settings, migrate_database
from tests.reliability.conftest import ROOT, bin_path, need_postgres, portal_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]


@pytest.fixture
def empty_pg_schema() -> Iterator[str]:
    need_postgres()
    schema = f"portal_mig_{os.getpid()}_{secrets.token_hex(3)}"
    base = normalise_database_url(PG_URL)
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    joiner = "&" if "?" in base else "?"
    yield f"{base}{joiner}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url = request.getfixturevalue("empty_pg_schema")
    else:
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrate_database(url, tmp_path / "instance")
    return url


def test_the_models_match_the_migrated_database(migrated_url: str, tmp_path: Path):
    from portal import create_app
    from portal.extensions import db

    app = create_app(settings=_settings(tmp_path / "instance", migrated_url))
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            assert compare_metadata(context, db.metadata) == []
        result = app.test_cli_runner().invoke(args=["db", "check"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output


def test_two_nodes_upgrading_an_empty_database_at_once_both_succeed(
    empty_pg_schema: str, tmp_path: Path
):
    commands = []
    for node in ("a", "b"):
        env = portal_env(tmp_path / node, empty_pg_schema)
        commands.append(
            subprocess.Popen(
                [bin_path("flask"), "--app", "portal", "db", "upgrade"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [proc.communicate(timeout=300)[0] for proc in commands]
    assert [proc.returncode for proc in commands] == [0, 0], "\n".join(outputs)
    engine = sa.create_engine(empty_pg_schema)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1
    # One node ran the migrations; the other found nothing left to do.
    assert sum("Running upgrade  -> 0001" in output for output in outputs) == 1
