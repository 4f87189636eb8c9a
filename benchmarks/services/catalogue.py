"""Build a large catalogue for the benchmarks: N services × 10 interactions, some portal deliveries."""

from __future__ import annotations

import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import insert

from portal import create_app
from portal.common.models import PortalDelivery
from portal.config import Settings
from portal.council_services.demo import DEPARTMENTS, demo_services
from portal.council_services.models import Interaction, Service
from portal.council_services.services import slugify
from portal.extensions import db

AREAS = ["North", "South", "East", "West", "Central", "Riverside", "Hillside", "Old Town"]


def make_bench_app(instance: Path, database_url: str = "") -> Flask:
    """An app on a fresh database (SQLite in `instance` unless a URL is given), migrated."""
    from flask_migrate import upgrade

    url = database_url or f"sqlite:///{instance / 'bench.db'}"
    settings = Settings(
        env="development",
        secret_key="benchmark-secret-key",
        instance_path=str(instance),
        database_url=url,
        embedded_worker=False,
        jobs_immediate=True,
        ratelimit_enabled=False,
        log_level="WARNING",
    )
    app = create_app(settings=settings)
    with app.app_context():
        upgrade(revision="heads")
    return app


def build_catalogue(n_services: int = 1000, per_service: int = 10) -> None:
    """Insert `n_services` published services, each with `per_service` interactions (0–9)."""
    templates = demo_services()
    today = date.today()
    services = []
    for i in range(n_services):
        t = templates[i % len(templates)]
        lap = i // len(templates)
        name = t.name if lap == 0 else f"{t.name} ({AREAS[lap % len(AREAS)]} {lap})"
        department = DEPARTMENTS[t.department][0]
        services.append(
            {
                "id": i + 1,
                "slug": slugify(name),
                "name": name,
                "lgsl": t.lgsl if lap == 0 else 100000 + i,
                "summary": t.summary,
                "body": f"{t.summary}\n\n## How to apply\n\nContact {department}. " * 3,
                "synonyms": t.synonyms,
                "topics": t.topics,
                "life_events": t.life_events,
                "department": department,
                "phone": "01632 960000",
                "email": "contact@castlebrook.example",
                "address": "Town Hall",
                "opening_hours": "9 to 5",
                "related_links": [],
                "status_notice": "",
                "published": True,
                "initial": name[0].upper(),
                "review_due": today + timedelta(days=i % 365),
            }
        )
    db.session.execute(insert(Service), services)
    rows = []
    for s in services:
        for lgil in range(per_service):
            k = (s["id"] * 7 + lgil) % 20
            rows.append(
                {
                    "service_id": s["id"],
                    "lgil": lgil % 10,
                    "applicable": k != 0,
                    "permissible": k != 1,
                    "exclusion_reason": "In person by law" if k == 1 else "",
                    "e_enabled": k > 4,
                    "channels": ["web"] if k > 4 else [],
                    "evidence_url": "",
                }
            )
    db.session.execute(insert(Interaction), rows)
    deliveries = [
        {
            "kind": "form",
            "ref": f"form-{s['id']}",
            "lgsl": s["lgsl"],
            "lgil": 0,
            "title": "Online form",
            "url": "/forms/x",
            "live": s["id"] % 3 != 0,
        }
        for s in services[: n_services // 5]
    ]
    db.session.execute(insert(PortalDelivery), deliveries)
    db.session.commit()


def temporary_instance() -> Path:
    return Path(tempfile.mkdtemp(prefix="portal-bench-"))


def database_url_from_env() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "")
