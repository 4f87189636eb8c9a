"""Services A–Z, the e-enablement register and the live BVPI 157 figure."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    from portal.accounts.models import STAFF_ROLES
    from portal.api import register_openapi
    from portal.council_services import (
        jobs,  # noqa: F401  (registers the periodic jobs)
        models,  # noqa: F401  (tables known to migrations)
    )
    from portal.council_services.api import OPENAPI_PATHS, OPENAPI_SCHEMAS
    from portal.council_services.api import bp as api_bp
    from portal.council_services.demo import load_demo_catalogue
    from portal.council_services.forecast_staff import bp as forecast_bp
    from portal.council_services.services import (
        add_delivered_interaction,
        delivery_problem,
        delivery_problems,
        service_catalogue,
        service_owner_email,
        site_banners,
    )
    from portal.council_services.staff import bp as staff_bp
    from portal.council_services.views import bp as public_bp
    from portal.demo import register_demo_loader

    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(forecast_bp)
    register_openapi(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    app.extensions.setdefault("portal_site_banner_providers", []).append(site_banners)
    # Take-up statistics label and group transactions by the catalogue's names and departments.
    app.extensions["portal_service_catalogue"] = service_catalogue
    # Satisfaction survey comments go to the service's owner (or its contact address).
    app.extensions["portal_service_owner_email"] = service_owner_email
    # Portal deliveries are checked against the register when they go live (docs/bvpi157.md).
    app.extensions["portal_delivery_register"] = {
        "problem": delivery_problem,
        "problems": delivery_problems,
        "add": add_delivered_interaction,
    }
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Services A to Z",
            "endpoint": "council_services_staff.index",
            "roles": ("editor",),
            "description": "Service pages, the e-enablement register, BVPI 157 and alerts.",
        }
    )
    app.extensions["portal_staff_sections"].extend(
        [
            {
                "title": "BVPI 157 forecast",
                "endpoint": "council_services_forecast.index",
                "roles": ("editor", "manager"),
                "description": "The forecast from work plans, the council's target and the return.",
            },
            {
                "title": "E-enablement targets",
                "endpoint": "council_services_forecast.targets",
                "roles": tuple(STAFF_ROLES),
                "description": "Targets you own and overdue targets by department.",
            },
        ]
    )
    register_demo_loader(app, 30, "council services", load_demo_catalogue)
    register_commands(app)


def register_commands(app: Flask) -> None:
    group = AppGroup("services", help="The services A to Z and its e-enablement register.")

    @group.command("import-lgsl")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_lgsl(path: Path) -> None:
        """Create or update draft services from an esd LGSL CSV (skips Discontinued rows)."""
        from portal.council_services.services import import_lgsl_csv
        from portal.extensions import db

        report = import_lgsl_csv(path.read_text(encoding="utf-8-sig"))
        db.session.commit()
        click.echo(
            f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.skipped} discontinued skipped, {len(report.errors)} rejected"
        )
        for error in report.errors:
            click.echo(f"  {error}", err=True)

    @app.cli.command("bvpi157")
    def bvpi157_command() -> None:
        """Print the live BVPI 157 figure as JSON."""
        from portal.council_services.services import bvpi157

        click.echo(json.dumps(bvpi157().as_dict()))

    @group.command("snapshot")
    def snapshot() -> None:
        """Record today's BVPI 157 snapshot (once per UK day: a second run changes nothing)."""
        from portal.council_services.forecast import take_daily_snapshot
        from portal.extensions import db

        taken, new = take_daily_snapshot()
        db.session.commit()
        state = "recorded" if new else "already recorded"
        click.echo(f"BVPI 157 {taken.percent:.1f}% ({taken.numerator}/{taken.denominator}) {state}")

    @group.command("target-reminders")
    def target_reminders() -> None:
        """Email owners once for each target date that has passed unmet."""
        from portal.council_services.forecast import send_target_reminders
        from portal.extensions import db

        sent = send_target_reminders()
        db.session.commit()
        click.echo(f"{sent} reminders queued")

    app.cli.add_command(group)
