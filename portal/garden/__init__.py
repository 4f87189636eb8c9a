"""Garden waste subscriptions: a year of collections, paid online, renewed by reminder."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    from portal.demo import register_demo_loader
    from portal.garden import jobs, models, services  # noqa: F401  (tables, periodic job)
    from portal.garden.demo import load_demo_garden
    from portal.garden.views import bp, staff_bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Garden waste subscribers",
            "endpoint": "garden_staff.index",
            "roles": ("officer", "finance", "admin"),
            "description": "See and export garden waste subscriptions; cancel one with a refund.",
        }
    )
    app.extensions.setdefault("portal_my_council_sections", []).append(
        (35, "Your garden waste collections", services.my_council_rows)
    )
    app.extensions.setdefault("portal_personal_data", []).append(
        ("garden_waste", services.export_personal_data)
    )
    try:
        from portal.payments.services import register_payment_purpose
    except ImportError:  # the payments slice is not installed
        pass
    else:
        register_payment_purpose(
            app,
            services.PAYMENT_PURPOSE,
            services.on_payment_success,
            services.on_payment_failure,
            settled_by=services.settled_by,
        )
    register_demo_loader(app, 90, "garden waste", load_demo_garden)
    app.cli.add_command(_commands())


def _commands() -> AppGroup:
    group = AppGroup("garden", help="Garden waste subscriptions.")

    @group.command("sync-deliveries")
    def sync_command() -> None:
        """Declare the subscription as a live payment the portal delivers (BVPI 157)."""
        from portal.extensions import db
        from portal.garden.services import sync_deliveries

        sync_deliveries()
        db.session.commit()
        click.echo("garden waste subscription live on LGSL 530, LGIL 4")

    @group.command("daily")
    def daily_command() -> None:
        """End subscriptions past their last day and send renewal reminders, now."""
        from portal.extensions import db
        from portal.garden.services import end_expired, send_renewal_reminders

        ended = end_expired()
        db.session.commit()
        sent = send_renewal_reminders()
        db.session.commit()
        click.echo(f"{ended} ended, {sent} renewal reminders queued")

    return group
