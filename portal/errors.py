"""Error pages in house style; a CSRF failure is a plain 400 that explains itself."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/400.html",
    413: "errors/413.html",
    429: "errors/429.html",
    500: "errors/500.html",
    503: "errors/503.html",
}


def _wants_json() -> bool:
    return (
        request.path.startswith(("/api/", "/open311/"))
        or request.accept_mimetypes.best == "application/json"
    )


def render_error(status: int, **context: object):
    if _wants_json():
        return jsonify({"error": status, "description": context.get("description", "")}), status
    template = PAGES.get(status, "errors/500.html" if status >= 500 else "errors/400.html")
    return render_template(template, status=status, **context), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_error(
            400, description="Your form could not be sent. Go back, reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        if status == 429:
            retry_after = _retry_after_seconds()
            body, code = render_error(
                429, retry_minutes=math.ceil(retry_after / 60) if retry_after else None
            )
            return body, code, ({"Retry-After": str(retry_after)} if retry_after else {})
        return render_error(status, description=error.description)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.TimeoutError)
    @app.errorhandler(redis_exc.ConnectionError)
    @app.errorhandler(redis_exc.TimeoutError)
    def _unavailable(error: Exception):
        """A dependency that refuses or hangs: the house-style 503, not a 500."""
        log.error("dependency unavailable on %s %s: %s", request.method, request.path, error)
        _forget_user()
        from portal.extensions import db

        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the session is discarded at teardown
            log.debug("rollback after a lost connection failed", exc_info=True)
        body, code = render_error(503)
        return body, code, {"Retry-After": "60"}

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from portal.extensions import db

        db.session.rollback()
        return render_error(500)


def _forget_user() -> None:
    """Render the error page as anonymous: loading the user may be what just failed."""
    from flask import g
    from flask_login import AnonymousUserMixin

    g.dependency_unavailable = True
    if "_login_user" not in g:
        g._login_user = AnonymousUserMixin()


def _retry_after_seconds() -> int | None:
    """Seconds until the limit that was hit resets, from Flask-Limiter's view of this request."""
    from portal.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return None
    return max(1, int(current.reset_at - time.time()))
