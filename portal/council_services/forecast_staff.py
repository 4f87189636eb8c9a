"""Staff pages of the BVPI 157 forecast under /staff/services/forecast.

Editors and managers see the forecast, set the council's target, list register rows missing an
owner or target date and download the return; every member of staff sees the targets they own and
the overdue ones by department, and may move a target date they own with a reason.
"""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.accounts.authz import role_required, staff_required
from portal.common.clock import uk_today
from portal.common.dates import INVALID, date_parts, parse_parts, parts_of
from portal.council_services import forecast as fc
from portal.council_services.models import Interaction
from portal.extensions import db
from portal.rendering import render_page

bp = Blueprint("council_services_forecast", __name__, url_prefix="/staff/services/forecast")

MAX_RETURN_DATES = 12


def _page(**extra: object) -> str:
    target = fc.current_target()
    values: dict[str, object] = {
        "forecast": fc.forecast_view(),
        "missing": fc.missing_owner_or_date(),
        "overdue": fc.overdue_by_department(),
        "target_parts": parts_of(target.due),
        "target_percent": f"{target.percent:g}" if target.due else "",
        "target_errors": {},
        "return_parts": {},
        "return_errors": {},
        "return_format": "csv",
        "default_dates": fc.default_return_dates(),
        "page_errors": [],
    }
    values.update(extra)
    return render_page("council_services/staff/forecast.html", **values)


@bp.get("")
@role_required("editor", "manager")
def index():
    return _page()


@bp.post("/target")
@role_required("editor", "manager")
def target():
    """Set the council's target: a whole or decimal percentage up to 100, by a date."""
    raw = (request.form.get("percent") or "").strip().rstrip("%").strip()
    parts = date_parts(request.form, "due")
    due = parse_parts(parts)
    errors: dict[str, str] = {}
    try:
        percent = float(raw)
    except ValueError:
        percent = -1.0
    if not raw:
        errors["percent"] = "Enter the target percentage"
    elif not 0 < percent <= 100:
        errors["percent"] = "Enter the target percentage as a number from 1 to 100, like 90"
    if due is None:
        errors["due"] = "Enter the date the target is for"
    elif due == INVALID:
        errors["due"] = "The target's date must be a real date"
    elif isinstance(due, date) and due < uk_today():
        errors["due"] = "The target's date must be today or in the future"
    if errors:
        anchors = {"percent": "#percent", "due": "#due-day"}
        return _page(
            target_parts=parts,
            target_percent=raw,
            target_errors=errors,
            page_errors=[(anchors[k], v) for k, v in errors.items()],
        )
    assert isinstance(due, date)
    fc.set_target(round(percent, 1), due, current_user)
    db.session.commit()
    flash(f"Target saved: {fc.current_target().words}", "success")
    return redirect(url_for(".index"))


def _return_dates() -> tuple[list[date], dict[str, str], dict[str, str]]:
    """The forecast dates asked for: at=YYYY-MM-DD (repeatable) or the form's date; else defaults."""
    errors: dict[str, str] = {}
    parts = date_parts(request.args, "at")
    dates: list[date] = []
    for value in request.args.getlist("at")[:MAX_RETURN_DATES]:
        try:
            dates.append(date.fromisoformat(value))
        except ValueError:
            errors["at"] = "Each forecast date must be a real date, like 2027-03-31"
    if any(parts.values()):
        chosen = parse_parts(parts)
        if chosen == INVALID or chosen is None:
            errors["at"] = "The forecast date must be a real date"
        elif isinstance(chosen, date):
            dates.append(chosen)
    return (sorted(set(dates)) or fc.default_return_dates()), parts, errors


@bp.get("/return")
@role_required("editor", "manager")
def council_return():
    """The council's return as CSV or JSON: now and forecast at the chosen dates."""
    dates, parts, errors = _return_dates()
    kind = request.args.get("format", "csv")
    if kind not in {"csv", "json"}:
        errors["format"] = "Choose CSV or JSON"
    if errors:
        anchors = {"at": "#at-day", "format": "#format"}
        return _page(
            return_parts=parts,
            return_errors=errors,
            return_format=kind,
            page_errors=[(anchors[k], v) for k, v in errors.items()],
        )
    stamp = uk_today().isoformat()
    if kind == "json":
        return Response(
            json.dumps(fc.return_json(dates), indent=2),
            mimetype="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="bvpi157-forecast-{stamp}.json"'
            },
        )
    return Response(
        fc.return_csv(dates),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="bvpi157-forecast-{stamp}.csv"'},
    )


@bp.get("/targets")
@staff_required
def targets():
    """The targets this person owns, and every overdue target by department."""
    overdue = fc.overdue_by_department()
    return render_page(
        "council_services/staff/targets.html",
        mine=fc.owned_by(current_user.id),
        overdue=overdue,
        today=uk_today(),
        may_change=lambda s, i: fc.may_change_target(current_user, s, i),
    )


@bp.route("/targets/<int:interaction_id>", methods=["GET", "POST"])
@staff_required
def change_target(interaction_id: int):
    """Move one target date, with the reason: recorded in the service's history and the audit log."""
    interaction = db.session.get(Interaction, interaction_id)
    if interaction is None:
        abort(404)
    service = interaction.service
    if not fc.may_change_target(current_user, service, interaction):
        abort(403)
    if interaction.e_enabled or not (interaction.applicable and interaction.permissible):
        flash(f"{interaction.label} for {service.name} has no target date to change", "success")
        return redirect(url_for(".targets"))
    errors: dict[str, str] = {}
    parts = parts_of(interaction.target_date)
    reason = ""
    if request.method == "POST":
        parts = date_parts(request.form, "target")
        reason = (request.form.get("reason") or "").strip()[:1000]
        new = parse_parts(parts)
        if new is None:
            errors["target"] = "Enter the new target date"
        elif new == INVALID:
            errors["target"] = "The new target date must be a real date"
        elif isinstance(new, date) and new < uk_today():
            errors["target"] = "The new target date must be today or in the future"
        elif new == interaction.target_date:
            errors["target"] = "Enter a target date different from the current one"
        if not reason:
            errors["reason"] = "Enter why the target date is changing"
        if not errors:
            assert isinstance(new, date)
            fc.change_target_date(service, interaction, new, reason, current_user)
            db.session.commit()
            flash(
                f"Target date for {interaction.label.lower()} ({service.name}) changed", "success"
            )
            return redirect(url_for(".targets"))
    anchors = {"target": "#target-day", "reason": "#reason"}
    return render_page(
        "council_services/staff/change_target.html",
        service=service,
        interaction=interaction,
        parts=parts,
        reason=reason,
        errors=errors,
        page_errors=[(anchors[k], v) for k, v in errors.items()],
    )
