"""Staff repairs pages (role housing): triage board, a repair, slots, the tree, tenancies."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.accounts.authz import role_required
from portal.accounts.models import User
from portal.common.audit import record_audit
from portal.common.clock import to_uk
from portal.common.dates import date_parts, parts_of, typed_date
from portal.extensions import db
from portal.rendering import is_htmx_request, render_page
from portal.repairs import lifecycle, services
from portal.repairs.models import (
    PERIOD_LABELS,
    PERIODS,
    PRIORITIES,
    TRADE_LABELS,
    TRADES,
    Repair,
    RepairNode,
    Slot,
    Tenancy,
)

bp = Blueprint("repairs_staff", __name__, url_prefix="/staff/repairs")

VIEWS = {
    "new": "New",
    "awaiting": "Awaiting appointment",
    "booked": "Booked by tenants",
    "overdue": "Overdue",
    "reopened": "Reopened",
    "open": "All open",
    "all": "All",
}


@bp.before_request
@role_required("housing")
def _housing_only() -> None:
    return None


def _repair(reference: str) -> Repair:
    repair = db.session.scalar(select(Repair).where(Repair.reference == reference.upper()))
    if repair is None:
        abort(404)
    return repair


def _board_query(view: str, trade: str, q: str):  # noqa: ANN202
    """The repairs of a board view; a search looks through every repair, whatever the view."""
    query = select(Repair)
    if q:
        query = query.where(services.search_condition(q))
    elif view == "new":
        query = query.where(Repair.status == Repair.REPORTED, Repair.reopened_count == 0)
    elif view == "awaiting":
        query = query.where(Repair.status.in_((Repair.REPORTED, Repair.TRIAGED)))
    elif view == "booked":
        query = query.where(services.booked_by_tenant_condition())
    elif view == "overdue":
        query = query.where(Repair.status.in_(Repair.OPEN), Repair.target_date < services.today())
    elif view == "reopened":
        query = query.where(Repair.status.in_(Repair.OPEN), Repair.reopened_count > 0)
    elif view == "open":
        query = query.where(Repair.status.in_(Repair.OPEN))
    if trade in TRADES:
        query = query.where(Repair.trade == trade)
    return query.order_by(Repair.target_date, Repair.reported_at)


def _filters() -> tuple[str, str, str]:
    view = request.args.get("view", "new")
    view = view if view in VIEWS else "new"
    trade = request.args.get("trade", "")
    return view, trade if trade in TRADES else "", request.args.get("q", "").strip()[:80]


@bp.get("")
def board():
    """The triage board: new, awaiting appointment, overdue, reopened (htmx or plain links)."""
    view, trade, q = _filters()
    query = _board_query(view, trade, q).options(selectinload(Repair.appointments))
    repairs = db.session.scalars(query.limit(500)).all()
    return render_page(
        "repairs/staff/board.html",
        fragment="results",
        htmx=is_htmx_request(),
        repairs=repairs,
        view=view,
        trade=trade,
        q=q,
        views=VIEWS,
        trades=TRADE_LABELS,
        counts=services.counts(),
        labels=services.STATUS_LABELS,
        colours=services.STATUS_TAG_COLOURS,
        is_overdue=services.is_overdue,
        format_date=services.format_date,
    )


@bp.get("/export.csv")
def export_csv():
    """The board's current filter as CSV."""
    view, trade, q = _filters()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "reference", "address", "uprn", "category", "communal", "priority", "trade",
            "status", "reported_at", "target_date", "overdue", "appointment", "reopened",
        ]
    )  # fmt: skip
    for r in db.session.scalars(_board_query(view, trade, q)):
        appointment = r.active_appointment
        writer.writerow(
            [
                r.reference,
                r.home.label,
                r.home.uprn,
                _safe(r.category),
                "yes" if r.communal else "no",
                r.priority,
                r.trade,
                r.status,
                to_uk(r.reported_at).isoformat(timespec="minutes"),
                r.target_date.isoformat(),
                "yes" if services.is_overdue(r) else "no",
                f"{appointment.slot.date.isoformat()} {appointment.slot.period}"
                if appointment
                else "",
                r.reopened_count,
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="repairs-{view}.csv"'},
    )


def _safe(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.get("/<reference>")
def detail(reference: str):
    repair = _repair(reference)
    appointment = repair.active_appointment
    start = services.today()
    slots = services.free_slots(
        repair.trade, start, start + timedelta(days=42),
        exclude=appointment.slot_id if appointment else None,
    )[:40]  # fmt: skip
    return render_page(
        "repairs/staff/detail.html",
        repair=repair,
        appointment=appointment,
        tenant=db.session.get(User, repair.user_id) if repair.user_id else None,
        slots=slots,
        leaves=services.all_leaves(),
        category_text=services.category_text,
        priorities=PRIORITIES,
        trades=TRADE_LABELS,
        can_book=services.can_book(repair),
        can_cancel_appointment=lifecycle.allows(repair.status, lifecycle.CANCEL_APPOINTMENT),
        statuses={s: services.STATUS_LABELS[s] for s in lifecycle.staff_choices(repair.status)},
        labels=services.STATUS_LABELS,
        colours=services.STATUS_TAG_COLOURS,
        describe_slot=services.describe_slot,
        format_date=services.format_date,
        format_moment=services.format_moment,
        is_overdue=services.is_overdue,
        page_errors=[],
    )


@bp.post("/<reference>/note")
def add_note(reference: str):
    repair = _repair(reference)
    text = request.form.get("note", "").strip()[:2000]
    public = request.form.get("public") == "yes"
    if not text:
        flash("Enter a note")
    else:
        services.add_event(repair, text, public=public, actor_id=current_user.id)
        record_audit("repair.note", "repair", repair.reference, {"public": public})
        db.session.commit()
        flash("Note added", "success")
    return redirect(url_for("repairs_staff.detail", reference=repair.reference))


@bp.post("/<reference>/status")
def change_status(reference: str):
    repair = _repair(reference)
    status = request.form.get("status", "")
    note = request.form.get("note", "").strip()[:1000]
    try:
        before = repair.status
        services.set_status(repair, status, current_user.id, note)
    except services.RepairsError as exc:
        flash(str(exc))
        return redirect(url_for("repairs_staff.detail", reference=repair.reference))
    record_audit("repair.status", "repair", repair.reference, {"from": before, "to": status})
    db.session.commit()
    flash(f"Status: {services.STATUS_LABELS[status]}", "success")
    return redirect(url_for("repairs_staff.detail", reference=repair.reference))


@bp.post("/<reference>/category")
def recategorise(reference: str):
    repair = _repair(reference)
    node = services.active_leaf(request.form.get("node")) if request.form.get("node") else None
    priority = request.form.get("priority", repair.priority)
    trade = request.form.get("trade", repair.trade)
    if priority not in PRIORITIES or trade not in TRADES:
        flash("Choose a priority and a trade")
        return redirect(url_for("repairs_staff.detail", reference=repair.reference))
    if request.form.get("node") and node is None:
        flash("Choose a category")
        return redirect(url_for("repairs_staff.detail", reference=repair.reference))
    changes = services.recategorise(repair, node, priority, trade, current_user.id)
    if changes:
        record_audit("repair.recategorise", "repair", repair.reference, {"changes": changes})
        db.session.commit()
        flash("Changed " + ", ".join(changes), "success")
    return redirect(url_for("repairs_staff.detail", reference=repair.reference))


@bp.post("/<reference>/book")
def book_for_tenant(reference: str):
    """Book or move an appointment for a tenant on the phone."""
    repair = _repair(reference)
    raw = request.form.get("slot", "")
    if not raw.isdigit():
        flash("Choose an appointment")
        return redirect(url_for("repairs_staff.detail", reference=repair.reference))
    try:
        appointment = services.book(
            repair,
            int(raw),
            actor_id=current_user.id,
            channel="phone",
            staff_id=current_user.id,
            enforce_window=False,
        )
    except services.RepairsError as exc:
        db.session.rollback()
        flash(str(exc))
        return redirect(url_for("repairs_staff.detail", reference=repair.reference))
    record_audit(
        "repair.book", "repair", repair.reference, {"slot": appointment.slot_id, "channel": "phone"}
    )
    db.session.commit()
    flash(f"Appointment booked: {services.describe_slot(appointment.slot)}", "success")
    return redirect(url_for("repairs_staff.detail", reference=repair.reference))


@bp.post("/<reference>/cancel-appointment")
def cancel_for_tenant(reference: str):
    repair = _repair(reference)
    try:
        services.cancel_appointment(repair, current_user.id, by_staff=True)
    except services.RepairsError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        record_audit("repair.cancel_appointment", "repair", repair.reference)
        db.session.commit()
        flash("Appointment cancelled", "success")
    return redirect(url_for("repairs_staff.detail", reference=repair.reference))


# Slots ---------------------------------------------------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@bp.route("/slots", methods=["GET", "POST"])
def slots():
    """Appointment slots: bulk creation and capacity per slot."""
    errors: list[tuple[str, str]] = []
    form = {
        "trade": request.form.get("trade", ""),
        "start": date_parts(request.form, "start")
        if request.method == "POST"
        else parts_of(services.today() + timedelta(days=1)),
        "weeks": request.form.get("weeks", "4"),
        "capacity": request.form.get("capacity", "6"),
        "days": request.form.getlist("days") or ["0", "1", "2", "3", "4"],
        "periods": request.form.getlist("periods") or ["morning", "afternoon"],
    }
    if request.method == "POST":
        if form["trade"] not in TRADES:
            errors.append(("#trade", "Select a trade"))
        form["start"], start, problem = typed_date(request.form, "start", "The first date")
        if problem or start is None:
            errors.append(problem or ("#start-day", "Enter the first date"))
        weeks = int(form["weeks"]) if form["weeks"].isdigit() else 0
        if not 1 <= weeks <= 26:
            errors.append(("#weeks", "Enter a number of weeks from 1 to 26"))
        capacity = int(form["capacity"]) if form["capacity"].isdigit() else -1
        if not 1 <= capacity <= 100:
            errors.append(("#capacity", "Enter a capacity from 1 to 100"))
        days = {int(d) for d in request.form.getlist("days") if d in "0123456"}
        if not days:
            errors.append(("#days", "Select at least one day of the week"))
        periods = [p for p in request.form.getlist("periods") if p in PERIODS]
        if not periods:
            errors.append(("#periods", "Select at least one time of day"))
        if not errors and start is not None:
            result = services.bulk_create_slots(
                form["trade"], start, weeks, days, periods, capacity
            )
            record_audit(
                "repair.slots.bulk",
                "repair_slots",
                form["trade"],
                {"start": start.isoformat(), "weeks": weeks, "capacity": capacity,
                 "created": result.created, "updated": result.updated},
            )  # fmt: skip
            db.session.commit()
            flash(
                f"{result.created} slots created, {result.updated} changed, "
                f"{result.skipped} already as asked",
                "success",
            )
            return redirect(url_for("repairs_staff.slots", trade=form["trade"]))
    trade = request.args.get("trade", form["trade"])
    today = services.today()
    query = select(Slot).where(Slot.date >= today, Slot.date <= today + timedelta(days=42))
    if trade in TRADES:
        query = query.where(Slot.trade == trade)
    upcoming = db.session.scalars(query.order_by(Slot.date, Slot.trade, Slot.period).limit(400))
    return render_page(
        "repairs/staff/slots.html",
        page_errors=errors,
        error_for={h[1:]: m for h, m in reversed(errors)},
        start_error=next((m for h, m in errors if h.startswith("#start-")), None),
        example_day=" ".join(parts_of(today + timedelta(days=1)).values()),
        form=form,
        trade=trade,
        trades=TRADE_LABELS,
        periods=PERIOD_LABELS,
        weekdays=WEEKDAYS,
        upcoming=list(upcoming),
        format_date=services.format_date,
    )


@bp.post("/slots/<int:slot_id>/capacity")
def slot_capacity(slot_id: int):
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        abort(404)
    raw = request.form.get("capacity", "")
    try:
        if not raw.isdigit() or not 0 <= int(raw) <= 100:
            raise services.RepairsError("Enter a capacity from 0 to 100")
        before = slot.capacity
        services.set_capacity(slot, int(raw))
    except services.RepairsError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        record_audit(
            "repair.slot.capacity", "repair_slot", slot.id, {"from": before, "to": int(raw)}
        )
        db.session.commit()
        flash(f"Capacity changed to {raw}", "success")
    return redirect(url_for("repairs_staff.slots", trade=slot.trade))


# The tree ------------------------------------------------------------------------------------


@bp.get("/tree")
def tree():
    nodes = db.session.scalars(
        select(RepairNode).order_by(RepairNode.position, RepairNode.label)
    ).all()
    by_parent: dict[int | None, list[RepairNode]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)
    return render_page(
        "repairs/staff/tree.html",
        by_parent=by_parent,
        nodes=[n for n in nodes if not n.is_leaf],
        category_text=services.category_text,
        priorities=PRIORITIES,
        trades=TRADE_LABELS,
        leaf_count=sum(1 for n in nodes if n.is_leaf and n.active),
    )


@bp.post("/tree")
def add_node():
    parent = db.session.get(RepairNode, int(request.form.get("parent", "0") or 0))
    label = request.form.get("label", "").strip()[:120]
    priority = request.form.get("priority", "")
    trade = request.form.get("trade", "")
    if parent is None or parent.is_leaf or not label:
        flash("Choose where to add it and enter a label")
    elif (
        bool(priority) != bool(trade)
        or (priority and priority not in PRIORITIES)
        or (trade and trade not in TRADES)
    ):
        flash("A problem needs both a priority and a trade (or neither, for a group)")
    else:
        node = RepairNode(
            parent_id=parent.id, label=label, priority=priority or None, trade=trade or None,
            position=len(services.children(parent.id)),
        )  # fmt: skip
        db.session.add(node)
        db.session.flush()
        record_audit("repair.tree.add", "repair_node", node.id, {"label": label})
        db.session.commit()
        flash(f"Added {label}", "success")
    return redirect(url_for("repairs_staff.tree"))


@bp.post("/tree/<int:node_id>")
def edit_node(node_id: int):
    node = db.session.get(RepairNode, node_id)
    if node is None:
        abort(404)
    label = request.form.get("label", node.label).strip()[:120] or node.label
    node.label = label
    if node.is_leaf:
        priority = request.form.get("priority", node.priority)
        trade = request.form.get("trade", node.trade)
        if priority in PRIORITIES:
            node.priority = priority
        if trade in TRADES:
            node.trade = trade
    node.active = request.form.get("active", "yes") == "yes"
    record_audit(
        "repair.tree.edit", "repair_node", node.id,
        {"label": node.label, "priority": node.priority, "trade": node.trade, "active": node.active},
    )  # fmt: skip
    db.session.commit()
    flash(f"Saved {node.label}", "success")
    return redirect(url_for("repairs_staff.tree"))


# Tenancies -----------------------------------------------------------------------------------


@bp.get("/tenancies")
def tenancies():
    q = request.args.get("q", "").strip()[:80]
    query = select(Tenancy).order_by(Tenancy.reference)
    if q:
        compact = services.normalise_reference(q)
        query = query.where(
            or_(
                Tenancy.reference.ilike(f"%{q}%"),
                Tenancy.tenant_name.ilike(f"%{q}%"),
                services.compact_reference(Tenancy.reference).like(f"%{compact}%")
                if compact
                else False,
            )
        )
    rows = db.session.scalars(query.limit(200)).all()
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_([t.user_id for t in rows if t.user_id]))
        )
    }
    return render_page(
        "repairs/staff/tenancies.html", tenancies=rows, users=users, q=q,
        new_code=request.args.get("code_for"),
    )  # fmt: skip


def _tenancy(tenancy_id: int) -> Tenancy:
    tenancy = db.session.get(Tenancy, tenancy_id)
    if tenancy is None:
        abort(404)
    return tenancy


@bp.post("/tenancies/<int:tenancy_id>/link")
def link_tenancy(tenancy_id: int):
    tenancy = _tenancy(tenancy_id)
    email = request.form.get("email", "").strip().lower()
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        flash("Enter the email address of an existing account")
    elif user.email_confirmed_at is None:
        # Anyone can register someone else's address: only a proved address gets a tenancy.
        flash(
            "That account has not confirmed its email address yet. Ask the tenant to open the "
            "link we sent them, or give them a linking code"
        )
    else:
        tenancy.user_id = user.id
        from portal.common.models import utcnow

        tenancy.linked_at = utcnow()
        record_audit("repair.tenancy.link", "tenancy", tenancy.reference, {"user_id": user.id})
        db.session.commit()
        flash(f"{tenancy.reference} linked to {user.email}", "success")
    return redirect(url_for("repairs_staff.tenancies", q=tenancy.reference))


@bp.post("/tenancies/<int:tenancy_id>/unlink")
def unlink_tenancy(tenancy_id: int):
    tenancy = _tenancy(tenancy_id)
    services.unlink(tenancy)
    record_audit("repair.tenancy.unlink", "tenancy", tenancy.reference)
    db.session.commit()
    flash(f"{tenancy.reference} unlinked", "success")
    return redirect(url_for("repairs_staff.tenancies", q=tenancy.reference))


@bp.post("/tenancies/<int:tenancy_id>/code")
def code_for_tenancy(tenancy_id: int):
    tenancy = _tenancy(tenancy_id)
    code = services.issue_link_code(tenancy)
    record_audit("repair.tenancy.code", "tenancy", tenancy.reference)
    db.session.commit()
    flash(
        f"Linking code for {tenancy.reference}: {code} (valid for {services.LINK_CODE_DAYS} days; "
        "give it to the tenant, it is not shown again)",
        "success",
    )
    return redirect(url_for("repairs_staff.tenancies", q=tenancy.reference))
