"""Template globals: the council's identity, content-hashed asset URLs, the main navigation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from jinja2 import Template
from markupsafe import Markup
from werkzeug.exceptions import NotFound
from werkzeug.routing import BuildError

from portal.common import clock

assets_bp = Blueprint("assets", __name__)
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Council:
    name: str
    short_name: str
    brand_colour: str
    phone: str
    out_of_hours_phone: str
    gas_emergency_phone: str
    email: str
    address: str
    opening_hours: str


@lru_cache(maxsize=512)
def _file_hash(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def asset_url(filename: str) -> str:
    """URL of a static file with its content hash in the path, so it can be cached for a year.

    Outside debug mode the URL is worked out once per worker (static files change only with a
    deployment, which restarts the workers); in debug mode an edited file gets a new URL at once.
    """
    known: dict[tuple[str, str], str] = current_app.extensions.setdefault("portal_asset_urls", {})
    key = (request.script_root if has_request_context() else "", filename)
    url = None if current_app.debug else known.get(key)
    if url is None:
        static = Path(current_app.static_folder or "")
        path = static / filename
        digest = _file_hash(str(path), path.stat().st_mtime) if path.exists() else "0"
        url = known[key] = url_for("assets.asset", digest=digest, filename=filename)
    return url


@assets_bp.get("/assets/<digest>/<path:filename>")
def asset(digest: str, filename: str):
    """Serve a static file under its hashed URL with a year-long immutable cache."""
    response = send_from_directory(current_app.static_folder or "", filename, max_age=ONE_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


# Main navigation: (label, endpoint); items whose slice is not installed are left out.
NAVIGATION = [
    ("Services A to Z", "council_services.index"),
    ("Pay", "payments.pay_start"),
    ("Repairs", "repairs.start"),
    ("Planning", "planning.register"),
]


def _endpoint_url(endpoint: str) -> str | None:
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def link_allowed(target: str) -> bool:
    """Whether to show a link (an endpoint name, or a path on the portal) to this visitor.

    A slice can close pages to a visitor in a way known before the click (while staff act for a
    caller, pages outside their role): it adds a guard `(endpoint) -> bool` to
    `app.extensions["portal_link_guards"]`, and such links are not shown.
    """
    guards = current_app.extensions.get("portal_link_guards", [])
    if not guards:
        return True
    endpoint = target
    if target.startswith("/"):
        try:
            endpoint = current_app.url_map.bind("").match(target.split("?")[0])[0]
        except Exception:  # not one of the portal's pages (or not a GET): nothing to say
            return True
    return all(guard(endpoint) for guard in guards)


def service_navigation() -> list[dict[str, Any]]:
    items = []
    for label, endpoint in NAVIGATION:
        href = _endpoint_url(endpoint)
        if href and link_allowed(endpoint):
            items.append({"text": label, "href": href, "active": request.path.startswith(href)})
    if current_user.is_authenticated:
        if getattr(current_user, "is_staff", False):
            href = _endpoint_url("staff.dashboard")
            if href:
                items.append(
                    {"text": "Staff", "href": href, "active": request.path.startswith(href)}
                )
        href = _endpoint_url("accounts.my_council")
        if href:
            items.append(
                {"text": "My council", "href": href, "active": request.path.startswith(href)}
            )
        href = _endpoint_url("accounts.sign_out")
        if href:
            items.append({"text": "Sign out", "href": href})
    else:
        href = _endpoint_url("accounts.sign_in")
        if href:
            items.append({"text": "Sign in", "href": href, "active": request.path.startswith(href)})
    return items


def site_banners() -> list[Any]:
    """Site-wide alert banners from every provider a slice registered."""
    banners: list[Any] = []
    if g.get("dependency_unavailable"):  # the 503 page: the banners' database is not answering
        return banners
    for provider in current_app.extensions.get("portal_site_banner_providers", []):
        banners.extend(provider())
    return banners


def error_item(pair: tuple[str, str]) -> dict[str, str]:
    """(href, message) → the dict the GOV.UK error summary expects."""
    href, text = pair
    return {"href": href, "text": text}


class PortalTemplate(Template):
    """A Jinja template whose `{% from … import … %}` skips a per-import walk of the globals.

    On every import Jinja 3.1 works out which of the importing page's globals the imported
    template lacks (`ctx.globals_keys - self.globals.keys()`: one ChainMap lookup per global,
    about 30 µs) so that it can pass them on. A page makes a dozen imports (the GOV.UK macros),
    and here every template's globals are the environment's, so the answer is "none", and then
    Jinja returns the module it cached. That case is recognised with one C-level subset test;
    anything else (a template loaded with globals of its own) goes through Jinja unchanged.
    """

    def _get_default_module(self, ctx=None):  # noqa: ANN001, ANN202
        if ctx is not None and ctx.globals_keys.issubset(self.environment.globals):
            ctx = None
        return super()._get_default_module(ctx)


def shared_fragment(name: str) -> Markup:
    """A part of the layout that is the same for everyone (the skip link, the phase banner):
    rendered from `components/shared/<name>.html` once per worker and application root, then
    reused on every page. Such a fragment uses nothing that depends on the visitor or the
    request beyond the application root its links start with."""
    cache: dict[tuple[str, str], Markup] = current_app.extensions["portal_shared_fragments"]
    key = (name, request.script_root if has_request_context() else "")
    found = cache.get(key)
    if found is None:
        html = render_template(f"components/shared/{name}.html")  # autoescaped
        found = cache[key] = Markup(html)  # noqa: S704 - a template's own escaped output
    return found


def use_portal_templates(environment) -> None:  # noqa: ANN001
    """Load templates as PortalTemplate (left alone if Jinja no longer has that hook)."""
    if hasattr(Template, "_get_default_module"):
        environment.template_class = PortalTemplate


def init_app(app: Flask) -> None:
    settings = app.config["PORTAL"]
    use_portal_templates(app.jinja_env)
    council = Council(
        name=settings.council_name,
        short_name=settings.council_short_name,
        brand_colour=settings.council_brand_colour,
        phone=settings.council_phone,
        out_of_hours_phone=settings.council_out_of_hours_phone,
        gas_emergency_phone=settings.council_gas_emergency_phone,
        email=settings.council_email,
        address=settings.council_address,
        opening_hours=settings.council_opening_hours,
    )
    app.extensions.setdefault("portal_site_banner_providers", [])
    app.extensions["portal_shared_fragments"] = {}
    app.register_blueprint(assets_bp)
    app.jinja_env.filters["error_item"] = error_item
    # Stored datetimes are UTC: `value|uk_time` is the same instant in UK local time (for
    # strftime), `value|uk_date` the UK calendar date it fell on.
    app.jinja_env.filters["uk_time"] = clock.to_uk
    app.jinja_env.filters["uk_date"] = clock.uk_date
    app.jinja_env.filters["govuk_date"] = clock.govuk_date
    app.jinja_env.filters["govuk_time"] = clock.govuk_time
    app.jinja_env.filters["govuk_datetime"] = clock.govuk_datetime
    app.jinja_env.globals.update(
        council=council,
        asset_url=asset_url,
        service_navigation=service_navigation,
        link_allowed=link_allowed,
        site_banners=site_banners,
        shared_fragment=shared_fragment,
    )


__all__ = ["Council", "NotFound", "asset_url", "init_app"]
