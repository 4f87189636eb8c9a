"""Bin day for residents: postcode → address → collections, the printable calendar, the feed."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.common.clock import uk_today
from portal.common.gazetteer.services import get_address
from portal.common.gazetteer.views import address_step
from portal.extensions import csrf, db
from portal.rendering import render_page
from portal.waste import ical, services

bp = Blueprint("waste", __name__)


@bp.get("/bin-collection")
def find():
    """Postcode, then address (the shared address lookup, with and without JavaScript)."""
    step = address_step(request.args)
    if step.address is not None:
        return redirect(url_for("waste.address", uprn=step.address.uprn))
    searched = "uprn_find" in request.args or "uprn" in request.args
    if not searched and current_user.is_authenticated and not request.args.get("uprn_postcode"):
        saved = services.saved_address(current_user.id)
        if saved is not None and "change" not in request.args:
            return redirect(url_for("waste.address", uprn=saved.uprn))
    return render_page(
        "waste/find.html",
        field="uprn",
        select_error=step.select_error,
        page_errors=step.errors,
        **step.state,
    )


def _address_or_404(uprn: str):
    address = get_address(uprn)
    if address is None:
        abort(404, description="We could not find that address")
    return address


@bp.get("/bin-collection/<uprn>")
def address(uprn: str):
    address = _address_or_404(uprn)
    schedule = services.schedule_for(address)
    saved = services.saved_address(current_user.id) if current_user.is_authenticated else None
    return render_page(
        "waste/address.html",
        address=address,
        schedule=schedule,
        saved=saved is not None and saved.uprn == address.uprn,
        today=uk_today(),
        missed=schedule.missed if schedule else [],
        long_date=services.long_date,
        describe_change=services.describe_change,
    )


@bp.post("/bin-collection/<uprn>/remember")
def remember(uprn: str):
    """Keep the address in My council, so the resident's bin days are one click away."""
    address = _address_or_404(uprn)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.sign_in", next=url_for("waste.address", uprn=uprn)))
    services.save_address(current_user.id, address.uprn)
    db.session.commit()
    flash("Saved: your bin collections are in My council", "success")
    return redirect(url_for("waste.address", uprn=address.uprn))


@bp.get("/bin-collection/<uprn>/calendar")
def printable(uprn: str):
    """The next eight weeks as a calendar to print."""
    address = _address_or_404(uprn)
    schedule = services.schedule_for(address)
    if schedule is None:
        return redirect(url_for("waste.address", uprn=address.uprn))
    return render_page(
        "waste/calendar.html", address=address, schedule=schedule, long_date=services.long_date
    )


@bp.get("/bin-collection/<uprn>/collections.ics")
def feed(uprn: str):
    """The iCalendar feed a calendar app subscribes to (RFC 5545)."""
    address = _address_or_404(uprn)
    body = ical.feed_for(address)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'inline; filename="bin-collections-{address.uprn}.ics"',
            "Cache-Control": "public, max-age=3600",
        },
    )


@bp.get("/bin-collection/<uprn>/missed")
def report_missed(uprn: str):
    """Which collections can be reported missed today, and why the others cannot."""
    from portal.common.delivery import delivery_path

    address = _address_or_404(uprn)
    today = uk_today()
    schedule = services.schedule_for(address, today)
    if schedule is None:
        return redirect(url_for("waste.address", uprn=address.uprn))
    options = services.missed_options(address.uprn, today)
    return render_page(
        "waste/missed.html",
        address=address,
        options=options,
        refusals=services.missed_refusals(address.uprn, today, options),
        late=[n for n in schedule.not_completed if n.day <= today],
        form_path=_with_address(delivery_path(524, 0), address.uprn),
        long_date=services.long_date,
    )


def _with_address(path: str | None, uprn: str) -> str | None:
    """The form's start page told which address the resident came from (it starts there)."""
    if not path:
        return path
    return f"{path}{'&' if '?' in path else '?'}uprn={uprn}"


@bp.route("/bin-collection/<uprn>/reminders", methods=["GET", "POST"])
def reminders(uprn: str):
    """Sign up for an email the evening before collections (confirmed by a link)."""
    address = _address_or_404(uprn)
    if services.schedule_for(address) is None:
        return redirect(url_for("waste.address", uprn=address.uprn))
    email = current_user.email if current_user.is_authenticated else ""
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            services.subscribe_reminders(
                address.uprn,
                email,
                current_user.id if current_user.is_authenticated else None,
            )
            db.session.commit()
            return render_page(
                "waste/reminders_sent.html", address=address, email=email.strip().lower()
            )
        except services.WasteError as exc:
            db.session.rollback()
            errors.append(("#email", str(exc)))
    return (
        render_page(
            "waste/reminders.html",
            address=address,
            email=email,
            page_errors=errors,
            reminder_time=services.reminder_time_label(),
        ),
        400 if errors else 200,
    )


@bp.route("/bin-collection/reminders/confirm/<token>", methods=["GET", "POST"])
def confirm_reminders(token: str):
    """Double opt-in: the emailed link shows a button; pressing it (a POST) confirms."""
    row = services.reminder_by_token(token)
    if row is None:
        abort(404, description="That link is not valid: sign up again from your bin collections")
    if request.method == "POST":
        services.confirm_reminders(row)
        db.session.commit()
    return render_page(
        "waste/reminders_confirm.html",
        row=row,
        address=get_address(row.uprn),
        reminder_time=services.reminder_time_label(),
    )


@bp.route("/bin-collection/reminders/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe_reminders(token: str):
    """One-click unsubscribe (RFC 8058), as for planning alerts: only the one-click POST skips
    the CSRF check; the 43-character token is the proof."""
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and not one_click:
        csrf.protect()
    row = services.reminder_by_token(token)
    if row is None:
        abort(404, description="That link is not valid")
    if request.method == "POST":
        services.unsubscribe_reminders(row)
        db.session.commit()
        if one_click:
            return "Unsubscribed\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_page("waste/reminders_unsubscribe.html", row=row, address=get_address(row.uprn))


@bp.get("/bin-collection/api")
def api_help():
    """For home-automation users: the calendar feed and the JSON API, in a few lines."""
    from portal.waste.api import API_RATE_LIMIT

    return render_page("waste/api.html", rate_limit=API_RATE_LIMIT)
