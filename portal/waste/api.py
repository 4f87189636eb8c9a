"""The open bin-day API: an address's collections as JSON, no sign-in, cacheable, rate-limited."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask import Blueprint, Response, abort, request

from portal.common.clock import uk_today
from portal.common.gazetteer.services import get_address
from portal.common.urls import external_url
from portal.extensions import limiter
from portal.waste import services

bp = Blueprint("waste_api", __name__, url_prefix="/api/v1")

API_RATE_LIMIT = "60 per minute"
API_DAYS_AHEAD = 56
MAX_AGE = 3600


def collections_document(uprn: str) -> dict | None:
    """The JSON for one address, or None when the UPRN is not in the gazetteer."""
    address = get_address(uprn)
    if address is None:
        return None
    today = uk_today()
    assignments = services.assignments_for(address.uprn)
    found = services.address_collections(
        address.uprn, today, today + timedelta(days=API_DAYS_AHEAD - 1), assignments
    )
    return {
        "uprn": address.uprn,
        "address": address.single_line,
        "collected": bool(assignments),
        "from": today.isoformat(),
        "to": (today + timedelta(days=API_DAYS_AHEAD - 1)).isoformat(),
        "collections": [
            {
                "date": ac.day.isoformat(),
                "type": ac.type.code,
                "name": ac.type.name,
                "container": ac.type.colour,
                "round": ac.round.name,
                "changed": ac.collection.changed,
                "original_date": ac.collection.original.isoformat(),
                "reason": ac.collection.reason or None,
            }
            for ac in found
        ],
        "calendar": external_url("waste.feed", uprn=address.uprn),
        "page": external_url("waste.address", uprn=address.uprn),
    }


@bp.get("/addresses/<uprn>/collections")
@limiter.limit(API_RATE_LIMIT)
def collections(uprn: str):
    document = collections_document(uprn)
    if document is None:
        abort(404, description="No address has that UPRN")
    body = json.dumps(document, separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    headers = {"Cache-Control": f"public, max-age={MAX_AGE}", "ETag": f'"{etag}"'}
    if etag in request.if_none_match:
        return Response(status=304, headers=headers)
    return Response(body, mimetype="application/json", headers=headers)


_COLLECTION = {
    "type": "object",
    "required": ["date", "type", "name", "container", "round", "changed", "original_date"],
    "properties": {
        "date": {"type": "string", "format": "date", "description": "The day it is collected"},
        "type": {"type": "string", "example": "recycling"},
        "name": {"type": "string", "example": "Recycling"},
        "container": {"type": "string", "example": "Blue bin"},
        "round": {"type": "string"},
        "changed": {"type": "boolean", "description": "Moved from the day it was due"},
        "original_date": {"type": "string", "format": "date"},
        "reason": {"type": ["string", "null"]},
    },
}

OPENAPI_SCHEMAS = {
    "BinCollection": _COLLECTION,
    "AddressCollections": {
        "type": "object",
        "properties": {
            "uprn": {"type": "string"},
            "address": {"type": "string"},
            "collected": {
                "type": "boolean",
                "description": "False when the council does not collect from this address",
            },
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "collections": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/BinCollection"},
            },
            "calendar": {"type": "string", "description": "The iCalendar feed to subscribe to"},
            "page": {"type": "string"},
        },
    },
}

OPENAPI_PATHS = {
    "/api/v1/addresses/{uprn}/collections": {
        "get": {
            "summary": "Bin collections at an address for the next eight weeks",
            "description": (
                "No sign-in. Changed collections (bank holidays) are already applied. Answers "
                f"carry ETag and Cache-Control (max-age {MAX_AGE}); ask with If-None-Match for a "
                f"304. Limited to {API_RATE_LIMIT} per client: over it, 429 with Retry-After."
            ),
            "operationId": "getAddressCollections",
            "parameters": [
                {
                    "name": "uprn",
                    "in": "path",
                    "required": True,
                    "description": "The address's Unique Property Reference Number",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
                    "example": "100090000001",
                }
            ],
            "responses": {
                "200": {
                    "description": "The address and its collections, soonest first",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/AddressCollections"}
                        }
                    },
                },
                "304": {"description": "Not modified since the ETag given"},
                "404": {
                    "description": "No address has that UPRN",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "429": {
                    "description": "Too many requests: wait for the seconds in Retry-After",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
            },
        }
    },
}
