"""E-payments: Stripe Checkout or the sandbox gateway, a forward-only state machine, refunds,
reconciliation, bills paid by reference and staff-keyed phone payments."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    from portal.demo import register_demo_loader
    from portal.payments import billing, jobs, models  # noqa: F401  (tables, periodic job)
    from portal.payments.demo import load_demo_payments
    from portal.payments.gateways import stripe_configured
    from portal.payments.services import (
        claim_earlier_payments,
        count_earlier_payments,
        export_personal_data,
        format_pence,
        my_council_rows,
    )
    from portal.payments.staff import bp as staff_bp
    from portal.payments.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    billing.register(app)
    app.jinja_env.filters["pence"] = format_pence
    with app.app_context():
        if stripe_configured():
            app.config["CSP_EXTRA_FORM_ACTION"] = "https://checkout.stripe.com"
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Payments",
            "endpoint": "payments_staff.index",
            "roles": ("finance",),
            "description": "Find payments, refund them, take phone payments and reconcile the day.",
        }
    )
    app.extensions.setdefault("portal_my_council_sections", []).append(
        (30, "Your payments", my_council_rows)
    )
    app.extensions.setdefault("portal_personal_data", []).append(("payments", export_personal_data))
    app.extensions.setdefault("portal_earlier_records", []).append(
        (30, "payments", count_earlier_payments, claim_earlier_payments)
    )
    register_demo_loader(app, 50, "payments", load_demo_payments)
    app.cli.add_command(_commands())
    app.cli.add_command(_bills_commands())


def _commands() -> AppGroup:
    group = AppGroup("payments", help="Payments: reconciliation and e-enablement.")

    @group.command("reconcile")
    def reconcile_command() -> None:
        """Settle every payment still open 90 minutes after creation, now."""
        from portal.payments.services import reconcile

        click.echo(str(reconcile()))

    @group.command("sync-deliveries")
    def sync_command() -> None:
        """Declare every bill type as a live payment the portal delivers (BVPI 157)."""
        from portal.extensions import db
        from portal.payments.billing import sync_deliveries

        lines = sync_deliveries()
        db.session.commit()
        for line in lines:
            click.echo(line)

    return group


def _bills_commands() -> AppGroup:
    bills = AppGroup("bills", help="Bills paid by reference on /pay.")

    @bills.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--skip-rejected", is_flag=True, help="Import the valid rows even if some are bad."
    )
    def import_bills(path: Path, skip_rejected: bool) -> None:
        """Create or update bills from the revenues system's CSV export."""
        from portal.payments.bills_import import import_bills_csv
        from portal.payments.reference_rules import RuleFileError

        try:
            report = import_bills_csv(
                path.read_text(encoding="utf-8-sig"), skip_rejected=skip_rejected
            )
        except RuleFileError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(report.summary())
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        if not report.imported:
            raise SystemExit(1)

    return bills
