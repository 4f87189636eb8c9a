"""`flask --app portal users create --email E --role R [--role R2] [--password P]`."""

from __future__ import annotations

import secrets

import click
from flask import Flask
from flask.cli import AppGroup

from portal.accounts.models import STAFF_ROLES


def register_cli(app: Flask) -> None:
    users = AppGroup("users", help="Staff and resident accounts.")

    @users.command("create")
    @click.option("--email", required=True, help="Their email address (their sign-in name).")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        type=click.Choice(STAFF_ROLES),
        help="A staff role; repeat for several. None makes a resident account.",
    )
    @click.option("--password", default=None, help="Their password; one is generated if absent.")
    @click.option("--name", default="", help="Their full name.")
    def create(email: str, roles: tuple[str, ...], password: str | None, name: str) -> None:
        """Create a confirmed account (a staff account when given roles)."""
        from email_validator import EmailNotValidError, validate_email

        from portal.accounts import services
        from portal.accounts.passwords import password_problem
        from portal.common.audit import record_audit
        from portal.extensions import db

        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            raise click.BadParameter(
                "Enter an email address in the correct format, like name@example.com",
                param_hint="--email",
            ) from None
        if services.user_by_email(email) is not None:
            raise click.ClickException(f"There is already an account for {email}")
        generated = password is None
        if generated:
            password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        problem = password_problem(password, email)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
        user = services.create_user(email, roles, password=password, name=name)
        record_audit(
            "staff.account_created" if roles else "account.created",
            "user",
            user.id,
            {"email": user.email, "roles": sorted(roles), "via": "command line"},
        )
        db.session.commit()
        kind = f"staff account ({', '.join(sorted(roles))})" if roles else "resident account"
        click.echo(f"Created {kind} for {user.email}")
        if generated:
            click.echo(f"Password: {password}")
        if user.needs_two_factor:
            click.echo("Two-factor sign-in is required: they set it up at their first sign-in.")

    app.cli.add_command(users)
