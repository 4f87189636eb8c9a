"""Housing repairs: the domain functions that views, jobs and the demo loader call.

Callers commit. Every repair report and every appointment booking calls `record_transaction`
exactly once in the same transaction: a report is LGIL 0 (an application for the service: the
tenant asks the council to carry out a repair), a booking LGIL 1 (booking a resource), on LGSL 141
Housing repairs, or 140 Communal housing repairs for communal areas.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import and_, func, select, update

from portal.accounts.models import User
from portal.common.clock import to_uk, uk_date, uk_today
from portal.common.delivery import set_portal_delivery
from portal.common.models import Address, utcnow
from portal.common.outbox import queue_email
from portal.common.references import new_reference
from portal.common.transactions import current_channel, record_transaction
from portal.common.urls import external_url
from portal.extensions import db
from portal.repairs import calendar, lifecycle
from portal.repairs.lifecycle import RepairsError, TransitionRefused  # noqa: F401 (callers)
from portal.repairs.models import (
    PERIOD_LABELS,
    PERIODS,
    Appointment,
    Property,
    Repair,
    RepairContact,
    RepairEvent,
    RepairNode,
    Slot,
    Tenancy,
)
from portal.repairs.tree import COMMUNAL_ROOT

LGSL_REPAIRS = 141
LGSL_COMMUNAL = 140
LGIL_REPORT = 0
LGIL_BOOKING = 1
REOPEN_DAYS = 14
LATER_STEP_DAYS = 14
LINK_CODE_DAYS = 30

STATUS_LABELS = {
    Repair.REPORTED: "Reported",
    Repair.TRIAGED: "Triaged",
    Repair.BOOKED: "Appointment booked",
    Repair.IN_PROGRESS: "In progress",
    Repair.COMPLETED: "Completed",
    Repair.CANCELLED: "Cancelled",
}
STATUS_TAG_COLOURS = {
    Repair.REPORTED: "blue",
    Repair.TRIAGED: "light-blue",
    Repair.BOOKED: "purple",
    Repair.IN_PROGRESS: "yellow",
    Repair.COMPLETED: "green",
    Repair.CANCELLED: "grey",
}

# Emergency triage: what sends the tenant to the phone instead of the online form. Carbon
# monoxide is a get-out-now emergency like gas: it comes before the "phone us" list.
GAS = "gas"
CARBON_MONOXIDE = "carbon_monoxide"
PHONE_NOW_REASONS = {
    "no_heating": "No heating or no hot water",
    "no_water": "No water at all",
    "no_electricity": "No electricity",
    "water_on_electrics": "Water leaking on to electrics",
    "insecure": "You cannot lock or secure your home",
    "exposed_wires": "Exposed or bare electrical wires",
    "alarm": "A smoke alarm keeps sounding and there is no fire",
}


class SlotTaken(RepairsError):
    """The chosen slot filled up before this booking reached it."""


def settings():  # noqa: ANN201
    return current_app.config["PORTAL"]


def today() -> date:
    """Today in the UK: appointment cut-offs, overdue repairs and tenancies go by this date."""
    return uk_today()


# Tenancies and access ------------------------------------------------------------------------


def active_tenancies(user_id: int) -> list[Tenancy]:
    """The current tenancies linked to a user's account."""
    return list(
        db.session.scalars(
            select(Tenancy)
            .where(Tenancy.user_id == user_id)
            .where((Tenancy.end_date.is_(None)) | (Tenancy.end_date >= today()))
            .order_by(Tenancy.id)
        )
    )


def tenants_at_address(query: str) -> list[int]:
    """Users with a current tenancy whose address matches `query`: "12 Abbey Road", a postcode
    with or without its space. Registered as a resident finder for the channels slice."""
    text = " ".join(query.split()).lower()
    if len(text) < 3:
        return []
    like = f"%{text}%"
    compact = f"%{text.replace(' ', '')}%"
    street = func.lower(Address.line1)
    postcode = func.replace(func.lower(Address.postcode), " ", "")
    return list(
        db.session.scalars(
            select(Tenancy.user_id)
            .join(Property, Tenancy.property_id == Property.id)
            .join(Address, Property.uprn == Address.uprn)
            .where(Tenancy.user_id.is_not(None))
            .where((Tenancy.end_date.is_(None)) | (Tenancy.end_date >= today()))
            .where(
                street.like(like)
                | func.lower(func.coalesce(Address.line2, "")).like(like)
                | postcode.like(compact)
            )
            .distinct()
            .limit(50)
        )
    )


def is_housing_staff(user) -> bool:  # noqa: ANN001
    return bool(getattr(user, "is_authenticated", False) and user.has_role("housing"))


def is_tenant_of(user, repair: Repair) -> bool:  # noqa: ANN001
    """A current tenant of the repair's property."""
    if not getattr(user, "is_authenticated", False):
        return False
    return any(t.property_id == repair.property_id for t in active_tenancies(user.id))


def can_see_repair(user, repair: Repair) -> bool:  # noqa: ANN001
    """Only a current tenant of the repair's property, or housing staff."""
    return is_housing_staff(user) or is_tenant_of(user, repair)


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace(" ", "").encode()).hexdigest()


class NoMatch(RepairsError):
    """A linking attempt that matched no tenancy: it counts towards the attempt limit."""


class TooManyAttempts(RepairsError):
    """The account has used up its linking attempts for now."""


NO_MATCH = (
    "We could not match that tenancy reference and date of birth. "
    "Check both, or ask the housing team for a linking code"
)
LINK_ATTEMPTS = 5
LINK_ATTEMPT_WINDOW = timedelta(hours=24)
LINK_FAILED = "repair.tenancy.link_failed"


def normalise_reference(reference: str) -> str:
    """`RT100005`, `rt 100005` and ` RT-100005 ` are one reference: letters and digits only."""
    return "".join(ch for ch in reference.upper() if ch.isalnum())


def compact_reference(column):  # noqa: ANN001, ANN202
    return func.upper(func.replace(func.replace(column, "-", ""), " ", ""))


def failed_link_attempts(user_id: int) -> int:
    """Linking attempts by this account that matched nothing in the last 24 hours."""
    from portal.common.models import AuditEvent

    return (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == LINK_FAILED,
                AuditEvent.actor_id == user_id,
                AuditEvent.occurred_at >= utcnow() - LINK_ATTEMPT_WINDOW,
            )
        )
        or 0
    )


def record_failed_link(user_id: int, method: str) -> None:
    """Count an attempt that matched nothing (the caller commits, after rolling back its own)."""
    from portal.common.audit import record_audit

    user = db.session.get(User, user_id)
    record_audit(LINK_FAILED, "user", user_id, {"method": method}, actor=user)


def _check_attempts(user_id: int) -> None:
    if failed_link_attempts(user_id) >= LINK_ATTEMPTS:
        raise TooManyAttempts(
            "You have tried to link a tenancy too many times. Try again tomorrow, or ask the "
            "housing team for a linking code"
        )


def link_with_reference(user_id: int, reference: str, date_of_birth: date) -> Tenancy:
    """Link an account with a tenancy reference and the tenant's date of birth.

    A wrong reference and a wrong date of birth get the same answer, so neither is confirmed.
    """
    _check_attempts(user_id)
    wanted = normalise_reference(reference)
    tenancy = (
        db.session.scalar(select(Tenancy).where(compact_reference(Tenancy.reference) == wanted))
        if wanted
        else None
    )
    if tenancy is None or tenancy.date_of_birth != date_of_birth:
        raise NoMatch(NO_MATCH)
    return _link(tenancy, user_id)


def link_with_code(user_id: int, code: str) -> Tenancy:
    """Link an account with a one-off code from the housing team."""
    _check_attempts(user_id)
    tenancy = db.session.scalar(select(Tenancy).where(Tenancy.link_code_hash == _hash_code(code)))
    if tenancy is None or (
        tenancy.link_code_expires_at and _aware(tenancy.link_code_expires_at) < utcnow()
    ):
        raise NoMatch("That code is not valid or has expired: ask the housing team for a new one")
    tenancy.link_code_hash = None
    tenancy.link_code_expires_at = None
    return _link(tenancy, user_id)


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _link(tenancy: Tenancy, user_id: int) -> Tenancy:
    if tenancy.end_date and tenancy.end_date < today():
        raise RepairsError("That tenancy has ended. Contact the housing team")
    if tenancy.user_id not in (None, user_id):
        raise RepairsError(
            "That tenancy is already linked to another account. Contact the housing team"
        )
    tenancy.user_id = user_id
    tenancy.linked_at = utcnow()
    return tenancy


def issue_link_code(tenancy: Tenancy) -> str:
    """A new one-off linking code for the tenant (shown once to staff; only its hash is kept)."""
    code = "".join(secrets.choice("ACDEFGHJKMNPQRTWXY34679") for _ in range(8))
    tenancy.link_code_hash = _hash_code(code)
    tenancy.link_code_expires_at = utcnow() + timedelta(days=LINK_CODE_DAYS)
    return code


def unlink(tenancy: Tenancy) -> None:
    tenancy.user_id = None
    tenancy.linked_at = None


# The tree ------------------------------------------------------------------------------------


def children(parent_id: int | None) -> list[RepairNode]:
    return list(
        db.session.scalars(
            select(RepairNode)
            .where(
                RepairNode.parent_id.is_(None)
                if parent_id is None
                else RepairNode.parent_id == parent_id
            )
            .where(RepairNode.active)
            .order_by(RepairNode.position, RepairNode.label)
        )
    )


def path_of(node: RepairNode) -> list[RepairNode]:
    """The node's ancestors from the root down to the node itself."""
    chain = []
    current: RepairNode | None = node
    while current is not None:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def category_text(node: RepairNode) -> str:
    return " > ".join(n.label for n in path_of(node))


def is_communal(node: RepairNode) -> bool:
    return path_of(node)[0].label == COMMUNAL_ROOT


def active_leaf(node_id: object) -> RepairNode | None:
    try:
        node = db.session.get(RepairNode, int(node_id))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if node is None or not node.is_leaf or not all(n.active for n in path_of(node)):
        return None
    return node


def all_leaves() -> list[RepairNode]:
    leaves = db.session.scalars(
        select(RepairNode).where(RepairNode.priority.is_not(None), RepairNode.active)
    ).all()
    return sorted(leaves, key=category_text)


# Emergency triage ----------------------------------------------------------------------------


def record_triage_contact(
    user_id: int | None, property_id: int | None, outcome: str, reasons: list[str]
) -> RepairContact:
    """Keep a record of a tenant sent to the phone by emergency triage."""
    contact = RepairContact(
        user_id=user_id, property_id=property_id, outcome=outcome, reasons=",".join(reasons)[:400]
    )
    db.session.add(contact)
    return contact


# Reports -------------------------------------------------------------------------------------


def lgsl_for(repair: Repair) -> int:
    return LGSL_COMMUNAL if repair.communal else LGSL_REPAIRS


@dataclass
class ReportInput:
    property_id: int
    node: RepairNode
    description: str
    access_notes: str
    contact_preference: str
    contact_phone: str | None


def create_repair(
    data: ReportInput,
    user_id: int | None,
    photos: list[tuple[str, str, int, int, str]],
    channel: str | None = None,
    staff_id: int | None = None,
) -> Repair:
    """Record a reported repair with its photos, its take-up row and the confirmation email."""
    from portal.repairs.models import RepairPhoto

    if channel is None:
        # Staff acting for a caller, or a kiosk: the request's channel and staff member.
        channel, request_staff = current_channel()
        staff_id = staff_id if staff_id is not None else request_staff
    now = utcnow()
    node = data.node
    repair = Repair(
        reference=new_reference(
            "RP",
            lambda ref: (
                db.session.scalar(select(Repair.id).where(Repair.reference == ref)) is not None
            ),
        ),
        property_id=data.property_id,
        user_id=user_id,
        node_id=node.id,
        communal=is_communal(node),
        category=category_text(node),
        description=data.description,
        access_notes=data.access_notes,
        contact_preference=data.contact_preference,
        contact_phone=data.contact_phone,
        priority=node.priority or "routine",
        trade=node.trade or "general",
        status=Repair.REPORTED,
        channel=channel or "web",
        reported_at=now,
        updated_at=now,
        target_date=calendar.target_date(node.priority or "routine", now, settings()),
    )
    for key, thumb, width, height, name in photos:
        repair.photos.append(
            RepairPhoto(
                storage_key=key, thumbnail_key=thumb, width=width, height=height, original_name=name
            )
        )
    db.session.add(repair)
    add_event(repair, "Repair reported", status=Repair.REPORTED, actor_id=staff_id or user_id)
    db.session.flush()
    record_transaction(
        "repair_report",
        lgsl_for(repair),
        LGIL_REPORT,
        repair.reference,
        user_id=user_id,
        channel=channel,
        staff_id=staff_id,
    )
    _email_tenant(
        repair,
        f"Repair reported: {repair.reference}",
        f"We have your repair report {repair.reference}.\n\n"
        f"Problem: {repair.category}\n"
        f"Priority: {repair.priority} (we aim to fix it by {format_date(repair.target_date)})\n\n"
        f"Book or follow it at {_repair_url(repair)}",
    )
    return repair


def add_event(
    repair: Repair,
    text: str,
    status: str | None = None,
    public: bool = True,
    actor_id: int | None = None,
) -> RepairEvent:
    event = RepairEvent(
        status=status, text=text, public=public, actor_id=actor_id, occurred_at=utcnow()
    )
    repair.events.append(event)
    return event


def _move(repair: Repair, action: str) -> str:
    """The status `action` takes the repair to, by the state machine (refused otherwise)."""
    target = lifecycle.next_status(repair.status, action)
    return _awaiting_status(repair) if target == lifecycle.AWAITING else target


def _awaiting_status(repair: Repair) -> str:
    """Where a repair waits for an appointment: triaged if staff triaged it since it was last
    reported or reopened, otherwise reported."""
    for event in reversed(repair.events):
        if event.status in (Repair.REPORTED, Repair.TRIAGED):
            return event.status
    return Repair.REPORTED


def _end_appointment(repair: Repair, attended: bool) -> None:
    """A repair ended: its live appointment stops holding a place (see portal/repairs/lifecycle)."""
    appointment = repair.active_appointment
    if appointment is None:
        return
    if attended and appointment.slot.date <= today():
        appointment.status = Appointment.ATTENDED
    else:
        _release(appointment, Appointment.CANCELLED)


def set_status(repair: Repair, status: str, actor_id: int | None, note: str = "") -> None:
    """Staff move a repair to `status` through the state machine; history kept, tenant told."""
    if status not in Repair.STATUSES:
        raise RepairsError("Choose a status")
    if status == Repair.BOOKED:
        raise TransitionRefused("To book the repair, choose an appointment under Appointment")
    action = lifecycle.STAFF_ACTIONS.get(status)
    if action is None:
        raise TransitionRefused(lifecycle.refusal(repair.status, lifecycle.REOPEN))
    status = _move(repair, action)
    if action in (lifecycle.COMPLETE, lifecycle.CANCEL):
        _end_appointment(repair, attended=action == lifecycle.COMPLETE)
    repair.status = status
    repair.updated_at = utcnow()
    if status == Repair.COMPLETED:
        repair.completed_at = utcnow()
    text = f"Status changed to {STATUS_LABELS[status].lower()}"
    add_event(repair, text + (f": {note}" if note else ""), status=status, actor_id=actor_id)
    _email_tenant(
        repair,
        f"Your repair {repair.reference}: {STATUS_LABELS[status].lower()}",
        f"Your repair {repair.reference} ({repair.category}) is now: "
        f"{STATUS_LABELS[status].lower()}.\n"
        + (f"\n{note}\n" if note else "")
        + (
            f"\nIf it is not fixed, tell us within {REOPEN_DAYS} days at {_repair_url(repair)}"
            if status == Repair.COMPLETED
            else f"\nFollow it at {_repair_url(repair)}"
        ),
    )


def can_withdraw(repair: Repair) -> bool:
    """The tenant may cancel their repair online before work starts, and not on the day of the
    appointment or the day before (then they phone)."""
    appointment = repair.active_appointment
    return lifecycle.allows(repair.status, lifecycle.WITHDRAW) and (
        appointment is None or can_change(appointment)
    )


def withdraw(repair: Repair, reason: str, actor_id: int | None) -> None:
    """The tenant no longer needs the repair: it is cancelled and its appointment released."""
    status = _move(repair, lifecycle.WITHDRAW)
    if not can_withdraw(repair):
        raise RepairsError("Your appointment is tomorrow or today: phone us to cancel the repair")
    _end_appointment(repair, attended=False)
    repair.status = status
    repair.updated_at = utcnow()
    add_event(
        repair,
        "Cancelled by the tenant" + (f": {reason}" if reason else ""),
        status=status,
        actor_id=actor_id,
    )
    _email_tenant(
        repair,
        f"Your repair {repair.reference}: cancelled",
        f"You cancelled repair {repair.reference} ({repair.category}). If you still need it, "
        f"report it again at {_repair_url(repair).rsplit('/', 1)[0]}",
    )


def can_reopen(repair: Repair, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        lifecycle.allows(repair.status, lifecycle.REOPEN)
        and repair.completed_at is not None
        and _aware(repair.completed_at) >= now - timedelta(days=REOPEN_DAYS)
    )


def reopen(repair: Repair, note: str, actor_id: int | None) -> None:
    """ "Not fixed": reopen a repair completed in the last 14 days, with the tenant's note.

    It goes back to reported with a new target date and needs a new appointment.
    """
    status = _move(repair, lifecycle.REOPEN)
    if not can_reopen(repair):
        raise RepairsError(
            f"You can only say a repair is not fixed within {REOPEN_DAYS} days of it being completed"
        )
    # Repairs completed before appointments were ended on completion may still hold one.
    _end_appointment(repair, attended=True)
    repair.status = status
    repair.reopened_count += 1
    repair.completed_at = None
    now = utcnow()
    repair.updated_at = now
    repair.target_date = calendar.target_date(repair.priority, now, settings())
    add_event(repair, f"Reopened: not fixed. {note}", status=status, actor_id=actor_id)
    _email_tenant(
        repair,
        f"Your repair {repair.reference} has been reopened",
        f"You told us repair {repair.reference} is not fixed. We have reopened it and will be "
        f"in touch. Book a new appointment at {_repair_url(repair)}",
    )


def recategorise(
    repair: Repair, node: RepairNode | None, priority: str, trade: str, actor_id: int | None
) -> list[str]:
    """Staff change of category, priority or trade; returns what changed."""
    changes = []
    if node is not None and node.id != repair.node_id:
        repair.node_id = node.id
        repair.category = category_text(node)
        repair.communal = is_communal(node)
        changes.append(f"category to {repair.category}")
    if priority != repair.priority:
        repair.priority = priority
        repair.target_date = calendar.target_date(priority, _aware(repair.reported_at), settings())
        changes.append(f"priority to {priority}")
    if trade != repair.trade:
        repair.trade = trade
        changes.append(f"trade to {trade}")
    if changes:
        repair.updated_at = utcnow()
        add_event(repair, "Changed " + ", ".join(changes), public=True, actor_id=actor_id)
    return changes


def booked_by_tenant_condition():  # noqa: ANN201
    """Repairs booked whose live appointment the tenant made (online, at a kiosk), not staff on
    the phone: the queue staff check for access notes and the right trade."""
    return (Repair.status == Repair.BOOKED) & Repair.appointments.any(
        and_(Appointment.status == Appointment.BOOKED, Appointment.channel != "phone")
    )


def search_condition(q: str):  # noqa: ANN201
    """Repairs whose reference, problem, description, street or postcode contains `q`."""
    like = f"%{q}%"
    compact = f"%{q.replace(' ', '').lower()}%"
    at_address = (
        select(Property.id)
        .join(Address, Property.uprn == Address.uprn)
        .where(
            Address.line1.ilike(like)
            | func.replace(func.lower(Address.postcode), " ", "").like(compact)
        )
    )
    return (
        Repair.reference.ilike(like)
        | Repair.category.ilike(like)
        | Repair.description.ilike(like)
        | Repair.property_id.in_(at_address)
    )


def is_overdue(repair: Repair, on: date | None = None) -> bool:
    return repair.is_open and repair.target_date < (on or today())


# Slots and booking ---------------------------------------------------------------------------


def earliest_date(repair: Repair, on: date | None = None) -> date:
    """Emergencies can be seen today; everything else from the next working day."""
    on = on or today()
    return on if repair.priority == "emergency" else calendar.next_working_day(on)


def booking_window(repair: Repair, later: int = 0, on: date | None = None) -> tuple[date, date]:
    start = earliest_date(repair, on)
    end = max(repair.target_date, start) + timedelta(days=LATER_STEP_DAYS * max(later, 0))
    return start, end


def free_slots(trade: str, start: date, end: date, exclude: int | None = None) -> list[Slot]:
    query = (
        select(Slot)
        .where(Slot.trade == trade, Slot.date >= start, Slot.date <= end)
        .where(Slot.booked < Slot.capacity)
        .order_by(Slot.date, Slot.period)
    )
    if exclude:
        query = query.where(Slot.id != exclude)
    return [s for s in db.session.scalars(query) if calendar.is_working_day(s.date)]


def next_free_slots(repair: Repair, after: date | None = None, limit: int = 6) -> list[Slot]:
    start = after or earliest_date(repair)
    return free_slots(repair.trade, start, start + timedelta(days=120))[:limit]


def can_book(repair: Repair) -> bool:
    return lifecycle.allows(repair.status, lifecycle.BOOK)


def can_change(appointment: Appointment, on: date | None = None) -> bool:
    """A tenant may change or cancel until the day before the appointment, while the repair is
    booked (not once work has started or the repair has ended)."""
    return (
        appointment.status == Appointment.BOOKED
        and lifecycle.allows(appointment.repair.status, lifecycle.CANCEL_APPOINTMENT)
        and (on or today()) < appointment.slot.date
    )


def book(
    repair: Repair,
    slot_id: int,
    *,
    actor_id: int | None,
    channel: str | None = None,
    staff_id: int | None = None,
    enforce_window: bool = True,
) -> Appointment:
    """Book one place in a slot; never past its capacity, even under concurrent bookings.

    The place is taken by one conditional UPDATE (`booked < capacity`): PostgreSQL re-checks the
    condition on the locked row after a concurrent update commits, and SQLite runs write
    transactions one at a time (BEGIN IMMEDIATE), so exactly `capacity` bookings ever succeed.
    """
    # Lock the repair row first so two submissions for the same repair queue up.
    db.session.execute(update(Repair).where(Repair.id == repair.id).values(updated_at=utcnow()))
    db.session.refresh(repair)
    status = _move(repair, lifecycle.BOOK)
    old = repair.active_appointment
    if old is not None and staff_id is None and not can_change(old):
        raise RepairsError("Your appointment is tomorrow or today: phone us to change it")
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.trade != repair.trade:
        raise RepairsError("Choose an appointment from the list")
    if old is not None and old.slot_id == slot.id:
        raise RepairsError("That is already your appointment: choose a different one")
    if enforce_window and slot.date < earliest_date(repair):
        raise RepairsError("That appointment is no longer available: choose another")
    result = db.session.execute(
        update(Slot)
        .where(Slot.id == slot.id, Slot.booked < Slot.capacity)
        .values(booked=Slot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise SlotTaken(
            "Sorry, someone else has just booked the last place in that appointment. "
            "Choose one of the next free appointments"
        )
    db.session.refresh(slot)
    if old is not None:
        _release(old, Appointment.MOVED)
    appointment = Appointment(
        slot_id=slot.id,
        status=Appointment.BOOKED,
        channel=channel or "web",
        booked_at=utcnow(),
        booked_by_id=actor_id,
    )
    appointment.slot = slot
    repair.appointments.append(appointment)
    repair.status = status
    repair.updated_at = utcnow()
    verb = "moved to" if old is not None else "booked for"
    add_event(
        repair, f"Appointment {verb} {describe_slot(slot)}", status=Repair.BOOKED, actor_id=actor_id
    )
    record_transaction(
        "repair_booking",
        lgsl_for(repair),
        LGIL_BOOKING,
        repair.reference,
        user_id=repair.user_id,
        channel=channel,
        staff_id=staff_id,
    )
    _email_tenant(
        repair,
        f"Repair appointment {'changed' if old else 'booked'}: {repair.reference}",
        f"Your {slot.trade} appointment for repair {repair.reference} is {describe_slot(slot)}.\n\n"
        f"You can change or cancel it until the day before at {_repair_url(repair)}",
    )
    return appointment


def _release(appointment: Appointment, status: str) -> None:
    appointment.status = status
    db.session.execute(
        update(Slot)
        .where(Slot.id == appointment.slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1)
        .execution_options(synchronize_session=False)
    )


def cancel_appointment(repair: Repair, actor_id: int | None, by_staff: bool = False) -> None:
    """Cancel the live appointment: the place is released and the repair waits for a new one."""
    status = _move(repair, lifecycle.CANCEL_APPOINTMENT)
    appointment = repair.active_appointment
    if appointment is None:
        raise RepairsError("There is no appointment to cancel")
    if not by_staff and not can_change(appointment):
        raise RepairsError("Your appointment is tomorrow or today: phone us to cancel it")
    _release(appointment, Appointment.CANCELLED)
    repair.status = status
    repair.updated_at = utcnow()
    add_event(
        repair,
        f"Appointment {describe_slot(appointment.slot)} cancelled",
        status=repair.status,
        actor_id=actor_id,
    )
    _email_tenant(
        repair,
        f"Repair appointment cancelled: {repair.reference}",
        f"Your appointment {describe_slot(appointment.slot)} for repair {repair.reference} is "
        f"cancelled. Book a new one at {_repair_url(repair)}",
    )


def describe_slot(slot: Slot) -> str:
    return f"{format_date(slot.date, weekday=True)}, {PERIOD_LABELS[slot.period].lower()}"


def format_moment(moment: datetime) -> str:
    """A stored (UTC) moment the GOV.UK way in UK time: "1 December 2026, 9:30am"."""
    uk = to_uk(_aware(moment))
    if (uk.hour, uk.minute) == (12, 0):
        clock_text = "midday"
    elif (uk.hour, uk.minute) == (0, 0):
        clock_text = "midnight"
    else:
        hour = uk.hour % 12 or 12
        clock_text = (
            f"{hour}{f':{uk.minute:02d}' if uk.minute else ''}{'am' if uk.hour < 12 else 'pm'}"
        )
    return f"{format_date(uk.date())}, {clock_text}"


def format_date(day: date, weekday: bool = False) -> str:
    text = f"{day.day} {day:%B %Y}"
    return f"{day:%A} {text}" if weekday else text


@dataclass
class BulkResult:
    created: int
    updated: int
    skipped: int


def bulk_create_slots(
    trade: str,
    start: date,
    weeks: int,
    weekdays: set[int],
    periods: list[str],
    capacity: int,
) -> BulkResult:
    """Create (or raise the capacity of) slots for a trade on chosen weekdays for N weeks.

    Bank holidays are skipped; an existing slot keeps its bookings and never drops below them.
    """
    created = updated = skipped = 0
    end = start + timedelta(weeks=weeks) - timedelta(days=1)
    existing = {
        (s.date, s.period): s
        for s in db.session.scalars(
            select(Slot).where(Slot.trade == trade, Slot.date >= start, Slot.date <= end)
        )
    }
    day = start
    while day <= end:
        if day.weekday() in weekdays and calendar.is_working_day(day):
            for period in periods:
                slot = existing.get((day, period))
                if slot is None:
                    db.session.add(
                        Slot(trade=trade, date=day, period=period, capacity=capacity, booked=0)
                    )
                    created += 1
                elif slot.capacity != max(capacity, slot.booked):
                    slot.capacity = max(capacity, slot.booked)
                    updated += 1
                else:
                    skipped += 1
        day += timedelta(days=1)
    return BulkResult(created, updated, skipped)


def set_capacity(slot: Slot, capacity: int) -> None:
    if capacity < slot.booked:
        raise RepairsError(f"Capacity cannot be less than the {slot.booked} places already booked")
    db.session.execute(
        update(Slot)
        .where(Slot.id == slot.id, Slot.booked <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(slot)
    if slot.capacity != capacity:
        raise RepairsError("Capacity cannot be less than the places already booked")


# Reminders -----------------------------------------------------------------------------------


def send_reminders(on: date | None = None) -> int:
    """Email every tenant whose appointment is tomorrow, once."""
    tomorrow = (on or today()) + timedelta(days=1)
    due = db.session.scalars(
        select(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(Appointment.status == Appointment.BOOKED, Appointment.reminder_sent_at.is_(None))
        .where(Slot.date == tomorrow)
    ).all()
    sent = 0
    for appointment in due:
        claimed = db.session.execute(
            update(Appointment)
            .where(Appointment.id == appointment.id, Appointment.reminder_sent_at.is_(None))
            .values(reminder_sent_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        repair = appointment.repair
        _email_tenant(
            repair,
            f"Reminder: repair appointment tomorrow ({repair.reference})",
            f"Your {appointment.slot.trade} appointment for repair {repair.reference} is "
            f"tomorrow: {describe_slot(appointment.slot)}.\n\nAccess notes you gave us: "
            f"{repair.access_notes or 'none'}.\n\nTo change it now, phone {settings().council_phone}.",
        )
        sent += 1
    return sent


# Emails --------------------------------------------------------------------------------------


def _repair_url(repair: Repair) -> str:
    return external_url("repairs.detail", reference=repair.reference)


def _email_tenant(repair: Repair, subject: str, body: str) -> None:
    if repair.user_id is None:
        return
    user = db.session.get(User, repair.user_id)
    if user is None:
        return
    queue_email(user.email, subject, body + f"\n\n{settings().council_name} housing repairs")


# Counts, deliveries, personal data -----------------------------------------------------------


def counts() -> dict[str, int]:
    rows = db.session.execute(select(Repair.status, func.count()).group_by(Repair.status)).all()
    result = {status: 0 for status in Repair.STATUSES}
    result.update({status: n for status, n in rows})
    result["overdue"] = (
        db.session.scalar(
            select(func.count())
            .select_from(Repair)
            .where(and_(Repair.status.in_(Repair.OPEN), Repair.target_date < today()))
        )
        or 0
    )
    result["reopened"] = (
        db.session.scalar(
            select(func.count())
            .select_from(Repair)
            .where(Repair.status.in_(Repair.OPEN), Repair.reopened_count > 0)
        )
        or 0
    )
    return result


DELIVERIES = (
    ("report", LGSL_REPAIRS, LGIL_REPORT, "Report a housing repair"),
    ("report", LGSL_COMMUNAL, LGIL_REPORT, "Report a communal repair"),
    ("booking", LGSL_REPAIRS, LGIL_BOOKING, "Book a repair appointment"),
    ("booking", LGSL_COMMUNAL, LGIL_BOOKING, "Book a communal repair appointment"),
)


def sync_deliveries(live: bool = True) -> int:
    """Declare the repairs interactions the portal runs (e-enabled for BVPI 157)."""
    for ref, lgsl, lgil, title in DELIVERIES:
        set_portal_delivery("repairs", ref, lgsl, lgil, title, "/repairs", live=live)
    return len(DELIVERIES)


def personal_data(user) -> dict:  # noqa: ANN001
    """Everything the repairs slice holds about a person."""
    tenancies = db.session.scalars(select(Tenancy).where(Tenancy.user_id == user.id)).all()
    repairs = db.session.scalars(
        select(Repair).where(Repair.user_id == user.id).order_by(Repair.id)
    ).all()
    contacts = db.session.scalars(
        select(RepairContact).where(RepairContact.user_id == user.id)
    ).all()
    return {
        "tenancies": [
            {
                "reference": t.reference,
                "address": t.home.label,
                "tenant_name": t.tenant_name,
                "date_of_birth": t.date_of_birth.isoformat(),
                "start_date": t.start_date.isoformat(),
                "end_date": t.end_date.isoformat() if t.end_date else None,
                "linked_at": t.linked_at.isoformat() if t.linked_at else None,
            }
            for t in tenancies
        ],
        "repairs": [
            {
                "reference": r.reference,
                "address": r.home.label,
                "category": r.category,
                "description": r.description,
                "access_notes": r.access_notes,
                "contact_preference": r.contact_preference,
                "contact_phone": r.contact_phone,
                "priority": r.priority,
                "status": r.status,
                "reported_at": r.reported_at.isoformat(),
                "photos": len(r.photos),
                "history": [
                    {"at": e.occurred_at.isoformat(), "text": e.text} for e in r.events if e.public
                ],
                "appointments": [
                    {"date": a.slot.date.isoformat(), "period": a.slot.period, "status": a.status}
                    for a in r.appointments
                ],
            }
            for r in repairs
        ],
        "emergency_contacts": [
            {"at": c.occurred_at.isoformat(), "outcome": c.outcome, "reasons": c.reasons}
            for c in contacts
        ],
    }


def my_council_rows(user) -> list[dict]:  # noqa: ANN001
    repairs = db.session.scalars(
        select(Repair).where(Repair.user_id == user.id).order_by(Repair.reported_at.desc())
    ).all()
    return [
        {
            "text": f"{r.reference}: {r.category.split(' > ')[-1]}",
            "href": url_for("repairs.detail", reference=r.reference),
            "status": STATUS_LABELS[r.status],
            "date": uk_date(r.reported_at),
        }
        for r in repairs
    ]


def property_choices(user_id: int) -> list[Property]:
    return [t.home for t in active_tenancies(user_id)]


def period_order(period: str) -> int:
    return PERIODS.index(period)
