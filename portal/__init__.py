"""The council portal: create_app() builds the Flask application from a readable list of steps."""

from __future__ import annotations

from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from portal.config import Settings, require_secret_key_in_production


def create_app(overrides: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the portal. `overrides` replaces Flask config keys (tests use it)."""
    settings = settings or Settings.from_environ()
    require_secret_key_in_production(settings)
    settings.check_production()
    app = Flask(__name__, instance_path=settings.instance_path, static_folder="static")
    app.config.from_mapping(settings.flask_config())
    if overrides:
        app.config.update(overrides)

    register_templates(app)
    register_extensions(app)
    register_security(app)
    register_logging(app)
    register_blueprints(app)
    register_error_pages(app)
    register_cli(app)
    return app


def register_templates(app: Flask) -> None:
    from portal import templating

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(app.root_path) + "/templates"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    templating.init_app(app)


def register_extensions(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers

    from portal import db as portal_db
    from portal import jobs
    from portal.common import browser_sessions
    from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    browser_sessions.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path) + "/../migrations")
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    htmx.init_app(app)
    WTFormsHelpers(app)
    jobs.init_app(app)
    with app.app_context():
        portal_db.configure_sqlite_engine(db.engine)

    @app.before_request
    def _declare_write_intent() -> None:
        from flask import request

        portal_db.set_write_intent(request.method not in {"GET", "HEAD", "OPTIONS"})


def register_security(app: Flask) -> None:
    from portal.security import register_security_headers

    register_security_headers(app)


def register_logging(app: Flask) -> None:
    from portal.observability import init_request_logging

    init_request_logging(app)


def register_blueprints(app: Flask) -> None:
    from portal.accounts import register as register_accounts
    from portal.api import register as register_api
    from portal.channels import register as register_channels
    from portal.common import register as register_common
    from portal.council_services import register as register_council_services
    from portal.facilities import register as register_facilities
    from portal.garden import register as register_garden
    from portal.health import bp as health_bp
    from portal.payments import register as register_payments
    from portal.planning import register as register_planning
    from portal.repairs import register as register_repairs
    from portal.site import bp as site_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(health_bp)
    register_common(app)
    register_accounts(app)
    register_api(app)
    register_council_services(app)
    register_payments(app)
    register_repairs(app)
    register_planning(app)
    __import__("portal.online_forms", fromlist=["register"]).register(app)
    register_channels(app)
    __import__("portal.waste", fromlist=["register"]).register(app)
    register_facilities(app)
    register_garden(app)


def register_error_pages(app: Flask) -> None:
    from portal.errors import register_error_handlers

    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    from portal.cli import register_commands

    register_commands(app)
