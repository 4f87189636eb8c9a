"""Bin day: rounds, assignments, changed collections, the resident's schedule, CSV in and out.

Functions that change data add an audit event and leave the commit to the caller, except the
CSV import, which is all or nothing and commits itself. The functions other slices may call:

- `assign_address_to_round(uprn, round_id, start, end, actor=None)`: the address joins the round
  from `start` until `end` (None: open-ended). An existing assignment of the address to the same
  round that overlaps or touches the period is extended instead of duplicated; an assignment to
  another round of the same collection type ends the day before `start`. Raises WasteError.
- `garden_round_for(uprn) -> Round | None`: the garden-waste round serving the address today.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select

from portal.common.audit import record_audit
from portal.common.clock import uk_today
from portal.common.models import Address
from portal.extensions import db
from portal.repairs.calendar import is_working_day
from portal.waste.models import (
    CollectionChange,
    CollectionType,
    Round,
    RoundAssignment,
    RoundNotCompleted,
    SavedAddress,
)
from portal.waste.schedule import (
    ChangeSpec,
    Collection,
    RoundSpec,
    ScheduleError,
    check_change,
    check_round,
    collections,
)

GARDEN = "garden"
REPORT_WORKING_DAYS = 2  # a missed collection can be reported until the end of this working day
CSV_COLUMNS = ["uprn", "round", "start_date", "end_date"]


class WasteError(ValueError):
    """Input that cannot be accepted; str() is the message for the person."""


# ---------------------------------------------------------------- rounds and changes


def round_spec(r: Round) -> RoundSpec:
    return RoundSpec(r.id, r.weekday, r.weeks, r.start_date)


def change_spec(c: CollectionChange) -> ChangeSpec:
    return ChangeSpec(c.round_id, c.from_date, c.to_date, c.shift_days, c.reason)


def types() -> list[CollectionType]:
    return list(db.session.scalars(select(CollectionType).order_by(CollectionType.sort_order)))


def rounds() -> list[Round]:
    return list(db.session.scalars(select(Round).order_by(Round.name)))


def create_round(
    name: str,
    type_id: int,
    weekday: int | None,
    frequency: str,
    start_date: date | None,
    pattern: str = "1",
    actor: Any = None,
) -> Round:
    name = (name or "").strip()
    if not name:
        raise WasteError("Enter a name for the round")
    if db.session.scalar(select(Round).where(Round.name == name)):
        raise WasteError(f"There is already a round called {name}")
    if db.session.get(CollectionType, type_id) is None:
        raise WasteError("Choose what the round collects")
    if frequency not in Round.FREQUENCIES:
        raise WasteError("Choose how often the round collects")
    if start_date is None:
        raise WasteError("Enter the date of the round's first collection week")
    weeks = {"weekly": "1", "fortnightly": "10"}.get(frequency, (pattern or "").strip())
    try:
        check_round(RoundSpec(0, weekday, weeks, start_date))  # type: ignore[arg-type]
    except ScheduleError as exc:
        raise WasteError(str(exc)) from None
    r = Round(
        name=name,
        type_id=type_id,
        weekday=weekday,
        frequency=frequency,
        pattern=weeks,
        start_date=start_date,
    )
    db.session.add(r)
    db.session.flush()
    record_audit("waste.round_created", "waste_round", r.id, {"name": name}, actor=actor)
    ensure_portal_deliveries()
    return r


def changes(upcoming_from: date | None = None) -> list[CollectionChange]:
    query = select(CollectionChange).order_by(CollectionChange.from_date)
    if upcoming_from is not None:
        query = query.where(CollectionChange.to_date >= upcoming_from - timedelta(days=14))
    return list(db.session.scalars(query))


def add_change(
    round_id: int | None,
    from_date: date,
    to_date: date | None,
    new_date: date,
    reason: str,
    actor: Any = None,
) -> CollectionChange:
    """Collections due from `from_date` to `to_date` move by as many days as `from_date` to
    `new_date` ("the round due on 25 December is collected on 27 December")."""
    reason = (reason or "").strip()
    if not reason:
        raise WasteError("Enter the reason for the change, for example Christmas bank holiday")
    if round_id is not None and db.session.get(Round, round_id) is None:
        raise WasteError("Choose a round, or every round")
    to_date = to_date or from_date
    spec = ChangeSpec(round_id, from_date, to_date, (new_date - from_date).days, reason)
    try:
        check_change(spec, [change_spec(c) for c in changes()])
    except ScheduleError as exc:
        raise WasteError(str(exc)) from None
    change = CollectionChange(
        round_id=round_id,
        from_date=from_date,
        to_date=to_date,
        shift_days=spec.shift_days,
        reason=reason,
    )
    db.session.add(change)
    db.session.flush()
    record_audit(
        "waste.change_added",
        "waste_change",
        change.id,
        {
            "round_id": round_id,
            "from": from_date.isoformat(),
            "to": to_date.isoformat(),
            "shift_days": spec.shift_days,
            "reason": reason,
        },
        actor=actor,
    )
    _banner_cache().clear()
    return change


def remove_change(change_id: int, actor: Any = None) -> None:
    change = db.session.get(CollectionChange, change_id)
    if change is None:
        raise WasteError("That change has already been removed")
    record_audit(
        "waste.change_removed",
        "waste_change",
        change.id,
        {"from": change.from_date.isoformat(), "reason": change.reason},
        actor=actor,
    )
    db.session.delete(change)
    _banner_cache().clear()


def describe_change(change: CollectionChange | ChangeSpec) -> str:
    """ "Collections due 25 December 2026 are collected 2 days later" in words."""
    days = abs(change.shift_days)
    when = "later" if change.shift_days > 0 else "earlier"
    span = (
        f"due on {long_date(change.from_date)}"
        if change.from_date == change.to_date
        else f"due from {long_date(change.from_date)} to {long_date(change.to_date)}"
    )
    if change.from_date == change.to_date:
        moved = change.from_date + timedelta(days=change.shift_days)
        return f"Collections {span} are collected on {long_date(moved)} ({change.reason})"
    return (
        f"Collections {span} are collected {days} day{'s' if days != 1 else ''} {when} "
        f"({change.reason})"
    )


def long_date(day: date) -> str:
    """ "Tuesday 8 December" (the year added when it is not this year's)."""
    text = f"{day:%A} {day.day} {day:%B}"
    return text if day.year == uk_today().year else f"{text} {day.year}"


# ---------------------------------------------------------------- site notice


@dataclass
class Banner:
    id: str
    title: str
    message: str
    severity: str


BANNER_TTL = 5.0  # seconds a worker reuses the list of changes before asking the database again


def _banner_cache() -> dict[str, Any]:
    from flask import current_app

    return current_app.extensions.setdefault("waste_banner_cache", {})


def site_banners() -> list[Banner]:
    """A notice on every page while a changed collection is coming up (two weeks ahead) or on."""
    today = uk_today()
    cache = _banner_cache()
    cached = cache.get("rows")
    if cached is None or time.monotonic() - cache.get("at", 0) > BANNER_TTL:
        rows = db.session.execute(
            select(
                CollectionChange.id,
                CollectionChange.round_id,
                CollectionChange.from_date,
                CollectionChange.to_date,
                CollectionChange.shift_days,
                CollectionChange.reason,
            ).where(CollectionChange.to_date >= today - timedelta(days=14))
        ).all()
        cached = [ChangeSpec(r[1], r[2], r[3], r[4], r[5]) for r in rows]
        cache.update(rows=cached, at=time.monotonic())
    shown = [
        c
        for c in cached
        if c.from_date <= today + timedelta(days=14)
        and c.to_date + timedelta(days=max(c.shift_days, 0)) >= today
    ]
    if not shown:
        return []
    message = "; ".join(describe_change(c) for c in shown[:3])
    return [Banner("bin-changes", "Bin collection changes", message + ".", "info")]


# ---------------------------------------------------------------- assignments


def assignments_for(uprn: str, on: date | None = None) -> list[RoundAssignment]:
    query = select(RoundAssignment).where(RoundAssignment.uprn == uprn)
    if on is not None:
        query = query.where(
            or_(RoundAssignment.start_date.is_(None), RoundAssignment.start_date <= on),
            or_(RoundAssignment.end_date.is_(None), RoundAssignment.end_date >= on),
        )
    return list(db.session.scalars(query.order_by(RoundAssignment.id)))


def assign_address_to_round(
    uprn: str, round_id: int, start: date | None, end: date | None, actor: Any = None
) -> RoundAssignment:
    """The address joins the round from `start` to `end` (see the module notes)."""
    address = db.session.get(Address, uprn) if uprn and str(uprn).isdigit() else None
    if address is None:
        raise WasteError("That address is not in the council's gazetteer")
    r = db.session.get(Round, round_id)
    if r is None:
        raise WasteError("Choose a round")
    if start and end and end < start:
        raise WasteError("The end date must be the same as or after the start date")
    assignment = _assign(uprn, r, start, end)
    record_audit(
        "waste.address_assigned",
        "address",
        uprn,
        {
            "round": r.name,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
        actor=actor,
    )
    return assignment


def _assign(uprn: str, r: Round, start: date | None, end: date | None) -> RoundAssignment:
    low, high = date.min, date.max
    for existing in assignments_for(uprn):
        e_start, e_end = existing.start_date or low, existing.end_date or high
        n_start, n_end = start or low, end or high
        if existing.round_id == r.id:
            touches = n_start <= (e_end + timedelta(days=1) if e_end < high else high) and (
                e_start <= (n_end + timedelta(days=1) if n_end < high else high)
            )
            if touches:
                existing.start_date = (
                    None if min(e_start, n_start) == low else min(e_start, n_start)
                )
                existing.end_date = None if max(e_end, n_end) == high else max(e_end, n_end)
                return existing
        elif existing.round.type_id == r.type_id and e_end >= n_start:
            if start is None or e_start >= n_start:
                db.session.delete(existing)  # wholly replaced by the new round
            else:
                existing.end_date = start - timedelta(days=1)
    assignment = RoundAssignment(uprn=uprn, round_id=r.id, start_date=start, end_date=end)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def bulk_assign(
    round_id: int,
    street: str = "",
    postcode: str = "",
    ward: str = "",
    start: date | None = None,
    actor: Any = None,
) -> int:
    """Assign every address on a street, in a postcode or in a ward; returns how many."""
    r = db.session.get(Round, round_id)
    if r is None:
        raise WasteError("Choose a round")
    query = select(Address)
    street, postcode, ward = street.strip(), postcode.strip().upper(), ward.strip()
    if street:
        query = query.where(Address.line1.ilike(f"% {street}"))
    elif postcode:
        query = query.where(Address.postcode == postcode)
    elif ward:
        query = query.where(Address.ward == ward)
    else:
        raise WasteError("Enter a street, a postcode or a ward")
    addresses = list(db.session.scalars(query))
    if not addresses:
        raise WasteError("No addresses match: check the street, postcode or ward")
    for address in addresses:
        _assign(address.uprn, r, start, None)
    record_audit(
        "waste.bulk_assigned",
        "waste_round",
        r.id,
        {"street": street, "postcode": postcode, "ward": ward, "count": len(addresses)},
        actor=actor,
    )
    return len(addresses)


def garden_round_for(uprn: str) -> Round | None:
    """The garden-waste round that serves the address today, if any."""
    for assignment in assignments_for(uprn, on=uk_today()):
        if assignment.round.collection_type.code == GARDEN:
            return assignment.round
    return None


# ---------------------------------------------------------------- a resident's schedule


@dataclass
class AddressCollection:
    """One collection at an address: the collection, its round and type."""

    collection: Collection
    round: Round

    @property
    def day(self) -> date:
        return self.collection.day

    @property
    def type(self) -> CollectionType:
        return self.round.collection_type


def address_collections(
    uprn: str, start: date, end: date, assignments: list[RoundAssignment] | None = None
) -> list[AddressCollection]:
    """Every collection at the address from `start` to `end`, by date then type order."""
    if assignments is None:
        assignments = assignments_for(uprn)
    if not assignments:
        return []
    specs = [change_spec(c) for c in changes(upcoming_from=start)]
    found = []
    for a in assignments:
        for c in collections(round_spec(a.round), start, end, specs):
            if (a.start_date is None or c.original >= a.start_date) and (
                a.end_date is None or c.original <= a.end_date
            ):
                found.append(AddressCollection(c, a.round))
    found.sort(key=lambda ac: (ac.day, ac.type.sort_order))
    return found


@dataclass
class Schedule:
    """What the resident page shows for one address."""

    address: Address
    next_by_type: list[AddressCollection]
    weeks: list[tuple[date, list[AddressCollection]]]  # Monday of each week, its collections
    collections: list[AddressCollection]
    types: list[CollectionType] = field(default_factory=list)
    not_completed: list[RoundNotCompleted] = field(default_factory=list)
    missed: list[MissedOption] = field(default_factory=list)


WEEKS_SHOWN = 8


def schedule_for(address: Address, today: date | None = None) -> Schedule | None:
    """Next collection of each type, the next eight weeks and what can be reported missed;
    None when no round serves the address. Three queries: assignments, changes, late rounds."""
    today = today or uk_today()
    assignments = assignments_for(address.uprn)
    if not assignments:
        return None
    monday = today - timedelta(days=today.weekday())
    end = monday + timedelta(days=7 * WEEKS_SHOWN - 1)
    window = address_collections(
        address.uprn, today - timedelta(days=10), end + timedelta(days=28), assignments
    )
    found = [ac for ac in window if ac.day >= today]
    next_by_type: dict[int, AddressCollection] = {}
    for ac in found:
        next_by_type.setdefault(ac.type.id, ac)
    weeks = []
    for n in range(WEEKS_SHOWN):
        week_start = monday + timedelta(days=7 * n)
        week_end = week_start + timedelta(days=6)
        weeks.append((week_start, [ac for ac in found if week_start <= ac.day <= week_end]))
    shown_types = sorted({ac.type.id: ac.type for ac in found}.values(), key=lambda t: t.sort_order)
    late = not_completed_for(
        address.uprn, today - timedelta(days=10), [a.round_id for a in assignments]
    )
    return Schedule(
        address=address,
        next_by_type=sorted(next_by_type.values(), key=lambda ac: ac.type.sort_order),
        weeks=weeks,
        collections=[ac for ac in found if ac.day <= end],
        types=shown_types,
        not_completed=[n for n in late if n.day <= today <= report_deadline(n.day)],
        missed=_missed(window, late, today),
    )


# ---------------------------------------------------------------- missed collections


def report_deadline(due: date) -> date:
    """The last day a collection due on `due` can be reported missed (2 working days after)."""
    day, left = due, REPORT_WORKING_DAYS
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


@dataclass
class MissedOption:
    collection: AddressCollection
    deadline: date


def missed_options(uprn: str, today: date | None = None) -> list[MissedOption]:
    """Collections due at the address that can be reported missed today.

    A collection can be reported from its day until the end of the second working day after it;
    a round the crew marked not completed that day is left out (residents are told instead).
    """
    today = today or uk_today()
    found = address_collections(uprn, today - timedelta(days=10), today)
    return _missed(found, not_completed_for(uprn, today - timedelta(days=10)), today)


def _missed(
    found: list[AddressCollection], late_rows: list[RoundNotCompleted], today: date
) -> list[MissedOption]:
    late = {(n.round_id, n.day) for n in late_rows}
    options = []
    for ac in found:
        if ac.day > today:
            break
        deadline = report_deadline(ac.day)
        if today <= deadline and (ac.round.id, ac.day) not in late:
            options.append(MissedOption(ac, deadline))
    return options


def missed_refusals(
    uprn: str, today: date | None = None, options: list[MissedOption] | None = None
) -> list[str]:
    """Why each type that cannot be reported now cannot ("Your recycling is collected on
    Tuesday; you can report it missed until the end of Thursday"). `options`: what
    `missed_options` already gave for the same address and day."""
    today = today or uk_today()
    if options is None:
        options = missed_options(uprn, today)
    allowed = {o.collection.type.id for o in options}
    reasons = []
    upcoming = address_collections(uprn, today - timedelta(days=14), today + timedelta(days=21))
    seen: set[int] = set()
    for ac in upcoming:
        if ac.type.id in allowed or ac.type.id in seen or ac.day <= today - timedelta(days=7):
            continue
        if ac.day > today or report_deadline(ac.day) < today:
            nxt = next((x for x in upcoming if x.type.id == ac.type.id and x.day > today), None)
            if nxt is None:
                continue
            seen.add(ac.type.id)
            reasons.append(
                f"Your {ac.type.name.lower()} is collected on {nxt.day:%A}; you can report it "
                f"missed until the end of {report_deadline(nxt.day):%A}"
            )
    return reasons


def not_completed_for(
    uprn: str, since: date, round_ids: list[int] | None = None
) -> list[RoundNotCompleted]:
    if round_ids is None:
        round_ids = [a.round_id for a in assignments_for(uprn)]
    if not round_ids:
        return []
    return list(
        db.session.scalars(
            select(RoundNotCompleted)
            .where(RoundNotCompleted.round_id.in_(round_ids), RoundNotCompleted.day >= since)
            .order_by(RoundNotCompleted.day)
        )
    )


def mark_not_completed(round_id: int, day: date, note: str, actor: Any = None) -> RoundNotCompleted:
    r = db.session.get(Round, round_id)
    if r is None:
        raise WasteError("Choose a round")
    existing = db.session.scalar(
        select(RoundNotCompleted).where(
            RoundNotCompleted.round_id == round_id, RoundNotCompleted.day == day
        )
    )
    if existing is not None:
        return existing
    row = RoundNotCompleted(round_id=round_id, day=day, note=(note or "").strip()[:200])
    db.session.add(row)
    db.session.flush()
    record_audit(
        "waste.round_not_completed",
        "waste_round",
        round_id,
        {"day": day.isoformat(), "note": row.note},
        actor=actor,
    )
    return row


# ---------------------------------------------------------------- My council


def save_address(user_id: int, uprn: str) -> None:
    row = db.session.scalar(select(SavedAddress).where(SavedAddress.user_id == user_id))
    if row is None:
        db.session.add(SavedAddress(user_id=user_id, uprn=uprn))
    elif row.uprn != uprn:
        row.uprn = uprn


def saved_address(user_id: int) -> Address | None:
    row = db.session.scalar(select(SavedAddress).where(SavedAddress.user_id == user_id))
    return db.session.get(Address, row.uprn) if row else None


# ---------------------------------------------------------------- CSV


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[str] = field(default_factory=list)


def _parse_date(text: str, column: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WasteError(f"{column} must be a date like 2026-12-25") from None


def import_assignments_csv(text: str, actor: Any = None) -> ImportReport:
    """Assign addresses to rounds from CSV (uprn, round, start_date, end_date).

    Every row is checked first; if any is rejected nothing is imported and the report lists
    every rejected row by line. Otherwise all rows are assigned and committed together.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("uprn", "round") if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append(f"line 1: missing columns {', '.join(missing)}")
        return report
    by_name = {r.name.lower(): r for r in rounds()}
    rows: list[tuple[str, Round, date | None, date | None]] = []
    for row in reader:
        line = reader.line_num
        try:
            uprn = (row.get("uprn") or "").strip()
            if not uprn.isdigit() or db.session.get(Address, uprn) is None:
                raise WasteError(f"UPRN {uprn or '(empty)'} is not in the gazetteer")
            r = by_name.get((row.get("round") or "").strip().lower())
            if r is None:
                raise WasteError(f"there is no round called {(row.get('round') or '').strip()!r}")
            start = _parse_date(row.get("start_date") or "", "start_date")
            end = _parse_date(row.get("end_date") or "", "end_date")
            if start and end and end < start:
                raise WasteError("end_date is before start_date")
        except WasteError as exc:
            report.errors.append(f"line {line}: {exc}")
            continue
        rows.append((uprn, r, start, end))
    if report.errors:
        db.session.rollback()
        return report
    if not rows:
        report.errors.append("The file has no rows to import")
        return report
    for uprn, r, start, end in rows:
        _assign(uprn, r, start, end)
    record_audit(
        "waste.assignments_imported", "waste_round", None, {"rows": len(rows)}, actor=actor
    )
    db.session.commit()
    report.imported = len(rows)
    return report


def export_assignments_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = select(RoundAssignment).order_by(RoundAssignment.uprn, RoundAssignment.id)
    for a in db.session.scalars(query):
        writer.writerow(
            [
                a.uprn,
                a.round.name,
                a.start_date.isoformat() if a.start_date else "",
                a.end_date.isoformat() if a.end_date else "",
            ]
        )
    return out.getvalue()


def addresses_without_round(limit: int = 50) -> list[Address]:
    assigned = select(RoundAssignment.uprn)
    return list(
        db.session.scalars(
            select(Address).where(Address.uprn.not_in(assigned)).order_by(Address.uprn).limit(limit)
        )
    )


def round_counts() -> dict[int, int]:
    from sqlalchemy import func

    rows = db.session.execute(
        select(RoundAssignment.round_id, func.count()).group_by(RoundAssignment.round_id)
    ).all()
    return {r: n for r, n in rows}


def ensure_portal_deliveries() -> None:
    """Bin-day lookup, the calendar feed and reminders: portal deliveries on LGSL 524 (household
    waste collection), LGIL 8 (providing information), a row the register has."""
    from portal.common.delivery import set_portal_delivery
    from portal.waste.models import LGIL_INFORMATION, LGSL_WASTE

    for ref, title in DELIVERIES:
        set_portal_delivery("waste", ref, LGSL_WASTE, LGIL_INFORMATION, title, "/bin-collection")


DELIVERIES = (
    ("lookup", "Find your bin collection day"),
    ("calendar", "Bin collection calendar"),
    ("reminders", "Bin collection reminders"),
)


# ---------------------------------------------------------------- reminders

REMINDER_BATCH = 2000  # subscriptions claimed and queued per transaction
MAX_CLAIM_RETRIES = 20  # batches lost to another worker before giving up (the next run resumes)


def reminder_settings():  # noqa: ANN201
    from portal.waste.models import WasteSettings

    row = db.session.get(WasteSettings, 1)
    return row if row is not None else WasteSettings(id=1, reminder_hour=18, reminder_minute=0)


def set_reminder_time(hour: int, minute: int, actor: Any = None) -> None:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise WasteError("Enter a time between 0:00 and 23:59")
    row = reminder_settings()
    row.reminder_hour, row.reminder_minute = hour, minute
    db.session.merge(row)
    record_audit(
        "waste.reminder_time_set",
        "waste_settings",
        1,
        {"time": f"{hour}:{minute:02d}"},
        actor=actor,
    )


def reminder_time_label() -> str:
    row = reminder_settings()
    hour = row.reminder_hour % 12 or 12
    suffix = "am" if row.reminder_hour < 12 else "pm"
    return (
        f"{hour}{suffix}"
        if row.reminder_minute == 0
        else f"{hour}:{row.reminder_minute:02d}{suffix}"
    )


def subscribe_reminders(uprn: str, email: str, user_id: int | None = None):  # noqa: ANN201
    """Ask for reminders at an address; a confirmation email is queued (double opt-in)."""
    import re
    import secrets

    from portal.waste.models import ReminderSubscription

    email = (email or "").strip().lower()
    if not email:
        raise WasteError("Enter your email address")
    if len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise WasteError("Enter an email address in the correct format, like name@example.com")
    address = db.session.get(Address, uprn)
    if address is None or not assignments_for(uprn):
        raise WasteError("We do not collect from this address")
    row = db.session.scalar(
        select(ReminderSubscription).where(
            ReminderSubscription.uprn == uprn, ReminderSubscription.email == email
        )
    )
    if row is None:
        row = ReminderSubscription(uprn=uprn, email=email, token=secrets.token_urlsafe(32))
        db.session.add(row)
    row.user_id = row.user_id or user_id
    if row.active:
        return row
    row.unsubscribed_at = None
    row.confirmed_at = None
    db.session.flush()
    _queue_confirmation(row, address)
    return row


def _queue_confirmation(row, address: Address) -> None:  # noqa: ANN001
    from portal.common.outbox import queue_email
    from portal.common.urls import external_url

    link = external_url("waste.confirm_reminders", token=row.token)
    queue_email(
        row.email,
        "Confirm your bin collection reminders",
        f"You asked for an email the evening before bin collections at {address.single_line}.\n\n"
        f"Confirm here to start them:\n{link}\n\n"
        "If you did not ask for this, ignore this email and you will get nothing more.\n",
    )


def reminder_by_token(token: str):  # noqa: ANN201
    from portal.waste.models import ReminderSubscription

    return db.session.scalar(
        select(ReminderSubscription).where(ReminderSubscription.token == token)
    )


def confirm_reminders(row) -> None:  # noqa: ANN001
    from portal.common.models import utcnow

    if row.confirmed_at is None:
        row.confirmed_at = utcnow()
    row.unsubscribed_at = None


def unsubscribe_reminders(row) -> None:  # noqa: ANN001
    from portal.common.models import utcnow

    if row.unsubscribed_at is None:
        row.unsubscribed_at = utcnow()


def collections_on(day: date) -> dict[str, list[AddressCollection]]:
    """Every address's collections on `day` (changes applied), keyed by UPRN."""
    specs = [change_spec(c) for c in changes(upcoming_from=day)]
    by_round = {}
    for r in rounds():
        found = collections(round_spec(r), day, day, specs)
        if found:
            by_round[r.id] = (r, found[0])
    result: dict[str, list[AddressCollection]] = {}
    if not by_round:
        return result
    rows = db.session.execute(
        select(
            RoundAssignment.uprn,
            RoundAssignment.round_id,
            RoundAssignment.start_date,
            RoundAssignment.end_date,
        ).where(RoundAssignment.round_id.in_(list(by_round)))
    ).all()
    for uprn, round_id, start, end in rows:
        r, c = by_round[round_id]
        if (start is None or c.original >= start) and (end is None or c.original <= end):
            result.setdefault(uprn, []).append(AddressCollection(c, r))
    return result


def reminders_due_now(now=None) -> bool:  # noqa: ANN001
    from portal.common.clock import uk_now

    now = now or uk_now()
    row = reminder_settings()
    return (now.hour, now.minute) >= (row.reminder_hour, row.reminder_minute)


def queue_reminders(day: date | None = None, batch: int = REMINDER_BATCH) -> int:
    """Queue one email per confirmed subscription with a collection on `day` (tomorrow).

    Each batch claims its subscriptions (a `waste_reminders_sent` row, unique per subscription
    and day) and queues their emails in one transaction, then commits. A second worker doing
    the same batch fails on the unique constraint and rolls back, emails included; a run
    restarted half way skips what is already claimed. Returns how many emails were queued.
    """
    from sqlalchemy import exists, insert
    from sqlalchemy.exc import IntegrityError

    from portal.common.models import utcnow
    from portal.common.outbox import queue_emails
    from portal.waste.models import ReminderSent, ReminderSubscription

    now = utcnow()
    urls = _ReminderUrls()

    day = day or uk_today() + timedelta(days=1)
    due = collections_on(day)
    if not due:
        return 0
    addresses: dict[str, Address] = {}
    queued = 0
    after_id = 0
    retries = 0
    while True:
        claimed = exists().where(
            ReminderSent.subscription_id == ReminderSubscription.id,
            ReminderSent.collection_date == day,
        )
        subs = db.session.execute(
            select(
                ReminderSubscription.id,
                ReminderSubscription.uprn,
                ReminderSubscription.email,
                ReminderSubscription.token,
            )
            .where(
                ReminderSubscription.id > after_id,
                ReminderSubscription.confirmed_at.is_not(None),
                ReminderSubscription.unsubscribed_at.is_(None),
                ~claimed,
            )
            .order_by(ReminderSubscription.id)
            .limit(batch)
        ).all()
        if not subs:
            break
        after_id = subs[-1][0]
        wanted = [s for s in subs if s[1] in due]
        missing = {s[1] for s in wanted} - set(addresses)
        if missing:
            for a in db.session.scalars(select(Address).where(Address.uprn.in_(missing))):
                addresses[a.uprn] = a
        if not wanted:
            continue
        try:
            db.session.execute(
                insert(ReminderSent),
                [
                    {"subscription_id": w[0], "collection_date": day, "queued_at": now}
                    for w in wanted
                ],
            )
            queue_emails(
                [
                    _reminder(email, token, addresses[uprn], due[uprn], day, urls)
                    for _, uprn, email, token in wanted
                ]
            )
            db.session.commit()
            queued += len(wanted)
        except IntegrityError:
            db.session.rollback()  # another worker claimed some of these: ask again
            retries += 1
            if retries > MAX_CLAIM_RETRIES:
                raise
            after_id = subs[0][0] - 1
    return queued


class _ReminderUrls:
    """The links in reminders, built once per run (url_for for every email is slow)."""

    def __init__(self) -> None:
        from portal.common.urls import external_url

        self.unsubscribe = external_url("waste.unsubscribe_reminders", token="TOKEN")  # noqa: S106
        self.page = external_url("waste.address", uprn="UPRN")
        self.texts: dict[str, tuple[str, str]] = {}  # UPRN → (subject, body before the link)

    def unsubscribe_for(self, token: str) -> str:
        return self.unsubscribe.replace("TOKEN", token)

    def page_for(self, uprn: str) -> str:
        return self.page.replace("UPRN", uprn)


def _reminder(
    email: str,
    token: str,
    address: Address,
    found,
    day: date,
    urls: _ReminderUrls,  # noqa: ANN001
) -> tuple[str, str, str, dict[str, str]]:
    """One reminder email (to, subject, body, headers) listing every bin due at the address.

    The text for an address is worked out once per run: only the unsubscribe link differs.
    """
    cached = urls.texts.get(address.uprn)
    if cached is None:
        names = [f"{ac.type.name} ({ac.type.colour.lower()})" for ac in found]
        lines = "\n".join(f"- {n}" for n in names)
        note = "".join(
            f"\n{ac.type.name} was due {long_date(ac.collection.original)}: {ac.collection.reason}.\n"
            for ac in found
            if ac.collection.changed
        )
        body = (
            f"Put these bins out for collection tomorrow, {long_date(day)}, at "
            f"{address.single_line}:\n\n{lines}\n{note}\n"
            f"Your collection days: {urls.page_for(address.uprn)}\n\n"
            "--\nTo stop these emails, unsubscribe with one click: "
        )
        subject = f"Bin collection tomorrow: {', '.join(ac.type.name for ac in found)}"
        cached = urls.texts[address.uprn] = (subject, body)
    subject, body = cached
    url = urls.unsubscribe_for(token)
    headers = {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return email, subject, f"{body}{url}\n", headers
