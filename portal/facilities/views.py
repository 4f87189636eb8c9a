"""Find your nearest (public) and the staff pages that keep the list of places."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from sqlalchemy import select

from portal.accounts.authz import role_required
from portal.common.gazetteer.geography import council_area
from portal.common.gazetteer.services import PostcodeError
from portal.extensions import db
from portal.facilities import services
from portal.facilities.models import KINDS, WEEKDAYS, Facility
from portal.rendering import render_page

bp = Blueprint("facilities", __name__)
staff_bp = Blueprint("facilities_staff", __name__, url_prefix="/staff/facilities")

STAFF_ROLES = ("editor", "admin")


def _map_config() -> str:
    settings = current_app.config["PORTAL"]
    box = council_area()
    return json.dumps(
        {
            "tiles": settings.map_tile_url,
            "attribution": settings.map_attribution,
            "bounds": [[box.south, box.west], [box.north, box.east]],
        }
    )


def _markers(found: list[services.Nearby]) -> str:
    return json.dumps(
        [
            {
                "lat": n.facility.latitude,
                "lon": n.facility.longitude,
                "name": n.facility.name,
                "text": f"{n.facility.name}, {n.miles}",
                "url": f"#facility-{n.facility.slug}",
            }
            for n in found
        ]
    )


@bp.get("/find-your-nearest")
def nearest():
    """A postcode (and kinds of place) → the nearest places, as a list and, with JS, a map."""
    postcode_text = request.args.get("postcode", "")
    kinds = [k for k in request.args.getlist("kind") if k in KINDS]
    found: list[services.Nearby] | None = None
    postcode = ""
    errors: list[tuple[str, str]] = []
    if "postcode" in request.args:
        try:
            postcode, found = services.find_nearest(postcode_text, kinds)
        except PostcodeError as exc:
            errors.append(("#postcode", str(exc)))
    return render_page(
        "facilities/nearest.html",
        postcode_text=postcode if postcode else postcode_text,
        postcode=postcode,
        kinds=kinds,
        kind_options=list(KINDS.items()),
        found=found,
        hours_rows=services.hours_rows,
        kiosk_slugs=services.kiosk_slugs() if found else set(),
        map_config=_map_config(),
        markers=_markers(found or []),
        page_errors=errors,
    ), (400 if errors else 200)


# ---------------------------------------------------------------- staff


@staff_bp.get("/")
@role_required(*STAFF_ROLES)
def index():
    """Every place on "find your nearest"; retired ones last."""
    rows = db.session.scalars(
        select(Facility).order_by(Facility.retired_at.is_not(None), Facility.kind, Facility.name)
    ).all()
    return render_page("facilities/staff_list.html", facilities=rows)


@staff_bp.route("/new", methods=["GET", "POST"])
@staff_bp.route("/<int:facility_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit(facility_id: int | None = None):
    """Add a place, or change its details, opening hours and what it takes (audited)."""
    facility = db.session.get(Facility, facility_id) if facility_id else None
    if facility_id and facility is None:
        abort(404)
    values = services.form_values(facility)
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        clean, errors = services.check_values(values)
        if not errors:
            saved = services.save_facility(clean, facility)
            db.session.commit()
            flash(f"{saved.name} saved.", "success")
            return redirect(url_for(".index"), 303)
    return render_page(
        "facilities/staff_edit.html",
        facility=facility,
        values=values,
        errors=dict(errors),
        page_errors=errors,
        kind_options=list(KINDS.items()),
        weekdays=WEEKDAYS,
    ), (400 if errors else 200)


@staff_bp.post("/<int:facility_id>/retire")
@role_required(*STAFF_ROLES)
def retire(facility_id: int):
    """Take a place off the public list, or put it back."""
    facility = db.session.get(Facility, facility_id)
    if facility is None:
        abort(404)
    retired = request.form.get("action") == "retire"
    services.set_retired(facility, retired)
    db.session.commit()
    flash(f"{facility.name} {'taken off the list' if retired else 'back on the list'}.", "success")
    return redirect(url_for(".index"), 303)
