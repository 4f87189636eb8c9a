"""Liveness and readiness: /healthz answers 503 when the database is unreachable."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from portal.extensions import db

bp = Blueprint("health", __name__)


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return True
    except Exception:
        db.session.rollback()
        return False


def redis_status() -> str:
    url = current_app.config["PORTAL"].redis_url
    if not url:
        return "not configured"
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except Exception:
        return "unavailable"


def queue_depth() -> int | None:
    try:
        return int(current_app.extensions["huey"].pending_count())
    except Exception:
        return None


@bp.get("/healthz")
def healthz():
    ok = database_ok()
    response = jsonify(
        {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unavailable"}
    )
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
def readyz():
    database = "ok" if database_ok() else "unavailable"
    redis_state = redis_status()
    depth = queue_depth()
    ready = database == "ok" and redis_state != "unavailable" and depth is not None
    body = {
        "status": "ok" if ready else "unavailable",
        "database": database,
        "redis": redis_state,
        "queue": {"pending": depth},
    }
    return jsonify(body), (200 if ready else 503)
