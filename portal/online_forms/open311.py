"""Open311 GeoReport v2 at /open311/v2/: forms that take a location are its services.

Reading is public and shows public fields only (never who reported or their answers); POST
requests.json needs an API key that staff issue and revoke. CSRF does not apply: the key is the
credential, and no cookie authenticates these calls.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from portal.common.clock import uk_today
from portal.common.gazetteer.geography import council_area
from portal.common.gazetteer.services import get_address
from portal.common.models import utcnow
from portal.common.references import new_reference
from portal.common.transactions import record_transaction
from portal.extensions import db, limiter
from portal.online_forms import services
from portal.online_forms.models import FormSubmission, OnlineForm
from portal.online_forms.questions import options_of

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
DATATYPES = {
    "text": "string",
    "email": "string",
    "phone": "string",
    "textarea": "text",
    "number": "number",
    "money": "number",
    "date": "datetime",
    "radios": "singlevaluelist",
    "yes_no": "singlevaluelist",
    "checkboxes": "multivaluelist",
}


def _services() -> list[OnlineForm]:
    forms = db.session.scalars(
        select(OnlineForm).where(OnlineForm.takes_location.is_(True)).order_by(OnlineForm.title)
    ).all()
    return [f for f in forms if services.is_open(f)]


def _service(code: str) -> OnlineForm | None:
    return next((f for f in _services() if f.slug == code), None)


def _xml(root: str, item: str, rows: list[dict]) -> Response:
    top = ET.Element(root)
    for row in rows:
        _add(top, item, row)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return Response(body, mimetype="text/xml")


def _add(parent: ET.Element, tag: str, value: object) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, list):
                holder = ET.SubElement(element, key)
                for entry in inner:
                    _add(holder, key[:-1] if key.endswith("s") else key, entry)
            else:
                _add(element, key, inner)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def _error(status: int, description: str, fmt: str = "json") -> Response:
    rows = [{"code": status, "description": description}]
    response = _xml("errors", "error", rows) if fmt == "xml" else jsonify(rows)
    response.status_code = status
    return response


def _service_row(form: OnlineForm) -> dict:
    return {
        "service_code": form.slug,
        "service_name": form.title,
        "description": (form.live_version.definition.get("intro") or form.title)[:500],
        "metadata": bool(_attributes(form)),
        "type": "batch",
        "keywords": f"lgsl-{form.lgsl}",
        "group": form.office,
    }


def _attributes(form: OnlineForm) -> list[dict]:
    attributes = []
    order = 0
    for question in services.all_questions(form.live_version.definition):
        if question["type"] not in DATATYPES:
            continue
        order += 1
        row = {
            "variable": True,
            "code": question["id"],
            "datatype": DATATYPES[question["type"]],
            "required": not question.get("optional", False),
            "datatype_description": question.get("hint") or "",
            "order": order,
            "description": question["label"],
        }
        if question["type"] in ("radios", "yes_no", "checkboxes"):
            row["values"] = [{"key": o["value"], "name": o["label"]} for o in options_of(question)]
        attributes.append(row)
    return attributes


@bp.get("/services.<fmt>")
def service_list(fmt: str):
    rows = [_service_row(f) for f in _services()]
    if fmt == "xml":
        return _xml("services", "service", rows)
    if fmt != "json":
        return _error(404, "Use services.json or services.xml")
    return jsonify(rows)


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    form = _service(code)
    if form is None:
        return _error(404, f"There is no service {code}", fmt)
    definition = {"service_code": form.slug, "attributes": _attributes(form)}
    if fmt == "xml":
        top = ET.Element("service_definition")
        ET.SubElement(top, "service_code").text = form.slug
        holder = ET.SubElement(top, "attributes")
        for attribute in definition["attributes"]:
            _add(holder, "attribute", attribute)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
        return Response(body, mimetype="text/xml")
    return jsonify(definition)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request_row(submission: FormSubmission) -> dict:
    """Public fields only: nothing about who reported it or what else they said."""
    closed = submission.status in (FormSubmission.RESOLVED, FormSubmission.REJECTED)
    expected = (
        datetime.combine(submission.due_on, datetime.min.time(), UTC) if submission.due_on else None
    )
    return {
        "service_request_id": submission.reference,
        "status": "closed" if closed else "open",
        "status_notes": submission.status_label,
        "service_name": submission.form.title,
        "service_code": submission.form.slug,
        "description": "",
        "agency_responsible": f"{current_app.config['PORTAL'].council_name}, {submission.office}",
        "service_notice": f"We reply within {submission.form.response_days} working days",
        "requested_datetime": _iso(submission.submitted_at),
        "updated_datetime": _iso(submission.updated_at),
        "expected_datetime": _iso(expected),
        "address": submission.address_text or "",
        "address_id": "",
        "zipcode": "",
        "lat": submission.latitude,
        "long": submission.longitude,
        "media_url": "",
    }


def _parse_when(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.get("/requests.<fmt>")
def request_list(fmt: str):
    codes = {
        f.slug: f
        for f in db.session.scalars(select(OnlineForm).where(OnlineForm.takes_location.is_(True)))
    }
    query = select(FormSubmission).where(
        FormSubmission.form_id.in_([f.id for f in codes.values()]),
        FormSubmission.status != FormSubmission.AWAITING_PAYMENT,
    )
    ids = request.args.get("service_request_id", "")
    if ids:
        query = query.where(FormSubmission.reference.in_([i.strip() for i in ids.split(",")]))
    else:
        wanted = [c for c in request.args.get("service_code", "").split(",") if c]
        if wanted:
            query = query.where(
                FormSubmission.form_id.in_([codes[c].id for c in wanted if c in codes])
            )
        start = (
            _parse_when(request.args.get("start_date", ""))
            if request.args.get("start_date")
            else None
        )
        end = (
            _parse_when(request.args.get("end_date", "")) if request.args.get("end_date") else None
        )
        if (request.args.get("start_date") and start is None) or (
            request.args.get("end_date") and end is None
        ):
            return _error(400, "Dates must be in W3C format, like 2026-01-01T00:00:00Z", fmt)
        end = end or utcnow()
        start = start or end - timedelta(days=90)
        query = query.where(
            FormSubmission.submitted_at >= start, FormSubmission.submitted_at <= end
        )
        status = request.args.get("status", "")
        if status == "open":
            query = query.where(FormSubmission.status.in_(FormSubmission.OPEN))
        elif status == "closed":
            query = query.where(
                FormSubmission.status.in_((FormSubmission.RESOLVED, FormSubmission.REJECTED))
            )
    rows = [
        _request_row(s)
        for s in db.session.scalars(query.order_by(FormSubmission.submitted_at.desc()).limit(1000))
    ]
    if fmt == "xml":
        return _xml("service_requests", "request", rows)
    return jsonify(rows)


@bp.get("/requests/<reference>.<fmt>")
def request_detail(reference: str, fmt: str):
    submission = db.session.scalar(
        select(FormSubmission).where(FormSubmission.reference == reference)
    )
    if (
        submission is None
        or not submission.form.takes_location
        or submission.status == FormSubmission.AWAITING_PAYMENT
    ):
        return _error(404, f"There is no request {reference}", fmt)
    rows = [_request_row(submission)]
    if fmt == "xml":
        return _xml("service_requests", "request", rows)
    return jsonify(rows)


@bp.post("/requests.json")
@limiter.limit("60 per minute")
def create_request():
    """A new request from a third-party client holding an API key."""
    data = request.form
    if not services.key_is_valid(data.get("api_key", "")):
        return _error(401, "A valid api_key is required")
    form = _service(data.get("service_code", ""))
    if form is None:
        return _error(404, "service_code is not a service here")
    definition = form.live_version.definition
    answers: dict = {}
    location_question = next(
        (q for q in services.all_questions(definition) if q["type"] == "address"), None
    )
    lat_text, lng_text = data.get("lat", ""), data.get("long", "")
    address = get_address(data.get("address_id", "")) if data.get("address_id") else None
    if address is not None:
        location = {
            "uprn": address.uprn,
            "text": address.single_line,
            "lat": address.latitude,
            "lng": address.longitude,
        }
    elif lat_text and lng_text:
        try:
            lat, lng = float(lat_text), float(lng_text)
        except ValueError:
            return _error(400, "lat and long must be numbers")
        if not council_area().contains(lat, lng):
            return _error(400, "The location is outside the council area")
        location = {
            "lat": lat,
            "lng": lng,
            "text": data.get("address_string") or f"Map point {lat:.5f}, {lng:.5f}",
        }
    elif data.get("address_string"):
        location = {"text": data["address_string"][:300]}
    else:
        return _error(400, "Give lat and long, address_string or address_id")
    if location_question:
        answers[location_question["id"]] = location
    for question in services.all_questions(definition):
        if question["type"] not in DATATYPES:
            continue
        key = f"attribute[{question['id']}]"
        if question["type"] == "checkboxes":
            values = data.getlist(key) or data.getlist(f"{key}[]")
            if values:
                answers[question["id"]] = values
        elif data.get(key):
            answers[question["id"]] = data[key][:2000]
        if question["id"] not in answers and not question.get("optional"):
            return _error(400, f"attribute[{question['id']}] is required: {question['label']}")
    answers["_open311"] = {
        k: data.get(k, "")[:2000]
        for k in ("description", "first_name", "last_name", "phone", "media_url")
        if data.get(k)
    }
    submission = FormSubmission(
        reference=new_reference("FS", services._exists),
        idempotency_key="open311-" + secrets.token_urlsafe(24),
        form_id=form.id,
        version_id=form.live_version.id,
        office=form.office,
        answers=answers,
        email=data.get("email") or None,
        channel="web",
        status=FormSubmission.RECEIVED,
        submitted_at=utcnow(),
        updated_at=utcnow(),
        due_on=services.working_days_after(uk_today(), form.response_days),
        address_text=location.get("text"),
        latitude=location.get("lat"),
        longitude=location.get("lng"),
        source="open311",
    )
    db.session.add(submission)
    db.session.flush()
    record_transaction("form_submission", form.lgsl, form.lgil, submission.reference)
    services.send_confirmation(submission)
    db.session.commit()
    response = jsonify(
        [
            {
                "service_request_id": submission.reference,
                "service_notice": f"We reply within {form.response_days} working days",
                "account_id": None,
            }
        ]
    )
    response.status_code = 201
    return response


def _format_parameter() -> dict:
    return {
        "name": "format",
        "in": "path",
        "required": True,
        "description": "json or xml",
        "schema": {"type": "string", "enum": ["json", "xml"]},
        "example": "json",
    }


def _georeport(description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "text/xml": {"schema": {"type": "string"}},
        },
    }


_NOT_FOUND = {"404": {**_georeport("Not found"), "description": "There is no such thing"}}
_QUERY = [
    ("service_request_id", "Comma-separated request ids (the other filters are then ignored)"),
    ("service_code", "Comma-separated service codes"),
    ("start_date", "W3C date-time; default 90 days before end_date"),
    ("end_date", "W3C date-time; default now"),
    ("status", "open or closed"),
]
_EXAMPLES = {
    "service_code": "report-fly-tipping",
    "start_date": "2026-01-01T00:00:00Z",
    "end_date": "2030-01-01T00:00:00Z",
    "status": "open",
}

# What /api/v1/openapi.json says about Open311 GeoReport v2 (portal/api collects it).
OPENAPI_PATHS = {
    "/open311/v2/services.{format}": {
        "get": {
            "summary": "Open311: the services that take reports at a location",
            "operationId": "open311ServiceList",
            "parameters": [_format_parameter()],
            "responses": {"200": _georeport("The services")},
        }
    },
    "/open311/v2/services/{service_code}.{format}": {
        "get": {
            "summary": "Open311: a service's definition (its attributes)",
            "operationId": "open311ServiceDefinition",
            "parameters": [
                {
                    "name": "service_code",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "report-fly-tipping",
                },
                _format_parameter(),
            ],
            "responses": {"200": _georeport("The service definition"), **_NOT_FOUND},
        }
    },
    "/open311/v2/requests.{format}": {
        "get": {
            "summary": "Open311: service requests (public fields only)",
            "operationId": "open311RequestList",
            "parameters": [
                _format_parameter(),
                *[
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "description": description,
                        "schema": {"type": "string"},
                        **({"example": _EXAMPLES[name]} if name in _EXAMPLES else {}),
                    }
                    for name, description in _QUERY
                ],
            ],
            "responses": {
                "200": _georeport("The requests, newest first (at most 1,000)"),
                "400": {**_georeport("A date is not valid"), "description": "A date is not valid"},
            },
        }
    },
    "/open311/v2/requests/{service_request_id}.{format}": {
        "get": {
            "summary": "Open311: one service request",
            "operationId": "open311RequestDetail",
            "parameters": [
                {
                    "name": "service_request_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "FS-7KQ4-3M9X",
                },
                _format_parameter(),
            ],
            "responses": {"200": _georeport("A list holding the request"), **_NOT_FOUND},
        }
    },
    "/open311/v2/requests.json": {
        "post": {
            "summary": "Open311: report a problem (needs an API key that staff issue)",
            "operationId": "open311CreateRequest",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["api_key", "service_code"],
                            "properties": {
                                "api_key": {"type": "string"},
                                "service_code": {"type": "string"},
                                "lat": {"type": "number"},
                                "long": {"type": "number"},
                                "address_string": {"type": "string"},
                                "address_id": {"type": "string"},
                                "email": {"type": "string"},
                                "description": {"type": "string"},
                            },
                            "additionalProperties": {"type": "string"},
                        },
                        "example": {
                            "api_key": "your-key",
                            "service_code": "report-fly-tipping",
                            "address_string": "Corner of Mill Lane and Station Road",
                            "attribute[waste]": "furniture",
                            "attribute[size]": "a-car-boot-load",
                        },
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "Created",
                    "content": {"application/json": {"schema": {"type": "array"}}},
                },
                "400": {"description": "Not valid", "content": {"application/json": {}}},
                "401": {"description": "No valid api_key", "content": {"application/json": {}}},
            },
        }
    },
}
