"""Security headers on every response: a per-request CSP nonce, HSTS over HTTPS, nosniff."""

from __future__ import annotations

import functools
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request
from werkzeug.sansio.utils import host_is_trusted


def csp_nonce() -> str:
    """The nonce of this request, created on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _origin(url: str) -> str:
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc
    if "{s}." in url:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def content_security_policy(nonce: str, tile_url: str, extra_form_action: str = "") -> str:
    return _policy_template(tile_url, extra_form_action).replace(_NONCE_SLOT, nonce)


_NONCE_SLOT = "\x00nonce\x00"


@functools.lru_cache(maxsize=16)
def _policy_template(tile_url: str, extra_form_action: str) -> str:
    """The policy with a slot for the nonce, worked out once per (tile server, form action)."""
    nonce = _NONCE_SLOT
    tile_origin = _origin(tile_url)
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
        "img-src": " ".join(filter(None, ["'self'", "data:", tile_origin])),
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": " ".join(filter(None, ["'self'", extra_form_action])),
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def trust_proxies(app: Flask) -> None:
    """Behind PORTAL_TRUSTED_PROXIES reverse proxies, take the client address and scheme from them.

    Only the given number of X-Forwarded-* hops is believed, so a client cannot spoof its address
    (rate limits and the audit log use it) or make plain HTTP look like HTTPS.
    """
    hops = app.config["PORTAL"].trusted_proxies
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


# Load balancers and container probes ask for these by address, not by the public name.
PROBE_PATHS = {"/healthz", "/readyz"}
PROBE_HOSTS = ["localhost", "127.0.0.1", "::1"]


def refuse_untrusted_hosts(app: Flask) -> None:
    """In production, answer 400 to a Host that is not ours (after any trusted proxy's rewrite).

    Links are never built from the Host header (see portal/common/urls.py); refusing other hosts
    as well stops cache poisoning and a copy of the site answering under someone else's name.
    """
    settings = app.config["PORTAL"]
    if not settings.is_production:
        return
    allowed = settings.allowed_hosts()

    def _check_host() -> None:
        host = request.environ.get("HTTP_HOST") or request.environ.get("SERVER_NAME", "")
        if host_is_trusted(host, allowed):
            return
        if request.path in PROBE_PATHS and host_is_trusted(host, PROBE_HOSTS):
            return
        abort(400, description="This address is not served here.")

    # First of all the before-request functions: nothing else runs for a refused host.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_host)


def register_security_headers(app: Flask) -> None:
    settings = app.config["PORTAL"]
    trust_proxies(app)
    refuse_untrusted_hosts(app)

    @app.context_processor
    def _inject_nonce() -> dict[str, object]:
        return {"csp_nonce": csp_nonce}

    @app.after_request
    def _set_headers(response: Response) -> Response:
        extra_form_action = app.config.get("CSP_EXTRA_FORM_ACTION", "")
        response.headers["Content-Security-Policy"] = content_security_policy(
            csp_nonce(), settings.map_tile_url, extra_form_action
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
        if request.is_secure or settings.base_url.startswith("https://"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
