"""Staff bin-day pages (role `officer`): rounds, changed collections, assignments, CSV, late rounds."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_login import current_user

from portal.accounts.authz import role_required
from portal.common.clock import uk_today
from portal.common.dates import INVALID, date_parts, parse_parts
from portal.extensions import db
from portal.rendering import render_page
from portal.waste import services
from portal.waste.models import WEEKDAYS, Round

bp = Blueprint("waste_staff", __name__, url_prefix="/staff/bins")

ROLE = "officer"


def _page(errors: list[tuple[str, str]] | None = None, values: dict | None = None, status=200):
    return (
        render_page(
            "waste/staff/index.html",
            rounds=services.rounds(),
            types=services.types(),
            counts=services.round_counts(),
            changes=services.changes(upcoming_from=uk_today()),
            unassigned=services.addresses_without_round(10),
            weekdays=WEEKDAYS,
            page_errors=errors or [],
            values=values or {},
            describe_change=services.describe_change,
            reminder_time=services.reminder_settings(),
        ),
        status,
    )


@bp.get("/")
@role_required(ROLE)
def index():
    return _page()


def _date(prefix: str, label: str, errors: list, required: bool = True):
    parts = date_parts(request.form, prefix)
    value = parse_parts(parts)
    if value == INVALID or (value is None and required):
        errors.append((f"#{prefix}-day", f"Enter {label} as a real date"))
        return None
    return value


def _int(name: str) -> int | None:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        return None


@bp.post("/rounds")
@role_required(ROLE)
def add_round():
    errors: list[tuple[str, str]] = []
    start = _date("round-start", "the first collection week", errors)
    type_id, weekday = _int("type_id"), _int("weekday")
    if type_id is None:
        errors.append(("#type_id", "Choose what the round collects"))
    if weekday is None:
        errors.append(("#weekday", "Choose the day of the week the round collects"))
    if not errors:
        try:
            r = services.create_round(
                request.form.get("name", ""),
                type_id,  # type: ignore[arg-type]
                weekday,
                request.form.get("frequency", ""),
                start,  # type: ignore[arg-type]
                request.form.get("pattern", ""),
                actor=current_user,
            )
            db.session.commit()
            flash(f"Round {r.name} added", "success")
            return redirect(url_for("waste_staff.index"))
        except services.WasteError as exc:
            db.session.rollback()
            errors.append(("#name", str(exc)))
    return _page(errors, dict(request.form), 400)


@bp.post("/changes")
@role_required(ROLE)
def add_change():
    errors: list[tuple[str, str]] = []
    first = _date("change-from", "the first date due", errors)
    last = _date("change-to", "the last date due", errors, required=False)
    new = _date("change-new", "the new collection date", errors)
    round_id = _int("round_id")
    if not errors:
        try:
            services.add_change(
                round_id, first, last, new, request.form.get("reason", ""), actor=current_user
            )  # type: ignore[arg-type]
            db.session.commit()
            flash("Change added: residents see it on every page", "success")
            return redirect(url_for("waste_staff.index"))
        except services.WasteError as exc:
            db.session.rollback()
            errors.append(("#change-from-day", str(exc)))
    return _page(errors, dict(request.form), 400)


@bp.post("/changes/<int:change_id>/remove")
@role_required(ROLE)
def remove_change(change_id: int):
    try:
        services.remove_change(change_id, actor=current_user)
        db.session.commit()
        flash("Change removed", "success")
    except services.WasteError as exc:
        flash(str(exc), "error")
    return redirect(url_for("waste_staff.index"))


@bp.post("/assign")
@role_required(ROLE)
def assign():
    errors: list[tuple[str, str]] = []
    round_id = _int("assign_round_id")
    start = _date("assign-start", "the start date", errors, required=False)
    if round_id is None:
        errors.append(("#assign_round_id", "Choose a round"))
    if not errors:
        try:
            uprn = request.form.get("uprn", "").strip()
            if uprn:
                services.assign_address_to_round(uprn, round_id, start, None, actor=current_user)  # type: ignore[arg-type]
                count = 1
            else:
                count = services.bulk_assign(
                    round_id,  # type: ignore[arg-type]
                    street=request.form.get("street", ""),
                    postcode=request.form.get("postcode", ""),
                    ward=request.form.get("ward", ""),
                    start=start,  # type: ignore[arg-type]
                    actor=current_user,
                )
            db.session.commit()
            flash(f"{count} address{'es' if count != 1 else ''} assigned", "success")
            return redirect(url_for("waste_staff.index"))
        except services.WasteError as exc:
            db.session.rollback()
            errors.append(("#uprn", str(exc)))
    return _page(errors, dict(request.form), 400)


@bp.post("/rounds/<int:round_id>/not-completed")
@role_required(ROLE)
def not_completed(round_id: int):
    try:
        r = db.session.get(Round, round_id)
        services.mark_not_completed(
            round_id, uk_today(), request.form.get("note", ""), actor=current_user
        )
        db.session.commit()
        flash(
            f"{r.name if r else 'Round'} marked not completed today: residents are told", "success"
        )
    except services.WasteError as exc:
        flash(str(exc), "error")
    return redirect(url_for("waste_staff.index"))


@bp.get("/assignments.csv")
@role_required(ROLE)
def export_csv():
    return Response(
        services.export_assignments_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=bin-round-assignments.csv"},
    )


@bp.post("/assignments.csv")
@role_required(ROLE)
def import_csv():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page([("#file", "Choose a CSV file to import")], status=400)
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page([("#file", "The file must be a CSV file saved as UTF-8")], status=400)
    report = services.import_assignments_csv(text, actor=current_user)
    if report.errors:
        n = len(report.errors)
        rows = "1 row was" if n == 1 else f"{n} rows were"
        errors = [("#file", f"Nothing was imported: {rows} rejected")]
        errors += [("#file", e) for e in report.errors[:50]]
        return _page(errors, status=400)
    flash(f"{report.imported} assignments imported", "success")
    return redirect(url_for("waste_staff.index"))


@bp.post("/reminder-time")
@role_required(ROLE)
def reminder_time():
    text = request.form.get("reminder_time", "").strip()
    try:
        hour_text, minute_text = text.split(":") if ":" in text else (text, "0")
        services.set_reminder_time(int(hour_text), int(minute_text), actor=current_user)
        db.session.commit()
        flash(f"Reminders go out at {services.reminder_time_label()}", "success")
        return redirect(url_for("waste_staff.index"))
    except (ValueError, services.WasteError):
        db.session.rollback()
        return _page(
            [("#reminder_time", "Enter a time using the 24-hour clock, like 18:00")],
            dict(request.form),
            400,
        )
