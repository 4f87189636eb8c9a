"""Bin day: collection types, rounds, which addresses each round serves, changed collections,
rounds not completed, reminder subscriptions and the addresses residents keep in My council."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.models import utcnow
from portal.extensions import db

LGSL_WASTE = 524  # Household waste collection
LGIL_INFORMATION = 8  # bin-day lookup, calendar and reminders: providing information

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CollectionType(db.Model):
    """A kind of collection (refuse, recycling, food, garden): its colour and what goes in it."""

    __tablename__ = "waste_collection_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(40))  # in words: "Black bin", "Green bin"
    contents: Mapped[str] = mapped_column(Text, default="")  # what goes in, one item a line
    not_accepted: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def content_items(self) -> list[str]:
        return [line.strip() for line in self.contents.splitlines() if line.strip()]

    @property
    def not_accepted_items(self) -> list[str]:
        return [line.strip() for line in self.not_accepted.splitlines() if line.strip()]


class Round(db.Model):
    """A collection round: one type, one weekday, weekly, fortnightly or a pattern of weeks.

    `pattern` is a string of 1s and 0s, one a week from the week of `start_date` ("1" collected),
    so "10" is fortnightly and "1000" every four weeks; weekly is "1" and fortnightly "10".
    """

    __tablename__ = "waste_rounds"

    WEEKLY, FORTNIGHTLY, PATTERN = "weekly", "fortnightly", "pattern"
    FREQUENCIES = (WEEKLY, FORTNIGHTLY, PATTERN)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("waste_collection_types.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday … 6 Sunday
    frequency: Mapped[str] = mapped_column(String(12))
    pattern: Mapped[str] = mapped_column(String(52), default="1")
    start_date: Mapped[date] = mapped_column(Date)  # any day in the first collection week
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    collection_type: Mapped[CollectionType] = relationship(lazy="joined")

    @property
    def weeks(self) -> str:
        if self.frequency == self.WEEKLY:
            return "1"
        if self.frequency == self.FORTNIGHTLY:
            return "10"
        return self.pattern

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]

    @property
    def frequency_label(self) -> str:
        if self.frequency == self.PATTERN:
            return f"Pattern of weeks {self.pattern}"
        return self.frequency.capitalize()


class RoundAssignment(db.Model):
    """An address served by a round, from `start_date` to `end_date` (either open)."""

    __tablename__ = "waste_round_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    uprn: Mapped[str] = mapped_column(ForeignKey("addresses.uprn", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("waste_rounds.id", ondelete="CASCADE"))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    round: Mapped[Round] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_waste_round_assignments_uprn", "uprn"),
        Index("ix_waste_round_assignments_round", "round_id"),
    )


class CollectionChange(db.Model):
    """Collections originally due from `from_date` to `to_date` move by `shift_days`.

    For one round, or for every round when `round_id` is empty ("due 25 December, collected
    27 December"). Two changes that could move the same collection are refused.
    """

    __tablename__ = "waste_collection_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("waste_rounds.id", ondelete="CASCADE"), index=True
    )
    from_date: Mapped[date] = mapped_column(Date, index=True)
    to_date: Mapped[date] = mapped_column(Date)
    shift_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    round: Mapped[Round | None] = relationship(lazy="joined")


class RoundNotCompleted(db.Model):
    """A round the crew could not finish on a day: residents are told, not asked to report."""

    __tablename__ = "waste_rounds_not_completed"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("waste_rounds.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    round: Mapped[Round] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("round_id", "day", name="uq_waste_not_completed_round_day"),)


class SavedAddress(db.Model):
    """The address a signed-in resident looked up, shown in My council."""

    __tablename__ = "waste_saved_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    uprn: Mapped[str] = mapped_column(ForeignKey("addresses.uprn", ondelete="CASCADE"))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReminderSubscription(db.Model):
    """An email reminder the evening before collections at one address (double opt-in)."""

    __tablename__ = "waste_reminder_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uprn: Mapped[str] = mapped_column(ForeignKey("addresses.uprn", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))  # stored in lower case
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("uprn", "email", name="uq_waste_reminders_uprn_email"),
        Index("ix_waste_reminders_uprn_live", "uprn", "confirmed_at"),
    )

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class ReminderSent(db.Model):
    """The claim that a subscription's reminder for a collection day has been queued.

    Written in the same transaction as the email it queues and unique per subscription and day,
    so two workers, or a run restarted half way, can never queue the same reminder twice.
    """

    __tablename__ = "waste_reminders_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("waste_reminder_subscriptions.id", ondelete="CASCADE")
    )
    collection_date: Mapped[date] = mapped_column(Date)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "subscription_id", "collection_date", name="uq_waste_reminders_sent_subscription_day"
        ),
    )


class WasteSettings(db.Model):
    """Settings the council changes on the staff screen: the time reminders go out."""

    __tablename__ = "waste_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_hour: Mapped[int] = mapped_column(Integer, default=18)
    reminder_minute: Mapped[int] = mapped_column(Integer, default=0)
