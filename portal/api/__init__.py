"""The public API's description: /api/v1/openapi.json, built from what each slice declares.

A slice with public machine-readable endpoints calls `register_openapi(app, paths, schemas)` from
its `register(app)`: `paths` are OpenAPI path items keyed by the full path ("/api/v1/services",
"/open311/v2/services.{format}"), each operation with an `example` for every parameter (a test
calls every documented path with them). The server is the configured base URL, never the
request's host.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify

from portal.common.urls import base_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_KEY = "portal_openapi"


def register_openapi(
    app: Flask, paths: dict[str, Any], schemas: dict[str, Any] | None = None
) -> None:
    """Add a slice's public paths (and the schemas they refer to) to the API description."""
    spec = app.extensions.setdefault(OPENAPI_KEY, {"paths": {}, "schemas": {}})
    spec["paths"].update(paths)
    spec["schemas"].update(schemas or {})


def openapi_document() -> dict[str, Any]:
    spec = current_app.extensions.get(OPENAPI_KEY, {"paths": {}, "schemas": {}})
    settings = current_app.config["PORTAL"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.council_name} public API",
            "version": "1.0.0",
            "description": (
                "Services A to Z with their e-enablement and the live BVPI 157 figure; the "
                "planning register as GeoJSON, CSV and RSS; service requests (Open311 GeoReport v2)."
            ),
        },
        "servers": [{"url": base_url()}],
        "paths": dict(sorted(spec["paths"].items())),
        "components": {"schemas": spec["schemas"]},
    }


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 description of the public API."""
    return jsonify(openapi_document())


def register(app: Flask) -> None:
    app.register_blueprint(bp)
