"""The four service KPIs of the GOV.UK service standard, per service, interaction, department,
channel and period.

- Digital take-up: self-service digital transactions (web, kiosk) / all transactions.
- Completion rate: journeys (form and payment) completed / journeys started, by the visits
  started in the period.
- Cost per transaction: the channel unit costs (`statistics_unit_costs`) times the transactions
  on each channel, divided by all transactions.
- User satisfaction: "satisfied" and "very satisfied" answers / all answers.

Each figure reads grouped queries over daily and monthly count tables (the take-up rollups,
`journey_daily`/`journey_monthly`, `satisfaction_daily`/`satisfaction_monthly`): the days at
either end of the period from the daily table, the whole months from the monthly one, grouped
by (LGSL, LGIL, channel); every breakdown is summed from those cells in Python, so the rows of
every view add up to the same totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select

from portal.common.transactions import CHANNELS, SELF_SERVICE_DIGITAL
from portal.extensions import db
from portal.statistics import services as stats
from portal.statistics.catalogue import (
    catalogue,
    channel_label,
    department_of,
    interaction_label,
    service_label,
)
from portal.statistics.kpi_models import (
    JourneyDaily,
    JourneyMonthly,
    SatisfactionDaily,
    SatisfactionMonthly,
)
from portal.statistics.satisfaction import RATINGS, SATISFIED

DIMENSIONS = {
    "service": "Service",
    "interaction": "Interaction",
    "department": "Department",
    "channel": "Channel",
}
Cell = tuple[int, int, str]  # (lgsl, lgil, channel)


@dataclass
class Kpi:
    """The inputs and the four figures for one row (a service, a channel, the whole council…)."""

    key: object
    label: str
    transactions: int = 0
    self_service: int = 0
    cost: Decimal = Decimal(0)
    started: int = 0
    completed: int = 0
    answers: int = 0
    satisfied: int = 0

    def add(self, other: Kpi) -> None:
        self.transactions += other.transactions
        self.self_service += other.self_service
        self.cost += other.cost
        self.started += other.started
        self.completed += other.completed
        self.answers += other.answers
        self.satisfied += other.satisfied

    @property
    def digital_take_up(self) -> float | None:
        return _share(self.self_service, self.transactions)

    @property
    def completion_rate(self) -> float | None:
        return _share(self.completed, self.started)

    @property
    def satisfaction(self) -> float | None:
        return _share(self.satisfied, self.answers)

    @property
    def cost_per_transaction(self) -> Decimal | None:
        if not self.transactions:
            return None
        return (self.cost / self.transactions).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _count_queries(daily, monthly, sums, period, filters, services):  # noqa: ANN001, ANN202
    """One grouped query per piece of the period: the days at either end read the daily table,
    the whole months between them the monthly one (as the take-up rollups are read)."""
    days, months = stats.split_range(period.start, period.end)
    queries = []
    for table, column, ranges in (
        (daily, daily.day, days),
        (monthly, monthly.month, [months] if months else []),
    ):
        for low, high in ranges:
            groups = (table.lgsl, table.lgil, table.channel)
            totals = tuple(_total(table, name) for name in sums)
            query = select(*groups, *totals).where(column >= low, column <= high).group_by(*groups)
            queries.append(filters.apply(query, table, services))
    return queries


def _total(table, name: str):  # noqa: ANN001, ANN202
    """`sum:<column>`, or `satisfied`: the answers rated satisfied or very satisfied."""
    if name == "satisfied":
        return func.sum(case((table.rating.in_(SATISFIED), table.answers), else_=0))
    return func.sum(getattr(table, name.removeprefix("sum:")))


def cells(
    period: stats.Period, filters: stats.Filters, services: dict | None = None
) -> dict[Cell, Kpi]:
    """Every (LGSL, LGIL, channel) cell with something in the period, with its inputs."""
    services = services if services is not None else catalogue()
    costs = stats.unit_costs()
    out: dict[Cell, Kpi] = {}

    def cell(lgsl: int, lgil: int, channel: str) -> Kpi:
        key = (int(lgsl or 0), int(lgil), channel)
        if key not in out:
            out[key] = Kpi(key, "")
        return out[key]

    for lgsl, lgil, channel, n in stats.grouped_counts(period, filters):
        row = cell(lgsl, lgil, channel)
        row.transactions += n
        if channel in SELF_SERVICE_DIGITAL:
            row.self_service += n
        row.cost += costs.get(channel, Decimal(0)) * n

    for query in _count_queries(
        JourneyDaily, JourneyMonthly, ("sum:started", "sum:completed"), period, filters, services
    ):
        for lgsl, lgil, channel, started, completed in db.session.execute(query):
            row = cell(lgsl, lgil, channel)
            row.started += int(started or 0)
            row.completed += int(completed or 0)

    for query in _count_queries(
        SatisfactionDaily,
        SatisfactionMonthly,
        ("sum:answers", "satisfied"),
        period,
        filters,
        services,
    ):
        for lgsl, lgil, channel, answers, satisfied in db.session.execute(query):
            row = cell(lgsl, lgil, channel)
            row.answers += int(answers or 0)
            row.satisfied += int(satisfied or 0)
    return out


def _key_and_label(dimension: str, services: dict) -> tuple[Callable, Callable]:  # noqa: ANN001
    if dimension == "service":
        return (lambda c: c[0]), (lambda k: service_label(k, services))
    if dimension == "interaction":
        return (lambda c: c[1]), interaction_label
    if dimension == "department":
        return (lambda c: department_of(c[0], services)), str
    return (lambda c: c[2]), channel_label


@dataclass
class KpiReport:
    period: stats.Period
    dimension: str
    total: Kpi
    rows: list[Kpi]


def report(period: stats.Period, filters: stats.Filters, dimension: str = "service") -> KpiReport:
    if dimension not in DIMENSIONS:
        dimension = "service"
    services = catalogue()
    key_of, label_of = _key_and_label(dimension, services)
    rows: dict[object, Kpi] = {}
    total = Kpi("all", "Total")
    for cell_key, inputs in cells(period, filters, services).items():
        key = key_of(cell_key)
        if key not in rows:
            rows[key] = Kpi(key, label_of(key))
        rows[key].add(inputs)
        total.add(inputs)
    if dimension == "channel":
        ordered = [rows[c] for c in CHANNELS if c in rows] + [
            r for k, r in rows.items() if k not in CHANNELS
        ]
    else:
        ordered = sorted(rows.values(), key=lambda r: (-r.transactions, r.label))
    return KpiReport(period, dimension, total, ordered)


def public_period(today: date) -> stats.Period:
    """The last twelve whole months, as the public take-up summary uses."""
    end = today.replace(day=1) - timedelta(days=1)
    start = (end.replace(day=1) - timedelta(days=330)).replace(day=1)
    return stats.Period("custom", start, end)


# -- Charts: plain SVG geometry, drawn by the templates ------------------------------------------

SERIES = (
    ("digital_take_up", "Digital take-up", "#1d70b8"),
    ("completion_rate", "Completion rate", "#00703c"),
    ("satisfaction", "User satisfaction", "#912b88"),
)
PLOT_WIDTH = 520  # bars start at x=0; the label of each group sits on its own line above it


def percent_chart(rows: list[Kpi], limit: int = 12) -> dict[str, object]:
    """Grouped bars, 0–100 %, one group per row and one bar per percentage KPI."""
    rows = rows[:limit]
    bar, label_room, gap = 18, 22, 10  # each bar 12 high in an 18 slot: room for its value
    group = label_room + bar * len(SERIES) + gap
    groups = []
    for i, row in enumerate(rows):
        y0 = i * group
        bars = []
        for j, (attr, name, colour) in enumerate(SERIES):
            value = getattr(row, attr)
            width = round(PLOT_WIDTH * (value or 0) / 100, 1)
            bars.append(
                {
                    "y": y0 + label_room + j * bar,
                    "w": width,
                    "h": bar - 6,
                    "colour": colour,
                    "name": name,
                    "value": "no data" if value is None else f"{value}%",
                }
            )
        groups.append({"label": row.label, "y": y0 + 16, "bars": bars})
    axis_y = group * max(len(rows), 1)
    ticks = [{"x": PLOT_WIDTH * p / 100, "label": f"{p}%"} for p in (0, 25, 50, 75, 100)]
    return {
        "height": axis_y + 36,
        "right": PLOT_WIDTH,
        "axis_y": axis_y,
        "groups": groups,
        "ticks": ticks,
        "series": SERIES,
    }


def cost_chart(rows: list[Kpi], limit: int = 12) -> dict[str, object]:
    """Bars of cost per transaction in pounds, with a pound axis."""
    rows = [r for r in rows if r.cost_per_transaction is not None][:limit]
    bar, label_room, gap = 18, 22, 10
    group = label_room + bar + gap
    highest = max((float(r.cost_per_transaction or 0) for r in rows), default=0) or 1.0
    step = _nice_step(highest)
    axis_max = step * 5
    bars = []
    for i, row in enumerate(rows):
        value = float(row.cost_per_transaction or 0)
        bars.append(
            {
                "label": row.label,
                "label_y": i * group + 16,
                "y": i * group + label_room,
                "w": round(PLOT_WIDTH * value / axis_max, 1),
                "h": bar,
                "value": f"£{row.cost_per_transaction}",
            }
        )
    axis_y = group * max(len(rows), 1)
    ticks = [{"x": round(PLOT_WIDTH * k / 5, 1), "label": f"£{step * k:.2f}"} for k in range(0, 6)]
    return {
        "height": axis_y + 36,
        "right": PLOT_WIDTH,
        "axis_y": axis_y,
        "bars": bars,
        "ticks": ticks,
    }


def _nice_step(highest: float) -> float:
    for step in (0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 25, 50):
        if highest <= step * 5:
            return float(step)
    return highest / 5


__all__ = ["DIMENSIONS", "RATINGS", "Kpi", "KpiReport", "cells", "report", "public_period"]
