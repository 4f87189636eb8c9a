"""Open data: the register as GeoJSON, CSV in the LGA/esd schema, and RSS per ward or search."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for

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
                    "url": url_for("planning.application", slug=a.slug, _external=True),
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
        writer.writerow(
            lga_row(a, settings, url_for("planning.application", slug=a.slug, _external=True))
        )
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
    link = url_for("planning.register", _external=True, **request.args)
    items = []
    for a in rows:
        url = url_for("planning.application", slug=a.slug, _external=True)
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
