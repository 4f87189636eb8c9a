"""The BVPI 157 forecast from the council's work plans, daily snapshots, targets and the return.

The forecast at a date is the live figure's numerator plus every counted interaction not yet
e-enabled whose target date is on or before that date, over the live figure's denominator. Both
parts come from the functions the live figure and its "not yet available online" list use
(`bvpi157` and `not_yet_enabled`), so whatever rule decides what counts there counts here too.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.common.audit import record_audit
from portal.common.clock import govuk_date, uk_date, uk_day_start, uk_today
from portal.common.urls import external_url
from portal.council_services import services as svc
from portal.council_services.models import (
    LGIL_TYPES,
    Bvpi157Snapshot,
    Bvpi157Target,
    Interaction,
    Service,
)
from portal.extensions import db


def _percent(numerator: int, denominator: int) -> float:
    return round(100.0 * numerator / denominator, 1) if denominator else 0.0


@dataclass(frozen=True)
class Point:
    """The figure at one date: actual (a snapshot or now) or forecast from target dates."""

    day: date
    numerator: int
    denominator: int
    kind: str  # "actual" or "forecast"

    @property
    def percent(self) -> float:
        return _percent(self.numerator, self.denominator)


# ---------------------------------------------------------------- the forecast


def pending() -> list[tuple[Service, Interaction]]:
    """Counted interactions not yet e-enabled (the live figure's own list), soonest target first."""
    return svc.not_yet_enabled()


def forecast_at(
    day: date,
    figure: svc.Bvpi157 | None = None,
    rows: list[tuple[Service, Interaction]] | None = None,
) -> Point:
    """The figure at `day` if every interaction whose target date falls from today up to it is
    delivered. Overdue targets are left out until their owner sets a new date, so the forecast
    today is the actual figure."""
    figure = figure or svc.bvpi157()
    rows = pending() if rows is None else rows
    today = uk_today()
    due = sum(1 for _, i in rows if i.target_date is not None and today <= i.target_date <= day)
    return Point(
        day, min(figure.numerator + due, figure.denominator), figure.denominator, "forecast"
    )


def forecast_curve(
    figure: svc.Bvpi157 | None = None,
    rows: list[tuple[Service, Interaction]] | None = None,
    until: date | None = None,
) -> list[Point]:
    """The forecast today, at the end of each month until the last target date, and on the last
    target date and `until` (the council's target date)."""
    figure = figure or svc.bvpi157()
    rows = pending() if rows is None else rows
    today = uk_today()
    last = max([i.target_date for _, i in rows if i.target_date] + [until or today, today])
    days = {today}
    if until and until > today:
        days.add(until)
    days.add(last)
    month_end = _month_end(today)
    while month_end < last:
        if month_end > today:
            days.add(month_end)
        month_end = _month_end(month_end + timedelta(days=1))
    return [forecast_at(d, figure, rows) for d in sorted(days)]


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


# ---------------------------------------------------------------- the council's target


@dataclass(frozen=True)
class Target:
    percent: float
    due: date | None

    @property
    def words(self) -> str:
        if self.due is None:
            return f"{self.percent:g}%"
        return f"{self.percent:g}% by {govuk_date(self.due)}"


def current_target() -> Target:
    row = db.session.scalar(
        select(Bvpi157Target).order_by(Bvpi157Target.set_at.desc(), Bvpi157Target.id.desc())
    )
    if row is None:
        return Target(svc.BVPI157_TARGET, None)
    return Target(row.percent, row.due)


def set_target(percent: float, due: date, actor: Any | None = None) -> Bvpi157Target:
    """Record a new target (the caller commits); the audit log keeps the old one."""
    before = current_target()
    row = Bvpi157Target(percent=percent, due=due, set_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    record_audit(
        "bvpi157.target_set",
        "bvpi157_target",
        row.id,
        {
            "before": before.words,
            "after": Target(percent, due).words,
        },
        actor=actor,
    )
    return row


# ---------------------------------------------------------------- snapshots


def take_daily_snapshot(today: date | None = None) -> tuple[Bvpi157Snapshot, bool]:
    """Record today's figure once per UK day; returns (the day's snapshot, whether it is new).

    The day is unique in the table, so two workers racing on one day leave one row.
    """
    today = today or uk_today()
    existing = db.session.scalar(select(Bvpi157Snapshot).where(Bvpi157Snapshot.day == today))
    if existing is not None:
        return existing, False
    figure = svc.bvpi157()
    snapshot = Bvpi157Snapshot(
        numerator=figure.numerator,
        denominator=figure.denominator,
        percent=figure.percent,
        target=current_target().percent,
        source="daily",
        taken_at=figure.as_of,
        day=today,
    )
    try:
        with db.session.begin_nested():
            db.session.add(snapshot)
    except IntegrityError:
        existing = db.session.scalar(select(Bvpi157Snapshot).where(Bvpi157Snapshot.day == today))
        return existing, False
    return snapshot, True


def actual_points(months: int = 24) -> list[Point]:
    """The last snapshot of each UK month over the last `months` months, then the live figure."""
    since = uk_today().replace(day=1) - timedelta(days=31 * (months - 1))
    rows = db.session.scalars(
        select(Bvpi157Snapshot)
        .where(Bvpi157Snapshot.taken_at >= uk_day_start(since - timedelta(days=1)))
        .order_by(Bvpi157Snapshot.taken_at)
    ).all()
    by_month: dict[tuple[int, int], Point] = {}
    for row in rows:
        day = row.day or uk_date(row.taken_at)
        if day < since:
            continue
        by_month[(day.year, day.month)] = Point(day, row.numerator, row.denominator, "actual")
    figure = svc.bvpi157()
    today = uk_today()
    points = [p for p in by_month.values() if p.day < today]
    points.append(Point(today, figure.numerator, figure.denominator, "actual"))
    return points


# ---------------------------------------------------------------- the chart


def chart(actual: list[Point], forecast: list[Point], target: Target) -> dict[str, Any]:
    """Geometry for a server-rendered SVG line chart: time across, 0–100 % up."""
    width, height, top, bottom, left, right = 720, 300, 16, 48, 48, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    days = [p.day for p in actual + forecast] + ([target.due] if target.due else [])
    first, last = min(days), max(days)
    if last <= first:
        last = first + timedelta(days=30)
    span = (last - first).days

    def x(day: date) -> float:
        return round(left + plot_w * (day - first).days / span, 1)

    def y(percent: float) -> float:
        return round(top + plot_h - plot_h * min(max(percent, 0.0), 100.0) / 100, 1)

    def steps(points: list[Point]) -> str:
        coords: list[str] = []
        for n, p in enumerate(points):
            if n:  # a step: flat until the day the next interaction is due, then up
                coords.append(f"{x(p.day)},{y(points[n - 1].percent)}")
            coords.append(f"{x(p.day)},{y(p.percent)}")
        return " ".join(coords)

    # about six evenly spaced date labels along the time axis
    count = min(6, max(span // 30, 1))
    ticks = [first + timedelta(days=round(span * n / count)) for n in range(count + 1)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "base_y": top + plot_h,
        "top": top,
        "actual": " ".join(f"{x(p.day)},{y(p.percent)}" for p in actual),
        "actual_dots": [(x(p.day), y(p.percent)) for p in actual],
        "forecast": steps(forecast),
        "target": (x(target.due), y(target.percent)) if target.due else None,
        "target_y": y(target.percent),
        "y_ticks": [(p, y(p)) for p in (0, 25, 50, 75, 100)],
        "x_ticks": [(x(d), d.strftime("%b %Y")) for d in ticks],
        "label_y": height - 20,
    }


def forecast_view() -> dict[str, Any]:
    """Everything the forecast partial shows (the public page and the staff page)."""
    figure = svc.bvpi157()
    rows = pending()
    target = current_target()
    actual = actual_points()
    curve = forecast_curve(figure, rows, target.due)
    at_target = forecast_at(target.due, figure, rows) if target.due else None
    return {
        "figure": figure,
        "target": target,
        "actual": actual,
        "forecast": curve,
        "at_target": at_target,
        "undated": sum(1 for _, i in rows if i.target_date is None),
        "chart": chart(actual, curve, target),
    }


# ---------------------------------------------------------------- owners and overdue targets


def missing_owner_or_date() -> list[tuple[Service, Interaction]]:
    """Counted, not-yet-enabled interactions without an owner or without a target date."""
    return [(s, i) for s, i in pending() if i.target_date is None or not i.has_owner]


def owner_department(service: Service, interaction: Interaction) -> str:
    return interaction.owner_department or service.department or "No department"


def overdue_by_department(
    today: date | None = None,
) -> dict[str, list[tuple[Service, Interaction]]]:
    """Targets that have passed and are not yet met, grouped by the owner's department."""
    today = today or uk_today()
    groups: dict[str, list[tuple[Service, Interaction]]] = defaultdict(list)
    for s, i in pending():
        if i.target_date is not None and i.target_date < today:
            groups[owner_department(s, i)].append((s, i))
    return dict(sorted(groups.items()))


def owned_by(user_id: int) -> list[tuple[Service, Interaction]]:
    return [(s, i) for s, i in pending() if i.owner_id == user_id]


def may_change_target(user: Any, service: Service, interaction: Interaction) -> bool:
    """Editors, the interaction's owner and the service's owner may move its target date."""
    if user.has_role("editor"):
        return True
    return user.id in {interaction.owner_id, service.owner_id}


def change_target_date(
    service: Service, interaction: Interaction, new: date, reason: str, actor: Any
) -> None:
    """Move a target date with a reason: a service version and an audit event (caller commits)."""
    before = svc.service_state(service)
    old = interaction.target_date
    interaction.target_date = new
    db.session.flush()
    svc.record_version(service, "interactions", before, actor)
    record_audit(
        "bvpi157.target_date_changed",
        "council_service_interaction",
        interaction.id,
        {
            "service": service.name,
            "interaction": interaction.label,
            "from": old.isoformat() if old else None,
            "to": new.isoformat(),
            "reason": reason,
        },
        actor=actor,
    )


def send_target_reminders(today: date | None = None) -> int:
    """Email each owner once when a target date has passed unmet; returns how many were queued.

    The target date a reminder went out for is remembered, so later runs send nothing more until
    the date is moved and passes again.
    """
    from portal.common.outbox import queue_email

    sent = 0
    for department_rows in overdue_by_department(today).values():
        for service, interaction in department_rows:
            address = interaction.reminder_email
            if not address or interaction.target_reminder_sent_for == interaction.target_date:
                continue
            name = interaction.owner_label or address
            link = external_url("council_services_forecast.targets")
            queue_email(
                address,
                f"Target date passed: {service.name}, {interaction.label.lower()}",
                f"Hello {name},\n\n{interaction.label} for {service.name} was due to be "
                f"available electronically by {govuk_date(interaction.target_date)}, and it is "
                f"not yet. It is listed as overdue in the council's BVPI 157 forecast.\n\n"
                f"If it is now done, record it on the service's e-enablement register; if it "
                f"needs longer, set a new target date and say why:\n\n{link}\n",
            )
            interaction.target_reminder_sent_for = interaction.target_date
            sent += 1
    return sent


# ---------------------------------------------------------------- the return

RETURN_COLUMNS = (
    "row_type",
    "as_at",
    "measure",
    "breakdown",
    "group",
    "e_enabled",
    "permissible",
    "percent",
    "lgsl",
    "service",
    "department",
    "interaction_type",
    "reason",
)


def default_return_dates(today: date | None = None) -> list[date]:
    """The end of each of the next four quarters of the financial year, and the target date."""
    today = today or uk_today()
    ends = []
    year = today.year
    candidates = [date(y, m, d) for y in (year, year + 1, year + 2) for m, d in QUARTER_ENDS]
    ends = [d for d in sorted(candidates) if d > today][:4]
    due = current_target().due
    if due and due > today and due not in ends:
        ends.append(due)
    return sorted(ends)


QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


def _type_label(lgil: int) -> str:
    return f"{lgil} {LGIL_TYPES.get(lgil, '')}"


def return_rows(dates: list[date]) -> list[dict[str, Any]]:
    """The council's return: the figure now and forecast at `dates`, for the council, each
    department and each interaction type, then every exclusion with its reason."""
    figure = svc.bvpi157()
    rows = pending()
    today = uk_today()
    groups = {
        "department": svc.bvpi157_breakdown("department"),
        "interaction_type": svc.bvpi157_breakdown("type"),
    }

    def key(breakdown: str, service: Service, interaction: Interaction) -> str:
        if breakdown == "department":
            return service.department or "No department"
        return _type_label(interaction.lgil)

    out: list[dict[str, Any]] = []

    def figure_row(day: date, measure: str, breakdown: str, group: str, num: int, den: int):
        out.append(
            {
                "row_type": "figure",
                "as_at": day.isoformat(),
                "measure": measure,
                "breakdown": breakdown,
                "group": group,
                "e_enabled": num,
                "permissible": den,
                "percent": _percent(num, den),
                "lgsl": None,
                "service": None,
                "department": None,
                "interaction_type": None,
                "reason": None,
            }
        )

    for day, measure in [(today, "actual")] + [(d, "forecast") for d in dates]:
        point = (
            Point(today, figure.numerator, figure.denominator, "actual")
            if measure == "actual"
            else forecast_at(day, figure, rows)
        )
        figure_row(day, measure, "council", "Council", point.numerator, point.denominator)
        for breakdown, breakdown_rows in groups.items():
            for label, num, den, _ in breakdown_rows:
                due = 0
                if measure == "forecast":
                    due = sum(
                        1
                        for s, i in rows
                        if i.target_date is not None
                        and i.target_date <= day
                        and key(breakdown, s, i) == label
                    )
                figure_row(day, measure, breakdown, label, min(num + due, den), den)
    for service, interaction in svc.exclusions():
        out.append(
            {
                "row_type": "exclusion",
                "as_at": today.isoformat(),
                "measure": None,
                "breakdown": None,
                "group": None,
                "e_enabled": None,
                "permissible": None,
                "percent": None,
                "lgsl": service.lgsl,
                "service": service.name,
                "department": service.department or "No department",
                "interaction_type": _type_label(interaction.lgil),
                "reason": interaction.exclusion_reason,
            }
        )
    return out


def return_csv(dates: list[date]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RETURN_COLUMNS)
    writer.writeheader()
    for row in return_rows(dates):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def return_json(dates: list[date]) -> dict[str, Any]:
    target = current_target()
    rows = return_rows(dates)
    return {
        "indicator": "BVPI 157",
        "as_at": uk_today().isoformat(),
        "target": {
            "percent": target.percent,
            "due": target.due.isoformat() if target.due else None,
        },
        "forecast_dates": [d.isoformat() for d in dates],
        "figures": [
            {k: r[k] for k in RETURN_COLUMNS[1:8]} for r in rows if r["row_type"] == "figure"
        ],
        "exclusions": [
            {k: r[k] for k in ("lgsl", "service", "department", "interaction_type", "reason")}
            for r in rows
            if r["row_type"] == "exclusion"
        ],
    }
