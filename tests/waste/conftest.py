"""Bin-day fixtures: the demo gazetteer and demo rounds, and rounds made for one test."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import delete, select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from portal.waste.demo import load_demo_waste
from portal.waste.models import CollectionType, Round, RoundAssignment

ADDRESS = "100090000001"  # 1 Abbey Road, Castlebrook, CK1 1AB
OTHER = "100090000002"
_names = itertools.count(1)


@pytest.fixture
def bins(app):
    """The demo addresses and the demo rounds, every address assigned (loaded once per test)."""
    with app.app_context():
        load_demo_gazetteer()
        load_demo_waste()
    return app


def type_id(code: str) -> int:
    return db.session.scalar(select(CollectionType.id).where(CollectionType.code == code))


def make_round(code: str, weekday: int, weeks: str = "1", start: date = date(2026, 1, 5)) -> Round:
    """A new round collecting `code` (flushed)."""
    frequency = {"1": Round.WEEKLY, "10": Round.FORTNIGHTLY}.get(weeks, Round.PATTERN)
    r = Round(
        name=f"Test round {next(_names)}",
        type_id=type_id(code),
        weekday=weekday,
        frequency=frequency,
        pattern=weeks,
        start_date=start,
    )
    db.session.add(r)
    db.session.flush()
    return r


def only_rounds(uprn: str, *rounds: Round) -> None:
    """The address is served by these rounds alone, with no start or end."""
    db.session.execute(delete(RoundAssignment).where(RoundAssignment.uprn == uprn))
    for r in rounds:
        db.session.add(RoundAssignment(uprn=uprn, round_id=r.id))
    db.session.flush()
