"""The pure schedule: which days a round collects, with changed collections applied.

No database and no clock: everything comes in as plain values, so the rules are tested on
their own across month, year and clock-change boundaries. Dates are UK calendar dates; a
collection is a whole day, so the change to or from British Summer Time moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MAX_SHIFT_DAYS = 14


@dataclass(frozen=True)
class RoundSpec:
    """What the schedule needs of a round: its weekday (0 Monday), weeks pattern, first week."""

    round_id: int
    weekday: int
    weeks: str  # "1" weekly, "10" fortnightly, any string of 1s and 0s
    start_date: date


@dataclass(frozen=True)
class ChangeSpec:
    """Collections originally due from `from_date` to `to_date` move by `shift_days`."""

    round_id: int | None  # None: every round
    from_date: date
    to_date: date
    shift_days: int
    reason: str = ""

    def covers(self, round_id: int, day: date) -> bool:
        return (self.round_id is None or self.round_id == round_id) and (
            self.from_date <= day <= self.to_date
        )


@dataclass(frozen=True)
class Collection:
    """One collection: the day it happens, the day it was originally due, and why it moved."""

    round_id: int
    day: date
    original: date
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.day != self.original


class ScheduleError(ValueError):
    """A round or change that cannot make a schedule; str() is the message for staff."""


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def check_round(spec: RoundSpec) -> None:
    if spec.weekday is None or not 0 <= spec.weekday <= 6:
        raise ScheduleError("Choose the day of the week the round collects")
    if not spec.weeks or set(spec.weeks) - {"0", "1"} or "1" not in spec.weeks:
        raise ScheduleError(
            "Enter the pattern of weeks as 1s and 0s with at least one 1, for example 1000"
        )


def original_dates(spec: RoundSpec, start: date, end: date) -> list[date]:
    """The days the round is due between `start` and `end` inclusive, before any change."""
    check_round(spec)
    first_week = monday_of(spec.start_date)
    day = max(start, first_week)
    day = day + timedelta(days=(spec.weekday - day.weekday()) % 7)
    days = []
    while day <= end:
        week = (monday_of(day) - first_week).days // 7
        if spec.weeks[week % len(spec.weeks)] == "1":
            days.append(day)
        day += timedelta(days=7)
    return days


def collections(
    spec: RoundSpec, start: date, end: date, changes: Sequence[ChangeSpec] = ()
) -> list[Collection]:
    """The round's collections that happen between `start` and `end`, changes applied.

    A collection moved into the window from outside it is included; one moved out is not.
    """
    margin = timedelta(days=MAX_SHIFT_DAYS)
    result = []
    for original in original_dates(spec, start - margin, end + margin):
        change = next((c for c in changes if c.covers(spec.round_id, original)), None)
        day = original + timedelta(days=change.shift_days) if change else original
        if start <= day <= end:
            result.append(Collection(spec.round_id, day, original, change.reason if change else ""))
    return result


def check_change(change: ChangeSpec, existing: Iterable[ChangeSpec]) -> None:
    """Refuse a change that is back to front, too long a move, or overlaps another."""
    if change.to_date < change.from_date:
        raise ScheduleError("The last date must be the same as or after the first date")
    if change.shift_days == 0:
        raise ScheduleError("Enter the new collection date: it is the same as the date due")
    if abs(change.shift_days) > MAX_SHIFT_DAYS:
        raise ScheduleError(f"A collection can move by up to {MAX_SHIFT_DAYS} days")
    for other in existing:
        same_rounds = (
            change.round_id is None or other.round_id is None or change.round_id == other.round_id
        )
        if same_rounds and change.from_date <= other.to_date and other.from_date <= change.to_date:
            raise ScheduleError(
                "This change overlaps another change from "
                f"{_words(other.from_date)} to {_words(other.to_date)}: "
                "change or remove that one first"
            )


def _words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
