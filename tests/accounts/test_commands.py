"""The `users create` command and the demo accounts."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.demo import demo_password
from portal.accounts.models import STAFF_ROLES, User
from portal.accounts.passwords import verify_password
from portal.demo import load_all
from portal.extensions import db
from tests.accounts.helpers import get_user


def test_users_create_with_roles_and_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Chief@Example.com",
            "--role",
            "admin",
            "--role",
            "manager",
            "--password",
            "granite ferry bells",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created staff account (admin, manager) for chief@example.com" in result.output
    assert "Two-factor sign-in is required" in result.output
    user = get_user(app, "chief@example.com")
    assert user.roles == {"admin", "manager"}
    assert user.email_confirmed_at is not None
    assert verify_password(user.password_hash, "granite ferry bells")

    result = runner.invoke(
        args=["users", "create", "--email", "chief@example.com", "--role", "admin"]
    )
    assert result.exit_code != 0 and "already an account" in result.output


def test_users_create_generates_a_password_and_refuses_bad_input(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "gen@example.com"])
    assert result.exit_code == 0, result.output
    password = result.output.split("Password: ")[1].strip()
    assert verify_password(get_user(app, "gen@example.com").password_hash, password)
    result = runner.invoke(args=["users", "create", "--email", "x@example.com", "--role", "king"])
    assert result.exit_code != 0
    result = runner.invoke(args=["users", "create", "--email", "not-an-email", "--role", "admin"])
    assert result.exit_code != 0 and "correct format" in result.output
    result = runner.invoke(
        args=["users", "create", "--email", "y@example.com", "--password", "password"]
    )
    assert result.exit_code != 0 and "too common" in result.output


def test_demo_accounts_one_per_role_and_three_residents(app):
    with app.app_context():
        lines = load_all()
        emails = set(db.session.scalars(select(User.email)))
        expected = {f"{role}@castlebrook.example" for role in STAFF_ROLES}
        expected |= {f"resident{n}@castlebrook.example" for n in (1, 2, 3)}
        assert expected <= emails
        admin = db.session.scalar(select(User).where(User.email == "admin@castlebrook.example"))
        assert admin.roles == {"admin"}
        assert verify_password(admin.password_hash, demo_password("admin"))
        resident = db.session.scalar(
            select(User).where(User.email == "resident1@castlebrook.example")
        )
        assert not resident.is_staff
    text = "\n".join(lines)
    assert "accounts: 11 demo accounts created" in text
    assert f"resident2@castlebrook.example / {demo_password('resident2')}" in text
    with app.app_context():
        again = load_all()  # idempotent
        assert db.session.query(User).count() == len(expected)
    assert "accounts: 0 demo accounts created" in again


def test_demo_accounts_refused_in_production(make_app):
    app = make_app(env="production")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "PORTAL_ENV=production" in result.output
    from portal.accounts.demo import load_demo_accounts

    with app.app_context():
        try:
            load_demo_accounts()
        except RuntimeError as error:
            assert "production" in str(error)
        else:
            raise AssertionError("demo accounts were created in production")
        assert db.session.query(User).count() == 0
