"""The daily take-up rollup, kept exact by database triggers on service_transactions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class TakeUpDaily(db.Model):
    """Transactions per UK day × service (LGSL, 0 when unknown) × interaction × channel.

    Written only by the triggers on service_transactions (created in migration 0008, by UK day
    since 0040: Europe/London time, so 00:30 BST lands on its own date), in the same database transaction as the record itself, so it can
    never drift from the records. Statistics read this table instead of scanning every record.
    """

    __tablename__ = "service_transaction_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lgsl: Mapped[int] = mapped_column(Integer, primary_key=True)
    lgil: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    transactions: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        # Covers the trend's GROUP BY day, channel without visiting the wider primary key.
        Index("ix_service_transaction_daily_trend", "day", "channel", "transactions"),
        {"sqlite_with_rowid": False},
    )


class TakeUpMonthly(db.Model):
    """The same counts per calendar month (UK time), so long periods and trends read few rows.

    Maintained by the same triggers as TakeUpDaily; `month` is the first day of the month.
    """

    __tablename__ = "service_transaction_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    lgsl: Mapped[int] = mapped_column(Integer, primary_key=True)
    lgil: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    transactions: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_service_transaction_monthly_trend", "month", "channel", "transactions"),
        {"sqlite_with_rowid": False},
    )
