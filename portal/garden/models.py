"""Garden waste subscriptions: one address, one year of collections, paid online."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.common.models import utcnow
from portal.extensions import db

AWAITING_PAYMENT = "awaiting_payment"
UNPAID = "unpaid"
ACTIVE = "active"
EXPIRED = "expired"
CANCELLED = "cancelled"

STATUS_LABELS = {
    AWAITING_PAYMENT: "Awaiting payment",
    UNPAID: "Not paid",
    ACTIVE: "Active",
    EXPIRED: "Ended",
    CANCELLED: "Cancelled and refunded",
}


class GardenSubscription(db.Model):
    """A year of garden waste collections at one address (UPRN).

    Created awaiting payment; the payment's success makes it active from `starts_on` to
    `ends_on` (the dates are set then); the daily job ends it after `ends_on`; finance can cancel
    it with a refund. `renewal_reminder_sent_at` is claimed once, so the reminder goes once.
    """

    __tablename__ = "garden_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    uprn: Mapped[str] = mapped_column(ForeignKey("addresses.uprn"), index=True)
    address_text: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), index=True, default=AWAITING_PAYMENT)
    price_pence: Mapped[int] = mapped_column(Integer)
    payment_reference: Mapped[str | None] = mapped_column(String(20))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    renewal_reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)
