"""Accounts: residents, staff roles, sign-in and "My council"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, g, request, url_for

from portal.extensions import login_manager

NO_STORE_BLUEPRINTS = {"accounts", "staff"}


def duration_text(seconds: int) -> str:
    """A length of time in words: "12 hours", "30 minutes", "45 seconds"."""
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def register(app: Flask) -> None:
    from flask_login import current_user

    from portal.accounts import models  # noqa: F401  (tables known to migrations)
    from portal.accounts.cli import register_cli
    from portal.accounts.demo import load_demo_accounts
    from portal.accounts.sessions import REMEMBER_TIMEOUT, current_session, time_left
    from portal.accounts.views import bp
    from portal.common.clock import govuk_time_on_day
    from portal.demo import register_demo_loader
    from portal.staff import register as register_staff

    @login_manager.request_loader
    def _load_user_from_session(_request):  # noqa: ANN001, ANN202
        row = current_session()
        g.user_session = row
        return row.user if row else None

    @app.context_processor
    def _session_timeout() -> dict[str, Any]:
        """What the signed-out warning needs (not on a kiosk, which clears itself sooner)."""
        if not current_user.is_authenticated:  # also loads the session row into g
            return {"session_timeout": None}
        row = g.get("user_session")
        left = time_left(row) if row is not None else None
        if left is None or g.get("kiosk"):
            return {"session_timeout": None}
        settings = app.config["PORTAL"]
        idle, absolute = left
        return {
            "session_timeout": {
                "idle_seconds": int(idle.total_seconds()),
                "absolute_seconds": int(absolute.total_seconds()),
                "warning_seconds": settings.session_warning_seconds,
                "idle_text": duration_text(settings.session_idle_seconds),
                "absolute_text": duration_text(settings.session_absolute_seconds),
                "ends_at": govuk_time_on_day(row.expires_at),
                "extend_url": url_for("accounts.stay_signed_in"),
            }
        }

    login_manager.login_view = "accounts.sign_in"
    # Sessions are server-side and revocable (decision 0006) and no page asks for a "fresh"
    # sign-in, so Flask-Login's own session protection (a SHA-512 of the client's address and
    # user agent on every request, and a session write when it changes) adds nothing.
    login_manager.session_protection = None
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    # A "remember me" cookie lasts no longer than the server-side session behind it.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=REMEMBER_TIMEOUT.total_seconds())

    app.register_blueprint(bp)
    register_staff(app)
    app.extensions.setdefault("portal_my_council_sections", [])
    app.extensions.setdefault("portal_personal_data", [])
    register_demo_loader(app, 20, "accounts", load_demo_accounts)
    register_cli(app)

    @app.after_request
    def _no_store_when_signed_in(response: Response) -> Response:
        """Pages for a signed-in person, and the account forms, are never kept in a cache."""
        if request.endpoint in {"assets.asset", "static"}:
            return response
        if request.blueprint in NO_STORE_BLUEPRINTS or current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response
