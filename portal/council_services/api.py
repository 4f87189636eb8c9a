"""Public JSON under /api/v1: the catalogue with its e-enablement and the live BVPI 157."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.common.urls import absolute_url, external_url
from portal.council_services import services as svc
from portal.council_services.models import Service
from portal.extensions import db

bp = Blueprint("council_services_api", __name__, url_prefix="/api/v1")


@bp.get("/services")
def services_json():
    """Every published service with its LGSL number, URL and interactions."""
    pairs = svc.delivered_pairs()
    rows = db.session.scalars(
        select(Service)
        .where(Service.published)
        .options(selectinload(Service.interactions))
        .order_by(Service.name)
    ).all()
    items = []
    for s in rows:
        interactions = []
        for i in s.interactions:
            delivered = pairs.get((s.lgsl or -1, i.lgil), [])
            channels = list(i.channels or [])
            if delivered:
                channels += [c for c in ("web", "kiosk") if c not in channels]
            interactions.append(
                {
                    "lgil": i.lgil,
                    "label": i.label,
                    "applicable": i.applicable,
                    "permissible": i.permissible,
                    "exclusion_reason": i.exclusion_reason or None,
                    "e_enabled": bool(i.e_enabled or delivered),
                    "channels": channels,
                    "delivered_by_portal": bool(delivered),
                    "target_date": i.target_date.isoformat() if i.target_date else None,
                    "url": (absolute_url(delivered[0].url) if delivered else i.evidence_url)
                    or None,
                }
            )
        items.append(
            {
                "lgsl": s.lgsl,
                "name": s.name,
                "slug": s.slug,
                "summary": s.summary,
                "url": external_url("council_services.service", slug=s.slug),
                "interactions": interactions,
            }
        )
    return jsonify({"services": items, "count": len(items)})


@bp.get("/bvpi157")
def bvpi157_json():
    """The live figure: {"numerator", "denominator", "percent", "as_of"}."""
    return jsonify(svc.bvpi157().as_dict())


INTERACTION_SCHEMA = {
    "type": "object",
    "required": ["lgil", "label", "applicable", "permissible", "e_enabled", "channels"],
    "properties": {
        "lgil": {"type": "integer", "minimum": 0, "maximum": 9},
        "label": {"type": "string"},
        "applicable": {"type": "boolean"},
        "permissible": {"type": "boolean"},
        "exclusion_reason": {"type": ["string", "null"]},
        "e_enabled": {"type": "boolean"},
        "channels": {"type": "array", "items": {"type": "string"}},
        "delivered_by_portal": {"type": "boolean"},
        "target_date": {"type": ["string", "null"], "format": "date"},
        "url": {"type": ["string", "null"]},
    },
}


def _json_response(description: str, schema: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


# What /api/v1/openapi.json says about these endpoints (portal/api collects every slice's).
OPENAPI_PATHS = {
    "/api/v1/services": {
        "get": {
            "summary": "Every published service with its interactions",
            "operationId": "listServices",
            "responses": {"200": _json_response("The catalogue", "ServiceList")},
        }
    },
    "/api/v1/bvpi157": {
        "get": {
            "summary": "The live BVPI 157 figure",
            "operationId": "getBvpi157",
            "responses": {"200": _json_response("The figure now", "Bvpi157")},
        }
    },
}

OPENAPI_SCHEMAS = {
    "Interaction": INTERACTION_SCHEMA,
    "Service": {
        "type": "object",
        "required": ["lgsl", "name", "slug", "url", "interactions"],
        "properties": {
            "lgsl": {"type": ["integer", "null"]},
            "name": {"type": "string"},
            "slug": {"type": "string"},
            "summary": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "interactions": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Interaction"},
            },
        },
    },
    "ServiceList": {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}},
        },
    },
    "Bvpi157": {
        "type": "object",
        "required": ["numerator", "denominator", "percent", "as_of"],
        "properties": {
            "numerator": {"type": "integer"},
            "denominator": {"type": "integer"},
            "percent": {"type": "number"},
            "as_of": {"type": "string", "format": "date-time"},
        },
    },
}
