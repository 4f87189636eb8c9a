"""Staff planning pages (role `planning`): applications, status, documents, moderation, alerts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.authz import role_required
from portal.common import storage
from portal.common.audit import record_audit
from portal.common.clock import uk_today
from portal.common.dates import parts_of, typed_date
from portal.common.gazetteer.geography import council_area, ward_at
from portal.common.gazetteer.services import get_address
from portal.common.gazetteer.views import lookup_state
from portal.extensions import db
from portal.planning import services
from portal.planning.models import (
    PlanningApplication,
    PlanningComment,
    PlanningDocument,
)
from portal.rendering import render_page

bp = Blueprint("planning_staff", __name__, url_prefix="/staff/planning")

ROLE = "planning"
DATE_FIELDS = {
    "received_date": "Date received",
    "validated_date": "Date validated",
    "consultation_start": "Consultation start",
    "consultation_end": "Comments by (consultation end)",
    "target_decision_date": "Target decision date",
}
TEXT_FIELDS = {
    "reference": "Reference",
    "site_address": "Site address",
    "postcode": "Postcode",
    "uprn": "UPRN",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "description": "Proposal",
    "classification": "Development classification",
    "case_officer": "Case officer",
    "case_officer_email": "Case officer's email",
    "applicant_name": "Applicant",
    "agent_name": "Agent",
}
# The site is found by postcode and address (the gazetteer's address lookup, field "uprn");
# these are typed only for a site with no address.
MANUAL_SITE_FIELDS = ("postcode", "latitude", "longitude")
UPLOAD_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}
MAX_UPLOAD = 20 * 1024 * 1024


def _get(slug: str) -> PlanningApplication:
    application = services.get_by_slug(slug)
    if application is None:
        abort(404)
    return application


@bp.get("")
@role_required(ROLE)
def index():
    params = services.parse_search(request.args)
    applications, total = ([], 0) if params.errors else services.search_page(params)
    pending = db.session.scalar(
        select(func.count()).where(PlanningComment.state == PlanningComment.PENDING)
    )
    return render_page(
        "planning/staff/index.html",
        params=params,
        applications=applications,
        total=total,
        pending=pending,
        page_errors=params.errors,
    )


def _form_values(form) -> dict:  # noqa: ANN001
    values: dict = {name: (form.get(name) or "").strip() for name in TEXT_FIELDS}
    for name, label in DATE_FIELDS.items():
        # day, month and year boxes (a whole date in one field, as before, is read into them)
        values[name] = typed_date(form, name, label)[0]
    values["application_type"] = form.get("application_type", "")
    values["uprn_postcode"] = (form.get("uprn_postcode") or "").strip()
    return values


def _stored_values(application: PlanningApplication) -> dict:
    """The edit form's values for a stored application (its address found again by postcode)."""
    values: dict = {name: getattr(application, name) or "" for name in TEXT_FIELDS}
    values.update({name: parts_of(getattr(application, name)) for name in DATE_FIELDS})
    values["application_type"] = application.application_type
    values["uprn_postcode"] = (application.postcode or "") if application.uprn else ""
    return values


def _site(values: dict, errors: dict) -> tuple[float | None, float | None]:
    """The site's position: from the address chosen in the lookup, or typed for a site with no
    address. Fills in the address and postcode from the gazetteer."""
    if values["uprn"]:
        address = get_address(values["uprn"])
        if address is None:
            errors["uprn"] = "Select the site's address from the list"
            return None, None
        values["site_address"] = values["site_address"] or address.single_line
        values["postcode"] = address.postcode
        return address.latitude, address.longitude
    if values["latitude"] or values["longitude"]:
        try:
            return float(values["latitude"]), float(values["longitude"])
        except ValueError:
            errors["latitude"] = "Latitude and longitude must be numbers, like 52.95 and -1.52"
            return None, None
    if lookup_state(values["uprn_postcode"])["addresses"]:
        errors["uprn"] = "Select the site's address, or open “The site has no address”"
    else:
        errors["uprn-postcode"] = (
            "Enter the site's postcode and find its address, or give its position under "
            "“The site has no address”"
        )
    return None, None


def _validate(values: dict, application: PlanningApplication | None) -> tuple[dict, dict]:
    """Form values → (model values, errors by field)."""
    errors: dict[str, str] = {}
    out: dict = {}
    lat, lon = _site(values, errors)
    for name in ("reference", "site_address", "description"):
        if not values[name] and name not in errors:
            errors[name] = (
                "Enter the site address or a description of the site"
                if name == "site_address"
                else f"Enter the {TEXT_FIELDS[name].lower()}"
            )
        out[name] = values[name]
    if values["reference"]:
        clash = services.get_by_slug(values["reference"])
        if clash is not None and clash is not application:
            errors["reference"] = "An application with this reference already exists"
    if values["application_type"] not in PlanningApplication.TYPES:
        errors["application_type"] = "Select the application type"
    out["application_type"] = values["application_type"]
    for name, label in DATE_FIELDS.items():
        typed = {f"{name}-{part}": value for part, value in values[name].items()}
        _, out[name], problem = typed_date(typed, name, label)
        if problem:
            errors[problem[0][1:]] = problem[1]
    if not out.get("received_date") and not any(k.startswith("received_date-") for k in errors):
        errors["received_date-day"] = "Enter the date received"
    if lat is not None and not council_area().contains(lat, lon):
        errors["latitude"] = "That point is outside the council area"
    out.update(latitude=lat, longitude=lon, ward=ward_at(lat, lon) if lat is not None else None)
    for name in (
        "postcode",
        "uprn",
        "classification",
        "case_officer",
        "case_officer_email",
        "applicant_name",
        "agent_name",
    ):
        out[name] = values[name] or None
    return out, errors


def _edit_page(
    application: PlanningApplication | None, values: dict, errors: dict, status: int = 200
):
    site = lookup_state(values.get("uprn_postcode", ""))
    if site["error"] and "uprn-postcode" not in errors:
        errors = {"uprn-postcode": site["error"], **errors}
    manual = not values.get("uprn") and any(values.get(n) for n in ("latitude", "longitude"))
    return (
        render_page(
            "planning/staff/edit.html",
            application=application,
            values=values,
            errors=errors,
            site=site,
            manual_site=manual or "latitude" in errors,
            manual_site_fields=MANUAL_SITE_FIELDS,
            page_errors=[(f"#{k}", v) for k, v in errors.items()],
            text_fields=TEXT_FIELDS,
            date_fields=DATE_FIELDS,
            types=PlanningApplication.TYPES,
            statuses=PlanningApplication.STATUSES,
            decisions=PlanningApplication.DECISIONS,
            decision_types=PlanningApplication.DECISION_TYPES,
            human_date=services.human_date,
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(ROLE)
def new():
    if request.method == "GET":
        return _edit_page(None, {"received_date": parts_of(uk_today()), "application_type": ""}, {})
    values = _form_values(request.form)
    if "uprn_find" in request.form:  # "Find address" without JavaScript: list the addresses
        return _find_address(None, values)
    out, errors = _validate(values, None)
    if errors:
        return _edit_page(None, values, errors, 400)
    application = services.create_application(out)
    services.ensure_portal_deliveries()
    record_audit("planning.create", "planning_application", application.reference)
    db.session.commit()
    flash(f"Application {application.reference} added to the register", "success")
    return redirect(url_for("planning_staff.edit", slug=application.slug))


def _find_address(application: PlanningApplication | None, values: dict):  # noqa: ANN202
    """The form again with the addresses for the postcode typed, nothing else checked yet."""
    values["uprn"] = ""
    errors = {} if values["uprn_postcode"] else {"uprn-postcode": "Enter a postcode"}
    return _edit_page(application, values, errors, 400 if errors else 200)


@bp.route("/applications/<slug>", methods=["GET", "POST"])
@role_required(ROLE)
def edit(slug: str):
    application = _get(slug)
    if request.method == "GET":
        return _edit_page(application, _stored_values(application), {})
    values = _form_values(request.form)
    if "uprn_find" in request.form:
        return _find_address(application, values)
    out, errors = _validate(values, application)
    if errors:
        return _edit_page(application, values, errors, 400)
    for key, value in out.items():
        setattr(application, key, value)
    application.slug = PlanningApplication.slug_for(application.reference)
    application.updated_at = services.utcnow()
    record_audit("planning.edit", "planning_application", application.reference)
    db.session.commit()
    flash("Application saved", "success")
    return redirect(url_for("planning_staff.edit", slug=application.slug))


@bp.post("/applications/<slug>/status")
@role_required(ROLE)
def change_status(slug: str):
    application = _get(slug)
    status = request.form.get("status", "")
    decision = request.form.get("decision") or None
    decision_type = request.form.get("decision_type") or None
    note = (request.form.get("note") or "").strip()[:1000]
    errors = {}
    if status not in PlanningApplication.STATUSES:
        errors["status"] = "Select the new status"
    if decision and decision not in PlanningApplication.DECISIONS:
        errors["decision"] = "Select a decision from the list"
    if status == PlanningApplication.DECIDED and not decision and not application.decision:
        errors["decision"] = "Select the decision"
    if errors:
        return _edit_page(application, _stored_values(application), errors, 400)
    services.change_status(application, status, note, decision, decision_type)
    record_audit(
        "planning.status",
        "planning_application",
        application.reference,
        {"status": status, "decision": decision},
    )
    db.session.commit()
    told = services.tracker_count(application)
    if told:
        whom = "1 person tracking it has" if told == 1 else f"{told} people tracking it have"
        message = f"Status changed to {application.status_label}; {whom} been emailed"
    else:
        message = f"Status changed to {application.status_label}; nobody is tracking it"
    flash(message, "success")
    return redirect(url_for("planning_staff.edit", slug=application.slug))


@bp.post("/applications/<slug>/documents")
@role_required(ROLE)
def upload_document(slug: str):
    application = _get(slug)
    upload = request.files.get("file")
    title = (request.form.get("title") or "").strip()[:200]
    doc_type = (request.form.get("document_type") or "").strip()[:80] or "Supporting document"
    url = (request.form.get("url") or "").strip()[:500]
    errors = {}
    if not title:
        errors["title"] = "Enter the document title"
    data = upload.read(MAX_UPLOAD + 1) if upload and upload.filename else b""
    extension = (
        upload.filename.rsplit(".", 1)[-1].lower()
        if upload and "." in (upload.filename or "")
        else ""
    )
    if data:
        if extension not in UPLOAD_TYPES:
            errors["file"] = "The file must be a PDF, PNG or JPG"
        elif len(data) > MAX_UPLOAD:
            errors["file"] = "The file must be smaller than 20MB"
        elif extension == "pdf" and not data.startswith(b"%PDF"):
            errors["file"] = "The file is not a PDF"
    elif url:
        if not url.startswith(("https://", "http://")):
            errors["url"] = "Enter a web address starting with https://"
    else:
        errors["file"] = "Choose a file, or give a web address"
    if errors:
        return _edit_page(application, _stored_values(application), errors, 400)
    doc = PlanningDocument(
        application_id=application.id,
        title=title,
        document_type=doc_type,
        document_date=uk_today(),
    )
    if data:
        doc.storage_key = storage.save_bytes(data, "planning", extension)
        doc.content_type = UPLOAD_TYPES[extension]
    else:
        doc.url = url
    db.session.add(doc)
    record_audit(
        "planning.document", "planning_application", application.reference, {"title": title}
    )
    db.session.commit()
    flash("Document added", "success")
    return redirect(url_for("planning_staff.edit", slug=application.slug))


@bp.get("/comments")
@role_required(ROLE)
def comments():
    rows = db.session.scalars(
        select(PlanningComment)
        .where(PlanningComment.state == PlanningComment.PENDING)
        .order_by(PlanningComment.created_at)
        .limit(200)
    ).all()
    return render_page(
        "planning/staff/comments.html", comments=rows, human_date=services.human_date
    )


@bp.post("/comments/<int:comment_id>")
@role_required(ROLE)
def moderate(comment_id: int):
    comment = db.session.get(PlanningComment, comment_id)
    if comment is None:
        abort(404)
    decision = request.form.get("decision")
    if decision not in ("publish", "reject") or comment.state != PlanningComment.PENDING:
        flash("That comment has already been moderated")
        return redirect(url_for("planning_staff.comments"))
    services.moderate_comment(comment, decision == "publish", current_user)
    record_audit(f"planning.comment.{decision}", "planning_comment", comment.id)
    db.session.commit()
    flash("Comment published" if decision == "publish" else "Comment rejected", "success")
    return redirect(url_for("planning_staff.comments"))


@bp.get("/alerts")
@role_required(ROLE)
def alert_counts():
    return render_page("planning/staff/alerts.html", rows=services.alert_counts_by_ward())
