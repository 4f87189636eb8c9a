"""Completion rate: form and payment journeys started and completed, once per visit.

A visit is the resident's browser session. The first time a session starts a journey
("form:<slug>", "payment:<LGSL>-<LGIL>") the day's `started` count for its service, interaction
and channel goes up by one, and the session (a signed cookie) remembers the journey with that
day and cell; starting it again in the same session (pressing start twice, going back,
reloading) adds nothing. When the form is submitted or the payment paid in the same session,
`completed` goes up by one on the day and cell the journey started on, and the session forgets
it, so a second request in the same session is a new start. Nothing about the visitor is stored.
"""

from __future__ import annotations

from datetime import date

from flask import session
from flask_login import current_user

from portal.common.clock import uk_today
from portal.common.transactions import current_channel
from portal.statistics.kpi_counts import add_counts
from portal.statistics.kpi_models import JourneyDaily, JourneyMonthly

SESSION_KEY = "kpi_journeys"
STAFF_CHANNELS = ("phone", "face_to_face")


def payment_journey(lgsl: int | None, lgil: int) -> str:
    """A payment journey is named by what is paid for (bill payments name their service)."""
    return f"payment:{int(lgsl or 0)}-{int(lgil)}"


def _visit_key(journey: str) -> str:
    """The journey as this visit knows it. Staff acting for callers (phone, face to face) serve
    many residents in one session: each caller's journey is a visit of its own."""
    channel, staff_id = current_channel()
    if staff_id is not None and channel in STAFF_CHANNELS and current_user.is_authenticated:
        return f"{journey}@{current_user.id}"
    return journey


def journey_open(journey: str) -> bool:
    """This visit has started `journey` and not completed it."""
    return _visit_key(journey) in session.get(SESSION_KEY, {})


def _add(day: date, lgsl: int, lgil: int, channel: str, **increments: int) -> None:
    add_counts(
        JourneyDaily.__table__,
        JourneyMonthly.__table__,
        day,
        {"lgsl": lgsl, "lgil": lgil, "channel": channel},
        increments,
    )


def start_journey(journey: str, lgsl: int | None, lgil: int) -> bool:
    """Count the start of `journey` once in this visit; True when a start was added."""
    started: dict[str, list] = dict(session.get(SESSION_KEY, {}))
    journey = _visit_key(journey)
    if journey in started:
        return False
    day, cell = uk_today(), (int(lgsl or 0), int(lgil), current_channel()[0])
    _add(day, *cell, started=1, completed=0)
    started[journey] = [day.isoformat(), *cell]
    session[SESSION_KEY] = started
    return True


def complete_journey(journey: str) -> bool:
    """Count this visit's `journey` completed (in the caller's transaction); True if it was open."""
    started: dict[str, list] = dict(session.get(SESSION_KEY, {}))
    entry = started.pop(_visit_key(journey), None)
    if entry is None:
        return False
    session[SESSION_KEY] = started
    day, lgsl, lgil, channel = entry
    _add(date.fromisoformat(day), int(lgsl), int(lgil), str(channel), started=0, completed=1)
    return True
