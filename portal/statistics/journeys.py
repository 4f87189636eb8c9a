"""Completion rate: form and payment journeys started and completed, once per visit.

A visit is the resident's browser session. The first time a session starts a journey
("form:<slug>", "payment:<bill type>") a `JourneyVisit` row is added; starting it again in the
same session (pressing start twice, going back, reloading) adds nothing. The journey completes
when the form is submitted or the payment is paid, in the same session: the visit row gets its
completion day and the session forgets it, so a second request in the same session is a new
visit. No session id, user id or address is stored.
"""

from __future__ import annotations

from flask import session
from sqlalchemy import update

from portal.common.clock import uk_today
from portal.common.transactions import current_channel
from portal.extensions import db
from portal.statistics.kpi_models import JourneyVisit

SESSION_KEY = "kpi_journeys"


def payment_journey(lgsl: int | None, lgil: int) -> str:
    """A payment journey is named by what is paid for (bill payments name their service)."""
    return f"payment:{int(lgsl or 0)}-{int(lgil)}"


def journey_open(journey: str) -> bool:
    """This visit has started `journey` and not completed it."""
    return journey in session.get(SESSION_KEY, {})


def start_journey(journey: str, lgsl: int | None, lgil: int) -> bool:
    """Count the start of `journey` once in this visit; True when a start was added."""
    started: dict[str, int] = dict(session.get(SESSION_KEY, {}))
    if journey in started:
        return False
    visit = JourneyVisit(
        journey=journey[:120],
        lgsl=int(lgsl or 0),
        lgil=int(lgil),
        channel=current_channel()[0],
        started_on=uk_today(),
    )
    db.session.add(visit)
    db.session.flush()
    started[journey] = visit.id
    session[SESSION_KEY] = started
    return True


def complete_journey(journey: str) -> bool:
    """Mark this visit's `journey` completed (in the caller's transaction); True if it was open."""
    started: dict[str, int] = dict(session.get(SESSION_KEY, {}))
    visit_id = started.pop(journey, None)
    if visit_id is None:
        return False
    session[SESSION_KEY] = started
    result = db.session.execute(
        update(JourneyVisit)
        .where(JourneyVisit.id == visit_id, JourneyVisit.completed_on.is_(None))
        .values(completed_on=uk_today())
    )
    return bool(result.rowcount)
