"""Planning: the open register, comments, tracking, map-based alerts and open data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup


def _alert_models() -> tuple:
    from portal.planning.models import PlanningAlert, PlanningTracker

    return PlanningAlert, PlanningTracker


def count_earlier_alerts(email: str) -> int:
    """Alerts and tracked applications set up without an account using `email` (a confirmed
    address: see accounts)."""
    from sqlalchemy import func, select

    from portal.extensions import db

    total = 0
    for model in _alert_models():
        query = select(func.count()).select_from(model)
        query = query.where(model.user_id.is_(None), func.lower(model.email) == email.lower())
        total += db.session.scalar(query) or 0
    return total


def claim_earlier_alerts(email: str, user_id: int) -> int:
    """Give those alerts and tracked applications to the account (the caller commits)."""
    from sqlalchemy import func, update

    from portal.extensions import db

    total = 0
    for model in _alert_models():
        result = db.session.execute(
            update(model)
            .where(model.user_id.is_(None), func.lower(model.email) == email.lower())
            .values(user_id=user_id)
            .execution_options(synchronize_session=False)
        )
        total += result.rowcount or 0
    return total


def my_council_rows(user: Any) -> list[dict]:
    """The resident's alerts and tracked applications for "My council"."""
    from flask import url_for

    from portal.planning import services

    rows = []
    for alert in services.alerts_for_user(user):
        rows.append(
            {
                "text": f"Planning alert: {alert.area_label} ({alert.frequency_label.lower()})",
                "href": url_for("planning.my_alerts"),
                "status": "On" if alert.active else "Confirm by email",
                "date": alert.created_at,
            }
        )
    for tracker in services.trackers_for_user(user):
        rows.append(
            {
                "text": f"Tracking {tracker.application.reference}, {tracker.application.site_address}",
                "href": url_for("planning.application", slug=tracker.application.slug),
                "status": tracker.application.status_label,
                "date": tracker.created_at,
            }
        )
    return sorted(rows, key=lambda r: r["date"], reverse=True)


def personal_data(user: Any) -> dict:
    """Everything the planning slice holds about one person."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.planning import services
    from portal.planning.models import PlanningComment

    comments = db.session.scalars(select(PlanningComment).where(PlanningComment.user_id == user.id))
    return {
        "alerts": [
            {
                "area": a.area_label,
                "kind": a.kind,
                "email": a.email,
                "latitude": a.latitude,
                "longitude": a.longitude,
                "radius_m": a.radius_m,
                "ward": a.ward,
                "polygon": a.polygon,
                "frequency": a.frequency,
                "include_comments": a.include_comments,
                "application_types": a.application_types,
                "created_at": a.created_at.isoformat(),
                "confirmed_at": a.confirmed_at.isoformat() if a.confirmed_at else None,
            }
            for a in services.alerts_for_user(user)
        ],
        "tracked_applications": [
            {
                "reference": t.application.reference,
                "email": t.email,
                "created_at": t.created_at.isoformat(),
            }
            for t in services.trackers_for_user(user)
        ],
        "comments": [
            {
                "application": c.application.reference,
                "name": c.name,
                "address": c.address,
                "stance": c.stance,
                "text": c.text,
                "state": c.state,
                "created_at": c.created_at.isoformat(),
            }
            for c in comments
        ],
    }


def register(app: Flask) -> None:
    from portal.api import register_openapi
    from portal.demo import register_demo_loader
    from portal.planning import (
        jobs,  # noqa: F401  (registers the digest tasks)
        models,  # noqa: F401  (tables known to migrations)
    )
    from portal.planning.api import OPENAPI_PATHS
    from portal.planning.api import bp as api_bp
    from portal.planning.demo import load_demo_planning
    from portal.planning.staff import bp as staff_bp
    from portal.planning.views import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    register_openapi(app, OPENAPI_PATHS)
    register_demo_loader(app, 70, "planning", load_demo_planning)
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Planning",
            "endpoint": "planning_staff.index",
            "roles": ("planning",),
            "description": "Add and update applications, change status, upload documents, moderate comments, see alerts by ward.",
        }
    )
    app.extensions.setdefault("portal_my_council_sections", []).append(
        (70, "Your planning alerts", my_council_rows)
    )
    app.extensions.setdefault("portal_personal_data", []).append(("planning", personal_data))
    app.extensions.setdefault("portal_earlier_records", []).append(
        (70, "planning alerts and tracked applications", count_earlier_alerts, claim_earlier_alerts)
    )

    planning = AppGroup("planning", help="Planning applications and alerts.")

    @planning.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_command(path: Path) -> None:
        """Create or update applications from an LGA/esd PlanningApplications CSV file."""
        from portal.planning.importer import import_lga_csv

        report = import_lga_csv(path.read_text(encoding="utf-8-sig"))
        click.echo(
            f"{report.created} created, {report.updated} updated, {len(report.errors)} rejected"
        )
        for error in report.errors:
            click.echo(f"  {error}", err=True)

    @planning.command("digests")
    @click.argument("frequency", type=click.Choice(["daily", "weekly"]))
    def digests_command(frequency: str) -> None:
        """Send the daily or weekly alert digests that are due now."""
        from portal.extensions import db
        from portal.planning.services import send_digests

        sent = send_digests(frequency)
        db.session.commit()
        click.echo(f"{sent} digests queued")

    app.cli.add_command(planning)
