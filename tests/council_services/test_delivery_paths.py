"""The register's portal deliveries are stored as paths and shown on the configured base URL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from portal import create_app
from portal.common.models import PortalDelivery
from portal.demo import load_all
from portal.extensions import db
from tests.conftest import _settings

BASE = "http://127.0.0.1:5100"


def test_demo_deliveries_are_paths_and_the_api_makes_them_absolute(make_app):
    app = make_app(base_url=BASE)
    with app.app_context():
        load_all()
        db.session.commit()
        urls = db.session.scalars(select(PortalDelivery.url)).all()
    assert urls, "the demo declares what the portal delivers"
    assert all(u.startswith("/") and "://" not in u for u in urls), urls
    assert {"/repairs", "/planning"} <= set(urls)
    assert any(u.startswith("/forms/") for u in urls)

    api = app.test_client().get("/api/v1/services", headers={"Host": "evil.example"}).get_json()
    delivered = [
        i["url"] for s in api["services"] for i in s["interactions"] if i["delivered_by_portal"]
    ]
    assert delivered and all(u.startswith(BASE + "/") for u in delivered), delivered


def test_a_changed_base_url_changes_every_delivery_link(make_app):
    first = make_app(base_url="http://127.0.0.1:5000")
    with first.app_context():
        load_all()
        db.session.commit()
    moved = make_app(base_url="https://www.castlebrook.example")
    export = moved.test_client().get("/api/v1/services").get_data(as_text=True)
    assert "127.0.0.1:5000" not in export
    assert "https://www.castlebrook.example/forms/" in export


def test_migration_turns_stored_absolute_links_into_paths(tmp_path: Path):
    database_url = f"sqlite:///{tmp_path / 'm.db'}"  # its own database, migrated step by step
    app = create_app(
        settings=_settings(tmp_path, database_url, base_url="https://www.castlebrook.example/")
    )
    rows = [
        ("form", "a", "https://www.castlebrook.example/forms/bulky-waste/start"),
        ("form", "b", "http://127.0.0.1:5000/forms/parking-permit/start"),
        ("repairs", "c", "http://127.0.0.1:5000/repairs"),
        ("payments", "d", "/pay/council-tax"),
        ("other", "e", "https://www.gov.uk/apply-passport"),
    ]
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            for n, (kind, ref, url) in enumerate(rows):
                conn.execute(
                    sa.text(
                        "INSERT INTO portal_deliveries (kind, ref, lgsl, lgil, title, url, live,"
                        " changed_at) VALUES (:kind, :ref, :lgsl, 8, 't', :url, 1, :now)"
                    ),
                    {"kind": kind, "ref": ref, "lgsl": n + 1, "url": url, "now": "2026-12-01"},
                )
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            stored = dict(conn.execute(sa.text("SELECT ref, url FROM portal_deliveries")).all())
        db.engine.dispose()
    assert stored == {
        "a": "/forms/bulky-waste/start",
        "b": "/forms/parking-permit/start",
        "c": "/repairs",
        "d": "/pay/council-tax",
        "e": "https://www.gov.uk/apply-passport",
    }
