"""Take-up figures from the daily rollup: periods, breakdowns, trend, little-used, channel shift."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from portal.common.delivery import register_problems
from portal.common.models import PortalDelivery
from portal.common.transactions import ASSISTED_DIGITAL, CHANNELS, OFFLINE, SELF_SERVICE_DIGITAL
from portal.extensions import db
from portal.statistics.catalogue import (
    UNKNOWN_DEPARTMENT,
    catalogue,
    channel_label,
    department_of,
    interaction_label,
    service_label,
)
from portal.statistics.models import TakeUpDaily, TakeUpMonthly

PERIOD_KINDS = ("week", "month", "quarter", "custom")
PERIOD_LABELS = {"week": "Week", "month": "Month", "quarter": "Quarter", "custom": "Custom dates"}


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "week":
            return f"Week beginning {_long(self.start)}"
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        if self.kind == "quarter":
            return f"{self.start.strftime('%B')} to {self.end.strftime('%B %Y')}"
        return f"{_long(self.start)} to {_long(self.end)}"

    def previous(self) -> Period:
        if self.kind == "week":
            return period_for("week", self.start - timedelta(days=7))
        if self.kind in ("month", "quarter"):
            return period_for(self.kind, self.start - timedelta(days=1))
        return Period("custom", self.start - timedelta(days=self.days), self.start - timedelta(1))

    def next(self) -> Period:
        if self.kind == "custom":
            return Period("custom", self.end + timedelta(1), self.end + timedelta(days=self.days))
        return period_for(self.kind, self.end + timedelta(days=1))


def _long(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def period_for(kind: str, on: date) -> Period:
    """The week (Monday to Sunday), calendar month or quarter containing `on`."""
    if kind == "week":
        start = on - timedelta(days=on.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind == "month":
        last = calendar.monthrange(on.year, on.month)[1]
        return Period(kind, on.replace(day=1), on.replace(day=last))
    if kind == "quarter":
        first_month = 3 * ((on.month - 1) // 3) + 1
        last_month = first_month + 2
        last = calendar.monthrange(on.year, last_month)[1]
        return Period(kind, date(on.year, first_month, 1), date(on.year, last_month, last))
    raise ValueError(kind)


class PeriodError(ValueError):
    """A period the user asked for that cannot be shown; carries (field href, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(m for _, m in errors))
        self.errors = errors


def _date_from_parts(prefix: str, args: dict[str, str], label: str) -> tuple[date | None, str]:
    day, month, year = (args.get(f"{prefix}-{p}", "").strip() for p in ("day", "month", "year"))
    if not (day or month or year):
        return None, f"Enter the {label} date"
    if not (day and month and year):
        return None, f"The {label} date must include a day, month and year"
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        return None, f"The {label} date must be a real date"
    if value.year < 2000:
        return None, f"The {label} date must be in the year 2000 or later"
    return value, ""


def parse_period(args: dict[str, str], today: date, max_days: int) -> Period:
    """The period a statistics request asks for; raises PeriodError with GOV.UK messages."""
    kind = args.get("period", "month")
    if kind not in PERIOD_KINDS:
        kind = "month"
    if kind != "custom":
        on = today
        if args.get("on"):
            try:
                on = date.fromisoformat(args["on"])
            except ValueError:
                on = today
        return period_for(kind, on)
    start, start_error = _date_from_parts("from", args, "start")
    end, end_error = _date_from_parts("to", args, "end")
    errors = []
    if start_error:
        errors.append(("#from-day", start_error))
    if end_error:
        errors.append(("#to-day", end_error))
    if start and end:
        if end < start:
            errors.append(("#to-day", "The end date must be the same as or after the start date"))
        elif (end - start).days + 1 > max_days:
            errors.append(
                ("#to-day", f"The dates must be no more than {max_days} days apart (inclusive)")
            )
    if errors:
        raise PeriodError(errors)
    assert start and end
    return Period("custom", start, end)


@dataclass
class Filters:
    lgsl: int | None = None
    lgil: int | None = None
    channel: str | None = None
    department: str | None = None

    @classmethod
    def from_args(cls, args: dict[str, str]) -> Filters:
        def _int(name: str) -> int | None:
            raw = args.get(name, "").strip()
            return int(raw) if raw.isdigit() else None

        channel = args.get("channel") or None
        return cls(
            lgsl=_int("service"),
            lgil=_int("interaction"),
            channel=channel if channel in CHANNELS else None,
            department=args.get("department") or None,
        )

    def apply(self, query, table, services: dict[int, tuple[str, str]]):  # noqa: ANN001, ANN201
        if self.lgsl is not None:
            query = query.where(table.lgsl == self.lgsl)
        if self.lgil is not None:
            query = query.where(table.lgil == self.lgil)
        if self.channel:
            query = query.where(table.channel == self.channel)
        if self.department:
            lgsls = [lgsl for lgsl, (_, dept) in services.items() if dept == self.department]
            if self.department == UNKNOWN_DEPARTMENT:
                query = query.where(table.lgsl.not_in(list(services)))
            else:
                query = query.where(table.lgsl.in_(lgsls or [-1]))
        return query

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.lgsl, self.lgil, self.channel, self.department))

    def all_channels(self) -> Filters:
        """The same filters on every channel: shares of a channel group need them all."""
        return Filters(self.lgsl, self.lgil, None, self.department)


@dataclass
class Row:
    key: object
    label: str
    total: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def digital(self) -> int:
        """Digital take-up: self-service digital transactions (GOV.UK service standard)."""
        return sum(self.by_channel.get(c, 0) for c in SELF_SERVICE_DIGITAL)

    @property
    def digital_percent(self) -> float:
        return percent(self.digital, self.total)

    @property
    def assisted(self) -> int:
        return sum(self.by_channel.get(c, 0) for c in ASSISTED_DIGITAL)

    @property
    def offline(self) -> int:
        return sum(self.by_channel.get(c, 0) for c in OFFLINE)

    @property
    def web_percent(self) -> float:
        return percent(self.by_channel.get("web", 0), self.total)


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def split_range(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """Days to read from the daily rollup, and whole months (first days) from the monthly one."""
    first_full = (
        start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    )
    next_day = end + timedelta(days=1)
    last_full = end.replace(day=1) if next_day.day == 1 else end.replace(day=1) - timedelta(days=1)
    last_full = last_full.replace(day=1)
    if first_full > last_full or first_full > end:
        return [(start, end)], None
    days = []
    if start < first_full:
        days.append((start, first_full - timedelta(days=1)))
    month_end = (last_full.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if month_end < end:
        days.append((month_end + timedelta(days=1), end))
    return days, (first_full, last_full)


def _rollup_queries(
    period_start: date, period_end: date, filters: Filters, columns, months_ok=True
):  # noqa: ANN001, ANN202
    """One grouped query per rollup piece; `columns(table, date_column)` names the groups."""
    services = catalogue()
    days, months = split_range(period_start, period_end)
    if not months_ok:
        days, months = [(period_start, period_end)], None
    queries = []
    for table, column, ranges in (
        (TakeUpDaily, TakeUpDaily.day, days),
        (TakeUpMonthly, TakeUpMonthly.month, [months] if months else []),
    ):
        for low, high in ranges:
            groups = columns(table, column)
            query = (
                select(*groups, func.sum(table.transactions))
                .where(column >= low, column <= high)
                .group_by(*groups)
            )
            queries.append(filters.apply(query, table, services))
    return queries


def grouped_counts(period: Period, filters: Filters) -> list[tuple[int, int, str, int]]:
    """(lgsl, lgil, channel, transactions) in the period, from the rollups."""
    totals: dict[tuple[int, int, str], int] = defaultdict(int)
    for query in _rollup_queries(
        period.start, period.end, filters, lambda t, _c: (t.lgsl, t.lgil, t.channel)
    ):
        for lgsl, lgil, channel, n in db.session.execute(query):
            totals[(lgsl, lgil, channel)] += int(n or 0)
    return sorted((lgsl, lgil, ch, n) for (lgsl, lgil, ch), n in totals.items() if n)


def _rows(counts, key, label) -> list[Row]:  # noqa: ANN001
    rows: dict[object, Row] = {}
    for lgsl, lgil, channel, n in counts:
        k = key(lgsl, lgil, channel)
        row = rows.get(k)
        if row is None:
            row = rows[k] = Row(k, label(k))
        row.total += n
        row.by_channel[channel] += n
    return sorted(rows.values(), key=lambda r: (-r.total, r.label))


@dataclass
class Breakdown:
    period: Period
    total: int
    channels: list[Row]
    services: list[Row]
    interactions: list[Row]
    departments: list[Row]
    counts: list[tuple[int, int, str, int]] = field(default_factory=list)

    def _group(self, group: tuple[str, ...]) -> int:
        return sum(r.total for r in self.channels if r.key in group)

    @property
    def digital(self) -> int:
        """Digital take-up: self-service digital only (web and a kiosk used alone)."""
        return self._group(SELF_SERVICE_DIGITAL)

    @property
    def digital_percent(self) -> float:
        return percent(self.digital, self.total)

    @property
    def assisted(self) -> int:
        return self._group(ASSISTED_DIGITAL)

    @property
    def assisted_percent(self) -> float:
        return percent(self.assisted, self.total)

    @property
    def offline(self) -> int:
        return self._group(OFFLINE)

    @property
    def offline_percent(self) -> float:
        return percent(self.offline, self.total)


def channel_totals(period: Period, filters: Filters) -> Breakdown:
    """Only the per-channel totals of a period (for comparisons): one narrow grouping."""
    totals: dict[str, int] = defaultdict(int)
    for query in _rollup_queries(period.start, period.end, filters, lambda t, _c: (t.channel,)):
        for channel, n in db.session.execute(query):
            totals[channel] += int(n or 0)
    channels = []
    for channel in CHANNELS:
        row = Row(channel, channel_label(channel), totals.get(channel, 0))
        row.by_channel[channel] = row.total
        channels.append(row)
    return Breakdown(period, sum(totals.values()), channels, [], [], [])


def breakdown(period: Period, filters: Filters) -> Breakdown:
    services = catalogue()
    counts = grouped_counts(period, filters)
    by_channel = {c: Row(c, channel_label(c)) for c in CHANNELS}
    for _, _, channel, n in counts:
        row = by_channel.setdefault(channel, Row(channel, channel_label(channel)))
        row.total += n
        row.by_channel[channel] += n
    return Breakdown(
        period=period,
        total=sum(n for *_, n in counts),
        channels=list(by_channel.values()),
        services=_rows(counts, lambda s, i, c: s, lambda k: service_label(k, services)),
        interactions=_rows(counts, lambda s, i, c: i, interaction_label),
        departments=_rows(counts, lambda s, i, c: department_of(s, services), lambda k: str(k)),
        counts=counts,
    )


@dataclass
class TrendPoint:
    start: date
    label: str
    total: int
    digital: int

    @property
    def digital_percent(self) -> float:
        return percent(self.digital, self.total)


def trend(period: Period, filters: Filters, buckets: int = 12) -> tuple[str, list[TrendPoint]]:
    """Totals and digital share for this period and the ones before it, oldest first."""
    if period.kind == "custom":
        unit = "day" if period.days <= 31 else "week" if period.days <= 190 else "month"
        start, end = period.start, period.end
    else:
        unit = period.kind
        first = period
        for _ in range(buckets - 1):
            first = first.previous()
        start, end = first.start, period.end
    points: dict[date, TrendPoint] = {}

    def bucket(day: date) -> date:
        if unit == "day":
            return day
        if unit == "week":
            return day - timedelta(days=day.weekday())
        if unit == "month":
            return day.replace(day=1)
        return period_for("quarter", day).start

    def label(day: date) -> str:
        if unit == "day":
            return day.strftime("%-d %b")
        if unit == "week":
            return "w/c " + day.strftime("%-d %b")
        if unit == "month":
            return day.strftime("%b %Y")
        return f"{day.strftime('%b')}–{period_for('quarter', day).end.strftime('%b %Y')}"

    cursor = bucket(start)
    while cursor <= end:
        points[cursor] = TrendPoint(cursor, label(cursor), 0, 0)
        if unit == "day":
            cursor += timedelta(days=1)
        elif unit == "week":
            cursor += timedelta(days=7)
        elif unit == "month":
            cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            cursor = period_for("quarter", cursor).end + timedelta(days=1)
    by_month = unit in ("month", "quarter")  # whole-month buckets can read the monthly rollup
    for query in _rollup_queries(start, end, filters, lambda t, c: (c, t.channel), by_month):
        for day, channel, n in db.session.execute(query):
            if isinstance(day, str):
                day = date.fromisoformat(day)
            point = points[bucket(day)]
            point.total += int(n or 0)
            if channel in SELF_SERVICE_DIGITAL:
                point.digital += int(n or 0)
    return unit, list(points.values())


@dataclass
class LittleUsed:
    lgsl: int
    lgil: int
    service: str
    interaction: str
    total: int
    web: int  # self-service digital: the web and a kiosk used alone

    @property
    def web_percent(self) -> float:
        return percent(self.web, self.total)

    @property
    def label(self) -> str:
        """The service with its LGSL number once ("Flytipping (LGSL 587)")."""
        return (
            self.service
            if f"LGSL {self.lgsl}" in self.service
            else (f"{self.service} (LGSL {self.lgsl})")
        )


@dataclass
class LittleUsedReport:
    flagged: list[LittleUsed]  # transactions in the period, digital take-up under the threshold
    unused: list[LittleUsed]  # live and counted, but no transaction at all in the period
    unmatched: int  # live deliveries left out: they match no register interaction


def little_used(
    period: Period, threshold: float, filters: Filters | None = None
) -> LittleUsedReport:
    """Interactions the portal delivers live, within the filters (on every channel: a share needs
    them all), whose digital take-up in the period is under `threshold`; those with no
    transaction at all are listed apart, and deliveries matching no register interaction (which
    are not e-enabled in BVPI 157) are left out and counted."""
    filters = (filters or Filters()).all_channels()
    services = catalogue()
    live = sorted(
        set(
            db.session.execute(
                select(PortalDelivery.lgsl, PortalDelivery.lgil).where(PortalDelivery.live)
            ).all()
        )
    )
    wanted = []
    unmatched = 0
    problems = register_problems(live)
    for lgsl, lgil in live:
        if filters.lgsl is not None and lgsl != filters.lgsl:
            continue
        if filters.lgil is not None and lgil != filters.lgil:
            continue
        if filters.department and department_of(lgsl, services) != filters.department:
            continue
        if problems[(lgsl, lgil)]:
            unmatched += 1
            continue
        wanted.append((lgsl, lgil))
    if not wanted:
        return LittleUsedReport([], [], unmatched)
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    wanted_set = set(wanted)
    for lgsl, lgil, channel, n in grouped_counts(period, filters):
        if (lgsl, lgil) in wanted_set:
            totals[(lgsl, lgil)][0] += n
            if channel in SELF_SERVICE_DIGITAL:
                totals[(lgsl, lgil)][1] += n
    flagged, unused = [], []
    for lgsl, lgil in wanted:
        total, web = totals.get((lgsl, lgil), [0, 0])
        item = LittleUsed(
            lgsl, lgil, service_label(lgsl, services), interaction_label(lgil), total, web
        )
        if total == 0:
            unused.append(item)
        elif item.web_percent < threshold:
            flagged.append(item)
    return LittleUsedReport(
        sorted(flagged, key=lambda i: (i.web_percent, i.service)),
        sorted(unused, key=lambda i: i.service),
        unmatched,
    )


def unit_costs() -> dict[str, Decimal]:
    """Cost per transaction by channel, from the `statistics_unit_costs` setting."""
    raw = current_app.config["PORTAL"].statistics_unit_costs
    costs: dict[str, Decimal] = {}
    for part in raw.split(","):
        if "=" in part:
            name, value = part.split("=", 1)
            if name.strip() in CHANNELS:
                costs[name.strip()] = Decimal(value.strip())
    return costs


@dataclass
class ChannelShift:
    rows: list[tuple[str, int, Decimal, Decimal, int]]  # channel label, count, unit, cost, previous
    cost: Decimal
    all_face_to_face: Decimal
    saving: Decimal  # hypothetical: against every transaction done face to face
    previous_cost: Decimal
    previous_digital_percent: float
    # What this period's transactions would have cost at the previous period's cost per
    # transaction (its channel mix), less what they cost: the saving from channel shift.
    # None when the previous period had no transactions to compare with.
    saving_against_previous: Decimal | None = None
    previous_unit_cost: Decimal | None = None


def channel_shift(current: Breakdown, previous: Breakdown) -> ChannelShift:
    costs = unit_costs()
    f2f = costs.get("face_to_face", Decimal(0))
    prev_counts = {r.key: r.total for r in previous.channels}
    rows = []
    total_cost = Decimal(0)
    for row in current.channels:
        unit = costs.get(str(row.key), Decimal(0))
        cost = unit * row.total
        total_cost += cost
        rows.append((row.label, row.total, unit, cost, prev_counts.get(row.key, 0)))
    previous_cost = sum(
        (costs.get(str(r.key), Decimal(0)) * r.total for r in previous.channels), Decimal(0)
    )
    all_f2f = f2f * current.total
    previous_unit = (previous_cost / previous.total) if previous.total else None
    return ChannelShift(
        rows=rows,
        cost=total_cost,
        all_face_to_face=all_f2f,
        saving=all_f2f - total_cost,
        previous_cost=previous_cost,
        previous_digital_percent=previous.digital_percent,
        saving_against_previous=(
            (previous_unit * current.total - total_cost).quantize(Decimal("0.01"))
            if previous_unit is not None
            else None
        ),
        previous_unit_cost=previous_unit.quantize(Decimal("0.01")) if previous_unit else None,
    )


def public_summary(today: date) -> dict[str, object]:
    """Take-up over the last twelve whole months, for the public performance page."""
    end = today.replace(day=1) - timedelta(days=1)
    start = (end.replace(day=1) - timedelta(days=330)).replace(day=1)
    period = Period("custom", start, end)
    result = channel_totals(period, Filters())
    return {
        "period": period,
        "total": result.total,
        "digital_percent": result.digital_percent,
        "assisted_percent": result.assisted_percent,
        "offline_percent": result.offline_percent,
        "channels": [r for r in result.channels if r.total],
        "max": max((r.total for r in result.channels), default=0),
    }
