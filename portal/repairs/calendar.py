"""Working days for repair targets: weekends and England and Wales bank holidays are not."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.common.clock import uk_date

# England and Wales bank holidays (gov.uk/bank-holidays), substitute days included.
BANK_HOLIDAYS: frozenset[date] = frozenset(
    date.fromisoformat(d)
    for d in (
        # 2025
        "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05",
        "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26",
        # 2026
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
        "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
        # 2027
        "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03",
        "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
        # 2028
        "2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01",
        "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26",
    )
)  # fmt: skip


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day` (a repair reported on a Friday, +1 → Monday)."""
    for _ in range(count):
        day = next_working_day(day)
    return day


def working_days_between(start: date, end: date) -> list[date]:
    """Working days from `start` to `end`, both included."""
    days = []
    day = start
    while day <= end:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def target_date(priority: str, reported_at: datetime, settings) -> date:  # noqa: ANN001
    """The date by which a repair of `priority` is due, from the configured targets.

    `reported_at` is the stored (UTC) time; working days count from the UK date it fell on, so a
    repair reported at 00:30 BST on a Saturday counts from Saturday, not from Friday.
    """
    if priority == "emergency":
        return uk_date(reported_at + timedelta(hours=settings.repairs_emergency_hours))
    day = uk_date(reported_at)
    if priority == "urgent":
        return add_working_days(day, settings.repairs_urgent_working_days)
    return add_working_days(day, settings.repairs_routine_working_days)
