"""What the four service KPIs read besides the take-up records: survey answers and journeys.

None of these rows identifies a resident: an answer holds the service, interaction, channel, UK
day, rating and comment only; a used survey token is a keyed hash that cannot be turned back into
a transaction without the portal's secret and is never stored with its answer; a journey row
holds no session id, user id or address.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class SatisfactionAnswer(db.Model):
    """One answer to "Overall, how did you feel about the service you received today?"."""

    __tablename__ = "satisfaction_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # the UK day of the transaction
    lgsl: Mapped[int] = mapped_column(Integer)  # 0 when the service is not known
    lgil: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    rating: Mapped[int] = mapped_column(SmallInteger)  # 5 very satisfied … 1 very dissatisfied
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_satisfaction_answers_period", "day", "lgsl", "lgil", "channel", "rating"),
        Index("ix_satisfaction_answers_service", "lgsl", "day"),
    )


class UsedSurveyToken(db.Model):
    """A survey token already answered (its keyed hash), so a transaction is rated once."""

    __tablename__ = "satisfaction_used_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_on: Mapped[date] = mapped_column(Date, index=True)


class JourneyVisit(db.Model):
    """One visit that started a form or payment journey, and the UK day it was completed."""

    __tablename__ = "journey_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey: Mapped[str] = mapped_column(String(120))  # "form:<slug>", "payment:<bill type>"
    lgsl: Mapped[int] = mapped_column(Integer)
    lgil: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    started_on: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_journey_visits_period", "started_on", "lgsl", "lgil", "channel", "completed_on"),
    )
