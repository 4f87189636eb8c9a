"""Demo accounts: one per staff role (<role>@castlebrook.example) and three residents."""

from __future__ import annotations

from flask import current_app

from portal.accounts import services
from portal.accounts.models import STAFF_ROLES
from portal.extensions import db

DEMO_DOMAIN = "castlebrook.example"
RESIDENTS = (
    ("resident1", "Alex Morgan"),
    ("resident2", "Sam Patel"),
    ("resident3", "Jo Williams"),
)


def demo_password(name: str) -> str:
    """The demo account's password (demo data is refused in production)."""
    return f"castlebrook demo {name}"


def load_demo_accounts() -> list[str]:
    """Create the demo accounts that are missing; returns their credentials to print."""
    if current_app.config["PORTAL"].is_production:
        raise RuntimeError("Demo accounts are refused when PORTAL_ENV=production")
    lines = []
    created = 0
    people = [(role, f"{role.capitalize()} (demo)", (role,)) for role in STAFF_ROLES]
    people += [(name, full_name, ()) for name, full_name in RESIDENTS]
    for name, full_name, roles in people:
        email = f"{name}@{DEMO_DOMAIN}"
        if services.user_by_email(email) is None:
            services.create_user(email, roles, password=demo_password(name), name=full_name)
            created += 1
        note = (
            " (sets up two-factor sign-in at first sign-in)"
            if set(roles) & {"admin", "finance"}
            else ""
        )
        lines.append(f"{email} / {demo_password(name)}{note}")
    db.session.commit()
    return [f"{created} demo accounts created", *lines]
