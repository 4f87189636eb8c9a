"""Open data: the register as GeoJSON, CSV in the LGA/esd schema, and RSS per ward or search."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, jsonify, request

from portal.common.urls import external_url
from portal.extensions import db
from portal.planning import services
from portal.planning.importer import LGA_COLUMNS, lga_row
from portal.planning.models import PlanningApplication

bp = Blueprint("planning_api", __name__, url_prefix="/api/v1/planning")
MAX_ROWS = 5000


def _filtered():
    """The register search plus `bbox` (west,south,east,north) and `since` (updated since)."""
    params = services.parse_search(request.args)
    if params.errors:
        abort(400, description=params.errors[0][1])
    query = services.search_query(params)
    bbox = request.args.get("bbox")
    if bbox:
        try:
            west, south, east, north = (float(v) for v in bbox.split(","))
        except ValueError:
            abort(400, description="bbox must be west,south,east,north in degrees")
        query = query.where(
            PlanningApplication.latitude.between(south, north),
            PlanningApplication.longitude.between(west, east),
        )
    since = request.args.get("since")
    if since:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            abort(400, description="since must be an ISO 8601 date or date-time")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        query = query.where(PlanningApplication.updated_at >= moment)
    try:
        limit = max(1, min(int(request.args.get("limit", MAX_ROWS)), MAX_ROWS))
    except ValueError:
        limit = MAX_ROWS
    query = query.order_by(PlanningApplication.received_date.desc(), PlanningApplication.id.desc())
    return list(db.session.scalars(query.limit(limit)))


@bp.get("/applications")
def applications_geojson():
    features = []
    for a in _filtered():
        features.append(
            {
                "type": "Feature",
                "id": a.reference,
                "geometry": {"type": "Point", "coordinates": [a.longitude, a.latitude]},
                "properties": {
                    "reference": a.reference,
                    "url": external_url("planning.application", slug=a.slug),
                    "address": a.site_address,
                    "uprn": a.uprn,
                    "ward": a.ward,
                    "description": a.description,
                    "application_type": a.application_type,
                    "status": a.status,
                    "received_date": a.received_date.isoformat(),
                    "consultation_end": a.consultation_end.isoformat()
                    if a.consultation_end
                    else None,
                    "decision": a.decision,
                    "decision_date": a.decision_date.isoformat() if a.decision_date else None,
                    "updated_at": a.updated_at.isoformat(),
                },
            }
        )
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    return response


@bp.get("/applications.csv")
def applications_csv():
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LGA_COLUMNS)
    settings = current_app.config["PORTAL"]
    for a in _filtered():
        writer.writerow(lga_row(a, settings, external_url("planning.application", slug=a.slug)))
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=planning-applications.csv"},
    )


@bp.get("/applications.rss")
def applications_rss():
    """New applications as RSS 2.0, for a ward (?ward=) or any register search."""
    rows = _filtered()[:50]
    settings = current_app.config["PORTAL"]
    title = f"{settings.council_name}: new planning applications"
    if request.args.get("ward"):
        title += f" in {request.args['ward']} ward"
    if request.args.get("q"):
        title += f" matching “{request.args['q']}”"
    link = external_url("planning.register", **request.args)
    items = []
    for a in rows:
        url = external_url("planning.application", slug=a.slug)
        published = datetime(
            a.received_date.year, a.received_date.month, a.received_date.day, tzinfo=UTC
        )
        items.append(
            "<item>"
            f"<title>{escape(a.reference + ': ' + a.site_address)}</title>"
            f'<link>{escape(url)}</link><guid isPermaLink="true">{escape(url)}</guid>'
            f"<description>{escape(a.description)}</description>"
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<category>{escape(a.status_label)}</category>"
            "</item>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(title)}</description>" + "".join(items) + "</channel></rss>\n"
    )
    return Response(body, mimetype="application/rss+xml")


def _parameters(*names: str) -> list[dict]:
    known = {
        "q": ("Words in the reference, address or proposal", "string", "extension"),
        "status": ("Status code, e.g. live, approved, refused", "string", "live"),
        "type": ("Application type code, e.g. HOU, FUL", "string", "HOU"),
        "ward": ("Ward name", "string", "Castle"),
        "received_from": ("Received on or after (YYYY-MM-DD)", "string", "2026-01-01"),
        "received_to": ("Received on or before (YYYY-MM-DD)", "string", "2026-12-31"),
        "bbox": ("west,south,east,north in degrees (WGS84)", "string", "-1.7,52.9,-1.4,53.0"),
        "since": ("Updated since (ISO 8601 date or date-time)", "string", "2026-01-01"),
        "limit": (f"At most this many (1 to {MAX_ROWS})", "integer", 100),
    }
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": known[name][0],
            "schema": {"type": known[name][1]},
            "example": known[name][2],
        }
        for name in names
    ]


_SEARCH = ("q", "status", "type", "ward", "received_from", "received_to", "bbox", "since", "limit")
_BAD_REQUEST = {
    "400": {"description": "A parameter is not valid", "content": {"application/json": {}}}
}

# What /api/v1/openapi.json says about the planning open data (portal/api collects it).
OPENAPI_PATHS = {
    "/api/v1/planning/applications": {
        "get": {
            "summary": "Planning applications as GeoJSON (newest first)",
            "operationId": "listPlanningApplicationsGeoJson",
            "parameters": _parameters(*_SEARCH),
            "responses": {
                "200": {
                    "description": "A GeoJSON FeatureCollection, one Point per application",
                    "content": {"application/geo+json": {"schema": {"type": "object"}}},
                },
                **_BAD_REQUEST,
            },
        }
    },
    "/api/v1/planning/applications.csv": {
        "get": {
            "summary": "Planning applications as CSV in the LGA planning applications schema",
            "operationId": "listPlanningApplicationsCsv",
            "parameters": _parameters(*_SEARCH),
            "responses": {
                "200": {
                    "description": "CSV with a header row",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                **_BAD_REQUEST,
            },
        }
    },
    "/api/v1/planning/applications.rss": {
        "get": {
            "summary": "The 50 newest applications as RSS 2.0, for a ward or any search",
            "operationId": "planningApplicationsRss",
            "parameters": _parameters(*_SEARCH),
            "responses": {
                "200": {
                    "description": "An RSS 2.0 feed",
                    "content": {"application/rss+xml": {"schema": {"type": "string"}}},
                },
                **_BAD_REQUEST,
            },
        }
    },
}
