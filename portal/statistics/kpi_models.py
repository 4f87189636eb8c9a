"""What the four service KPIs read besides the take-up records: survey answers and journeys.

None of these rows identifies a resident: an answer holds the service, interaction, channel, UK
day, rating and comment only; a used survey token is a keyed hash that cannot be turned back into
a transaction without the portal's secret and is never stored with its answer; journeys are
counts per day, service, interaction and channel.

The daily and monthly count tables are written by `satisfaction.record_answer` and
`journeys.start_journey` / `complete_journey`, in the same database transaction as the change
they count, with one upsert each; the KPI views read only them (a year reads twelve months of
rows, not every answer).
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

    __table_args__ = (Index("ix_satisfaction_answers_service", "lgsl", "day"),)


class SatisfactionDaily(db.Model):
    """Answers per UK day × service × interaction × channel × rating."""

    __tablename__ = "satisfaction_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lgsl: Mapped[int] = mapped_column(Integer, primary_key=True)
    lgil: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    rating: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class SatisfactionMonthly(db.Model):
    """The same counts per calendar month (`month` is its first day)."""

    __tablename__ = "satisfaction_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    lgsl: Mapped[int] = mapped_column(Integer, primary_key=True)
    lgil: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    rating: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class UsedSurveyToken(db.Model):
    """A survey token already answered (its keyed hash), so a transaction is rated once."""

    __tablename__ = "satisfaction_used_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_on: Mapped[date] = mapped_column(Date, index=True)


class JourneyDaily(db.Model):
    """Form and payment journeys started per UK day × service × interaction × channel, and how
    many of those were completed (counted on the day they started)."""

    __tablename__ = "journey_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lgsl: Mapped[int] = mapped_column(Integer, primary_key=True)
    lgil: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    started: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class JourneyMonthly(db.Model):
    """The same counts per calendar month (`month` is its first day)."""

    __tablename__ = "journey_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    lgsl: Mapped[int] = mapped_column(Integer, primary_key=True)
    lgil: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    started: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)
