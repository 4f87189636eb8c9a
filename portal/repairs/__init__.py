"""Housing repairs: tenancies, emergency triage, reports with photos, slots and bookings."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    from portal.demo import register_demo_loader
    from portal.repairs import jobs, models  # noqa: F401  (tables and periodic tasks)
    from portal.repairs.demo import load_demo_repairs
    from portal.repairs.services import my_council_rows, personal_data, tenants_at_address
    from portal.repairs.staff import bp as staff_bp
    from portal.repairs.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Repairs",
            "endpoint": "repairs_staff.board",
            "roles": ("housing",),
            "description": "Triage housing repairs, book appointments and manage slots.",
        }
    )
    app.extensions.setdefault("portal_my_council_sections", []).append(
        (40, "Your repairs", my_council_rows)
    )
    app.extensions.setdefault("portal_personal_data", []).append(("repairs", personal_data))
    # Contact-centre staff find a caller by the address of their tenancy.
    app.extensions.setdefault("portal_resident_finders", []).append(tenants_at_address)
    register_demo_loader(app, 60, "repairs", load_demo_repairs)
    app.cli.add_command(_commands())


def _commands() -> AppGroup:
    group = AppGroup("repairs", help="Housing repairs.")

    @group.command("sync")
    def sync() -> None:
        """Declare the repairs interactions the portal runs and seed the tree if empty."""
        from portal.extensions import db
        from portal.repairs.services import sync_deliveries
        from portal.repairs.tree import seed_default_tree

        leaves = seed_default_tree()
        count = sync_deliveries()
        db.session.commit()
        click.echo(f"{count} repairs deliveries live; {leaves} tree problems added")

    @group.command("reminders")
    def reminders() -> None:
        """Send tomorrow's appointment reminders now."""
        from portal.extensions import db
        from portal.repairs.services import send_reminders

        sent = send_reminders()
        db.session.commit()
        click.echo(f"{sent} reminders queued")

    return group
