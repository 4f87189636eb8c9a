"""The portal's clock: UTC for what is stored, UK local time for every "today".

The council works in UK local time (Europe/London: GMT in winter, BST in summer) whatever the
server's own time zone is, so a deadline, a cut-off "until the day before" or an opening date is
always a UK calendar date. The database keeps UTC datetimes (`portal.common.models.utcnow`, which
reads this clock); `uk_date` turns one into the UK calendar date it fell on.

Between 00:00 and 01:00 UK time in summer the UTC date is still yesterday, which is why neither
`date.today()` (the server's zone, UTC on our servers) nor `utcnow().date()` is used for "today".

Tests fix the time with `frozen_at(instant)`; nothing else changes the time source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def utc_now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _source().astimezone(UTC)


def uk_now() -> datetime:
    """The current instant as an aware datetime in UK local time (Europe/London)."""
    return utc_now().astimezone(UK)


def uk_today() -> date:
    """Today's date in the UK."""
    return uk_now().date()


def to_uk(moment: datetime) -> datetime:
    """A stored datetime in UK local time; a naive value (SQLite gives those back) is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UK)


def uk_date(moment: datetime) -> date:
    """The UK calendar date on which a stored (UTC) datetime fell."""
    return to_uk(moment).date()


def govuk_date(value: date | datetime | str | None) -> str:
    """A date the GOV.UK way ("1 December 2026"); a stored datetime is read in UK time.

    Text is already words (a "My council" row may give "1 May") and is shown as it is.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        value = uk_date(value)
    return f"{value.day} {value:%B %Y}"


def govuk_time(moment: datetime) -> str:
    """A stored datetime's UK time the GOV.UK way: "9:30am", "2pm", "midday", "midnight"."""
    local = to_uk(moment)
    if local.minute == 0 and local.hour in (0, 12):
        return "midnight" if local.hour == 0 else "midday"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def govuk_datetime(moment: datetime | None) -> str:
    """A stored datetime as people read it: "1 December 2026 at 9:30am", in UK time."""
    if moment is None:
        return ""
    return f"{govuk_date(moment)} at {govuk_time(moment)}"


def govuk_time_on_day(moment: datetime) -> str:
    """A moment later today or soon, time first: "9:30am on 1 December 2026", in UK time."""
    return f"{govuk_time(moment)} on {govuk_date(moment)}"


def uk_day_start(day: date) -> datetime:
    """The instant (aware, in UTC) at which the UK calendar date `day` begins."""
    return datetime.combine(day, time.min, tzinfo=UK).astimezone(UTC)


@contextmanager
def frozen_at(instant: datetime) -> Iterator[datetime]:
    """Within the block the clock reads `instant` (aware; naive means UTC)."""
    global _source
    fixed = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    previous = _source
    _source = lambda: fixed  # noqa: E731
    try:
        yield fixed
    finally:
        _source = previous


__all__ = [
    "UK",
    "frozen_at",
    "to_uk",
    "uk_date",
    "uk_day_start",
    "uk_now",
    "uk_today",
    "utc_now",
]
