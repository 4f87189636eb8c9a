"""Accounts: residents, staff roles, sign-in and "My council"."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request

from portal.extensions import login_manager

NO_STORE_BLUEPRINTS = {"accounts", "staff"}


def register(app: Flask) -> None:
    from flask_login import current_user

    from portal.accounts import models  # noqa: F401  (tables known to migrations)
    from portal.accounts.cli import register_cli
    from portal.accounts.demo import load_demo_accounts
    from portal.accounts.sessions import REMEMBER_TIMEOUT, current_session
    from portal.accounts.views import bp
    from portal.demo import register_demo_loader
    from portal.staff import register as register_staff

    @login_manager.request_loader
    def _load_user_from_session(_request):  # noqa: ANN001, ANN202
        row = current_session()
        return row.user if row else None

    login_manager.login_view = "accounts.sign_in"
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
