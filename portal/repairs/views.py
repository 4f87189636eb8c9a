"""Public repairs pages: link a tenancy, emergency triage, report, book, follow, "not fixed"."""

from __future__ import annotations

from datetime import date
from itertools import groupby

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.common import storage, submissions
from portal.common.clock import uk_today
from portal.extensions import db, limiter, login_manager
from portal.rendering import render_page
from portal.repairs import services
from portal.repairs.models import (
    CONTACT_PREFERENCES,
    PERIOD_LABELS,
    Repair,
    RepairPhoto,
    Slot,
)
from portal.repairs.photos import (
    KEPT_MAX_AGE,
    MAX_BYTES,
    MAX_PHOTOS,
    PhotoError,
    discard_unsent_photo,
    photos_hint,
    process_photo,
    still_usable,
    store_photo,
)
from portal.statistics.satisfaction import offer_survey

bp = Blueprint("repairs", __name__, url_prefix="/repairs")

DESCRIPTION_MAX = 1000
ACCESS_MAX = 500
REPORT_ONCE = "repair_report"  # the report form's submission-token purpose


def _signed_in() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _repair_for_tenant(reference: str, tenant_only: bool = False) -> Repair:
    """The repair, if the signed-in person may see it (404 otherwise, so nothing leaks).

    Housing staff may look; changes on these pages are the tenant's own (staff use their pages).
    """
    repair = db.session.scalar(select(Repair).where(Repair.reference == reference.upper()))
    if repair is None:
        abort(404)
    allowed = (
        services.is_tenant_of(current_user, repair)
        if tenant_only
        else services.can_see_repair(current_user, repair)
    )
    if not allowed:
        abort(404)
    return repair


def _chosen_property(raw: object) -> int | None:
    """The property id from the request, only if it is one of the tenant's homes."""
    homes = services.property_choices(current_user.id)
    for home in homes:
        if str(home.id) == str(raw):
            return home.id
    return homes[0].id if len(homes) == 1 and raw in (None, "") else None


@bp.get("")
def start():
    """The repairs start page: what to do, your tenancy and your repairs."""
    tenancies, repairs = [], []
    if current_user.is_authenticated:
        tenancies = services.active_tenancies(current_user.id)
        property_ids = [t.property_id for t in tenancies]
        if property_ids:
            repairs = db.session.scalars(
                select(Repair)
                .where(Repair.property_id.in_(property_ids))
                .order_by(Repair.reported_at.desc())
            ).all()
    try:
        sign_in_url = url_for("accounts.sign_in", next=request.path)
    except Exception:  # noqa: BLE001 - the accounts slice may not be installed
        sign_in_url = None
    return render_page(
        "repairs/start.html",
        tenancies=tenancies,
        repairs=repairs,
        sign_in_url=sign_in_url,
        labels=services.STATUS_LABELS,
        colours=services.STATUS_TAG_COLOURS,
    )


@bp.route("/link", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def link():
    """Link your account to your tenancy: reference and date of birth, or a code."""
    if (denied := _signed_in()) is not None:
        return denied
    errors: list[tuple[str, str]] = []
    values = {k: request.form.get(k, "").strip() for k in ("method", "reference", "code")}
    dob = {k: request.form.get(f"dob-{k}", "").strip() for k in ("day", "month", "year")}
    if request.method == "POST":
        try:
            if values["method"] == "code":
                if not values["code"]:
                    errors.append(("#code", "Enter the code the housing team gave you"))
                else:
                    tenancy = services.link_with_code(current_user.id, values["code"])
            elif values["method"] == "reference":
                if not values["reference"]:
                    errors.append(("#reference", "Enter your tenancy reference"))
                born = _parse_date(dob)
                if born is None:
                    errors.append(("#dob-day", "Enter your date of birth, for example 27 3 1980"))
                if not errors:
                    tenancy = services.link_with_reference(
                        current_user.id, values["reference"], born
                    )
            else:
                errors.append(("#method", "Select how you want to link your tenancy"))
        except services.RepairsError as exc:
            errors.append(("#code" if values["method"] == "code" else "#reference", str(exc)))
            failed = isinstance(exc, services.NoMatch)
        else:
            failed = False
        if not errors:
            db.session.commit()
            flash(f"Your account is now linked to {tenancy.home.label}", "success")
            return redirect(url_for("repairs.start"))
        db.session.rollback()
        if failed:
            services.record_failed_link(current_user.id, values["method"])
            db.session.commit()
    return render_page(
        "repairs/link.html",
        page_errors=errors,
        values=values,
        dob=dob,
        error_for=dict((href[1:], message) for href, message in errors),
    )


def _parse_date(parts: dict[str, str]) -> date | None:
    try:
        born = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except (TypeError, ValueError):
        return None
    return born if 1900 <= born.year <= uk_today().year else None


@bp.route("/report", methods=["GET", "POST"])
def report():
    """Emergency triage comes first: gas, then the "phone us now" list, else continue online."""
    if (denied := _signed_in()) is not None:
        return denied
    homes = services.property_choices(current_user.id)
    if not homes:
        flash("Link your account to your tenancy before you report a repair")
        return redirect(url_for("repairs.link"))
    errors: list[tuple[str, str]] = []
    chosen = request.form.getlist("emergency")
    property_raw = request.form.get("property", request.args.get("property", ""))
    if request.method == "POST":
        property_id = _chosen_property(property_raw)
        if property_id is None:
            errors.append(("#property", "Select the home the repair is for"))
        if not chosen:
            errors.append(
                ("#emergency", "Select if any of these are happening, or select none of these")
            )
        elif "none" in chosen and len(chosen) > 1:
            errors.append(("#emergency", "Select the problems, or select none of these, not both"))
        if not errors:
            if services.CARBON_MONOXIDE in chosen:
                services.record_triage_contact(
                    current_user.id, property_id, "carbon_monoxide", chosen
                )
                db.session.commit()
                return redirect(url_for("repairs.carbon_monoxide"))
            if services.GAS in chosen:
                services.record_triage_contact(current_user.id, property_id, "gas", chosen)
                db.session.commit()
                return redirect(url_for("repairs.gas"))
            reasons = [c for c in chosen if c in services.PHONE_NOW_REASONS]
            if reasons:
                services.record_triage_contact(current_user.id, property_id, "phone_now", reasons)
                db.session.commit()
                return redirect(url_for("repairs.phone_now", reason=reasons))
            return redirect(url_for("repairs.problem", property=property_id))
    return render_page(
        "repairs/triage.html",
        page_errors=errors,
        homes=homes,
        property_raw=str(property_raw),
        chosen=chosen,
        reasons=services.PHONE_NOW_REASONS,
    )


@bp.get("/report/gas")
def gas():
    """Smell gas: the gas emergency number and safety advice, nothing else."""
    return render_page("repairs/gas.html")


@bp.get("/report/carbon-monoxide")
def carbon_monoxide():
    """A carbon monoxide alarm is sounding: get out now, then the gas emergency line or 999."""
    return render_page("repairs/carbon_monoxide.html")


@bp.get("/report/phone-now")
def phone_now():
    """A problem that cannot wait for an online report: phone numbers in and out of hours."""
    reasons = [
        services.PHONE_NOW_REASONS[r]
        for r in request.args.getlist("reason")
        if r in services.PHONE_NOW_REASONS
    ]
    return render_page("repairs/phone_now.html", reasons=reasons)


QUESTIONS = (
    "Where is the problem?",
    "Which room or area?",
    "What needs repairing?",
    "What is the problem?",
)


@bp.get("/report/problem")
def problem():
    """Walk the repairs tree one level per page (a GET form: nothing is saved yet)."""
    if (denied := _signed_in()) is not None:
        return denied
    property_id = _chosen_property(request.args.get("property"))
    if property_id is None:
        return redirect(url_for("repairs.report"))
    parent = None
    if request.args.get("parent"):
        parent = _node(request.args.get("parent"))
        if parent is None or parent.is_leaf:
            return redirect(url_for("repairs.problem", property=property_id))
    errors: list[tuple[str, str]] = []
    if "continue" in request.args:
        chosen = _node(request.args.get("node"))
        if chosen is not None and chosen.parent_id == (parent.id if parent else None):
            if chosen.is_leaf:
                return redirect(url_for("repairs.details", property=property_id, problem=chosen.id))
            return redirect(url_for("repairs.problem", property=property_id, parent=chosen.id))
        errors.append(("#node", "Select an option"))
    path = services.path_of(parent) if parent else []
    back = (
        url_for("repairs.problem", property=property_id, parent=path[-2].id)
        if len(path) > 1
        else url_for("repairs.problem", property=property_id)
        if path
        else url_for("repairs.report")
    )
    return render_page(
        "repairs/problem.html",
        page_errors=errors,
        options=services.children(parent.id if parent else None),
        parent=parent,
        path=path,
        question=QUESTIONS[min(len(path), len(QUESTIONS) - 1)],
        property_id=property_id,
        back=back,
    )


def _node(raw: object):  # noqa: ANN202
    from portal.repairs.models import RepairNode

    try:
        node = db.session.get(RepairNode, int(raw))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return node if node is not None and node.active else None


def _photo_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="repairs-photo-keys")


def _kept_photos(token: str) -> list[list]:
    """Photos accepted on an earlier try of this form (signed, tied to this person)."""
    if not token:
        return []
    try:
        data = _photo_serializer().loads(token)
    except BadSignature:
        return []
    if not isinstance(data, dict) or data.get("u") != current_user.id:
        return []
    return [p for p in data.get("p", []) if isinstance(p, list) and len(p) == 5][:MAX_PHOTOS]


@bp.route("/report/details", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def details():
    """Describe the problem, add photos, access notes and how to contact you."""
    if (denied := _signed_in()) is not None:
        return denied
    token = submissions.posted_token()
    if (earlier := submissions.first_result(REPORT_ONCE, token)) is not None:
        return _reported(earlier)  # this form was sent before: its report, not a second one
    source = request.form if request.method == "POST" else request.args
    property_id = _chosen_property(source.get("property"))
    leaf = services.active_leaf(source.get("problem"))
    if property_id is None or leaf is None:
        return redirect(url_for("repairs.report"))
    values = {
        "description": request.form.get("description", "").strip(),
        "access_notes": request.form.get("access_notes", "").strip(),
        "contact_preference": request.form.get("contact_preference", ""),
        "contact_phone": request.form.get("contact_phone", "").strip(),
    }
    kept = _kept_photos(request.form.get("kept_photos", ""))
    removing = request.form.get("remove_photo") if request.method == "POST" else None
    removed = ""
    errors: list[tuple[str, str]] = []
    photo_errors: list[str] = []
    if request.method == "POST":
        # Photos of a report that was not sent within the day are deleted: ask for them again.
        for stale in [p for p in kept if not still_usable(str(p[0]), str(p[1]))]:
            kept.remove(stale)
            photo_errors.append(
                f"{stale[4] or 'A photo'} was removed because the report was not sent within "
                f"{int(KEPT_MAX_AGE.total_seconds() // 3600)} hours: add it again"
            )
        if not values["description"]:
            errors.append(("#description", "Describe the problem"))
        elif len(values["description"]) > DESCRIPTION_MAX:
            errors.append(
                ("#description", f"Description must be {DESCRIPTION_MAX} characters or fewer")
            )
        if len(values["access_notes"]) > ACCESS_MAX:
            errors.append(
                ("#access_notes", f"Access notes must be {ACCESS_MAX} characters or fewer")
            )
        if values["contact_preference"] not in CONTACT_PREFERENCES:
            errors.append(("#contact_preference", "Select how we should contact you"))
        elif values["contact_preference"] in ("phone", "text"):
            digits = "".join(ch for ch in values["contact_phone"] if ch.isdigit())
            if not 10 <= len(digits) <= 13:
                errors.append(("#contact_phone", "Enter a UK phone number, like 01632 960 001"))
        _add_uploads(kept, photo_errors)
        errors.extend(("#photos", message) for message in photo_errors)
        if removing is not None:
            # "Remove" on a photo: drop it and show the form again, nothing else checked yet.
            for gone in [p for p in kept if p[0] == removing][:1]:
                kept.remove(gone)
                discard_unsent_photo(str(gone[0]), str(gone[1]))
                removed = gone[4] or "The photo"
            errors = [("#photos", message) for message in photo_errors]
        elif not errors:
            repair = services.create_repair(
                services.ReportInput(
                    property_id=property_id,
                    node=leaf,
                    description=values["description"],
                    access_notes=values["access_notes"],
                    contact_preference=values["contact_preference"],
                    contact_phone=values["contact_phone"] or None,
                ),
                current_user.id,
                [tuple(p) for p in kept],  # type: ignore[misc]
            )
            reference = submissions.commit_once(REPORT_ONCE, token, repair.reference)
            offer_survey(services.lgsl_for(repair), services.LGIL_REPORT, repair.reference)
            return _reported(reference)
    kept_token = _photo_serializer().dumps({"u": current_user.id, "p": kept}) if kept else ""
    return render_page(
        "repairs/details.html",
        page_errors=errors,
        error_for=_first_errors(errors),
        photo_errors=photo_errors,
        values=values,
        kept=kept,
        kept_token=kept_token,
        removed=removed,
        photos_hint=photos_hint(),
        leaf=leaf,
        category=services.category_text(leaf),
        property_id=property_id,
        contact_preferences=CONTACT_PREFERENCES,
        max_photos=MAX_PHOTOS,
        description_max=DESCRIPTION_MAX,
        access_max=ACCESS_MAX,
    )


def _add_uploads(kept: list[list], photo_errors: list[str]) -> None:
    """Check and store the photos chosen on this try, after those kept from earlier tries."""
    for upload in request.files.getlist("photos"):
        if not upload or not upload.filename:
            continue
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:100]
        if len(kept) >= MAX_PHOTOS:
            photo_errors.append(f"{name} was not added: you can add up to {MAX_PHOTOS} photos")
            continue
        data = upload.read(MAX_BYTES + 1)
        try:
            processed = process_photo(data, name)
        except PhotoError as exc:
            photo_errors.append(str(exc))
            continue
        key, thumb = store_photo(processed)
        kept.append([key, thumb, processed.width, processed.height, name])


def _reported(reference: str) -> Response:
    flash(f"Repair reported. Your reference is {reference}", "success")
    return redirect(url_for("repairs.detail", reference=reference))


def _first_errors(errors: list[tuple[str, str]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for href, message in errors:
        result.setdefault(href[1:], message)
    return result


@bp.get("/<reference>")
def detail(reference: str):
    """Follow a repair: status, history, appointment, photos."""
    if (denied := _signed_in()) is not None:
        return denied
    repair = _repair_for_tenant(reference)
    appointment = repair.active_appointment
    return render_page(
        "repairs/detail.html",
        repair=repair,
        appointment=appointment,
        can_change=bool(appointment and services.can_change(appointment)),
        work_started=repair.status == Repair.IN_PROGRESS,
        can_book=services.can_book(repair) and appointment is None,
        can_reopen=services.can_reopen(repair),
        can_withdraw=services.is_tenant_of(current_user, repair) and services.can_withdraw(repair),
        events=[e for e in repair.events if e.public],
        labels=services.STATUS_LABELS,
        colours=services.STATUS_TAG_COLOURS,
        describe_slot=services.describe_slot,
        format_date=services.format_date,
        format_moment=services.format_moment,
        contact_preferences=CONTACT_PREFERENCES,
    )


def group_slots(slots: list[Slot]) -> list[tuple[date, list[Slot]]]:
    return [(day, list(items)) for day, items in groupby(slots, key=lambda s: s.date)]


@bp.route("/<reference>/book", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def book(reference: str):
    """Choose an appointment within the priority's target, or show later dates."""
    if (denied := _signed_in()) is not None:
        return denied
    repair = _repair_for_tenant(reference, tenant_only=True)
    current = repair.active_appointment
    if not services.can_book(repair) or (current is not None and not services.can_change(current)):
        flash("This appointment can no longer be changed online: phone us")
        return redirect(url_for("repairs.detail", reference=repair.reference))
    source = request.form if request.method == "POST" else request.args
    try:
        later = max(0, min(int(source.get("later", "0")), 8))
    except ValueError:
        later = 0
    errors: list[tuple[str, str]] = []
    lost_race = False
    if request.method == "POST":
        raw = request.form.get("slot", "")
        if not raw.isdigit():
            errors.append(("#slot", "Select an appointment"))
        else:
            try:
                services.book(repair, int(raw), actor_id=current_user.id)
            except services.SlotTaken as exc:
                db.session.rollback()
                lost_race = True
                errors.append(("#slot", str(exc)))
            except services.RepairsError as exc:
                db.session.rollback()
                errors.append(("#slot", str(exc)))
            else:
                db.session.commit()
                offer_survey(
                    services.lgsl_for(repair),
                    services.LGIL_BOOKING,
                    f"{repair.reference}-appointment-{repair.active_appointment.id}",
                )
                flash(
                    f"Appointment booked: {services.describe_slot(repair.active_appointment.slot)}",
                    "success",
                )
                return redirect(url_for("repairs.detail", reference=repair.reference))
        repair = _repair_for_tenant(reference, tenant_only=True)
        current = repair.active_appointment
    start, end = services.booking_window(repair, later)
    slots = services.free_slots(
        repair.trade, start, end, exclude=current.slot_id if current else None
    )
    next_free = services.next_free_slots(repair) if lost_race else []
    return render_page(
        "repairs/book.html",
        fragment="slot_list",
        page_errors=errors,
        error_for=_first_errors(errors),
        repair=repair,
        current=current,
        days=group_slots(slots),
        next_free=next_free,
        lost_race=lost_race,
        later=later,
        start=start,
        end=end,
        period_labels=PERIOD_LABELS,
        describe_slot=services.describe_slot,
        format_date=services.format_date,
    )


@bp.post("/<reference>/cancel-appointment")
def cancel_appointment(reference: str):
    if (denied := _signed_in()) is not None:
        return denied
    repair = _repair_for_tenant(reference, tenant_only=True)
    try:
        services.cancel_appointment(repair, current_user.id)
    except services.RepairsError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash("Appointment cancelled", "success")
    return redirect(url_for("repairs.detail", reference=repair.reference))


@bp.route("/<reference>/cancel", methods=["GET", "POST"])
def withdraw(reference: str):
    """The tenant cancels a repair they no longer need, before work starts."""
    if (denied := _signed_in()) is not None:
        return denied
    repair = _repair_for_tenant(reference, tenant_only=True)
    if not services.can_withdraw(repair):
        flash("This repair can no longer be cancelled online: phone us")
        return redirect(url_for("repairs.detail", reference=repair.reference))
    reason = request.form.get("reason", "").strip()
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        if len(reason) > ACCESS_MAX:
            errors.append(("#reason", f"The reason must be {ACCESS_MAX} characters or fewer"))
        else:
            try:
                services.withdraw(repair, reason, current_user.id)
            except services.RepairsError as exc:
                db.session.rollback()
                flash(str(exc))
            else:
                db.session.commit()
                flash(f"Repair {repair.reference} cancelled", "success")
            return redirect(url_for("repairs.detail", reference=repair.reference))
    return render_page(
        "repairs/cancel.html",
        page_errors=errors,
        repair=repair,
        reason=reason,
        reason_max=ACCESS_MAX,
        appointment=repair.active_appointment,
        describe_slot=services.describe_slot,
    )


@bp.route("/<reference>/not-fixed", methods=["GET", "POST"])
def not_fixed(reference: str):
    """After completion the tenant can say "not fixed" within 14 days: the repair reopens."""
    if (denied := _signed_in()) is not None:
        return denied
    repair = _repair_for_tenant(reference, tenant_only=True)
    if not services.can_reopen(repair):
        flash(f"You can only reopen a repair within {services.REOPEN_DAYS} days of completion")
        return redirect(url_for("repairs.detail", reference=repair.reference))
    note = request.form.get("note", "").strip()
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        if not note:
            errors.append(("#note", "Tell us what is still wrong"))
        elif len(note) > DESCRIPTION_MAX:
            errors.append(("#note", f"This must be {DESCRIPTION_MAX} characters or fewer"))
        else:
            services.reopen(repair, note, current_user.id)
            db.session.commit()
            flash("We have reopened your repair", "success")
            return redirect(url_for("repairs.detail", reference=repair.reference))
    return render_page(
        "repairs/not_fixed.html",
        page_errors=errors,
        repair=repair,
        note=note,
        description_max=DESCRIPTION_MAX,
    )


@bp.get("/<reference>/photos/<int:photo_id>")
def photo(reference: str, photo_id: int):
    """A repair photo, only for the tenant and housing staff; `?size=thumb` for the thumbnail."""
    if (denied := _signed_in()) is not None:
        return denied
    repair = _repair_for_tenant(reference)
    item = db.session.get(RepairPhoto, photo_id)
    if item is None or item.repair_id != repair.id:
        abort(404)
    key = item.thumbnail_key if request.args.get("size") == "thumb" else item.storage_key
    try:
        data = storage.read_bytes(key)
    except (OSError, storage.StorageError):
        abort(404)
    response = current_app.response_class(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Disposition"] = f'inline; filename="{repair.reference}-{item.id}.jpg"'
    return response
