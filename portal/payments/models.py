"""Payments: the payment record, its transitions, refunds, webhook events, bills and sandbox charges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.models import utcnow
from portal.extensions import db

CREATED = "created"
STARTED = "started"
SUCCESS = "success"
FAILED = "failed"
CANCELLED = "cancelled"
EXPIRED = "expired"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"

STATES = (CREATED, STARTED, SUCCESS, FAILED, CANCELLED, EXPIRED, PARTIALLY_REFUNDED, REFUNDED)
# Forward-only: each state lists the states it may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    CREATED: (STARTED, SUCCESS, FAILED, CANCELLED, EXPIRED),
    STARTED: (SUCCESS, FAILED, CANCELLED, EXPIRED),
    SUCCESS: (PARTIALLY_REFUNDED, REFUNDED),
    PARTIALLY_REFUNDED: (PARTIALLY_REFUNDED, REFUNDED),
    FAILED: (),
    CANCELLED: (),
    EXPIRED: (),
    REFUNDED: (),
}
OPEN_STATES = (CREATED, STARTED)
PAID_STATES = (SUCCESS, PARTIALLY_REFUNDED, REFUNDED)
UNSUCCESSFUL_STATES = (FAILED, CANCELLED, EXPIRED)

STATE_LABELS = {
    CREATED: "Not started",
    STARTED: "In progress",
    SUCCESS: "Paid",
    FAILED: "Declined",
    CANCELLED: "Cancelled",
    EXPIRED: "Expired",
    PARTIALLY_REFUNDED: "Partly refunded",
    REFUNDED: "Refunded",
}
STATE_TAG_CLASSES = {
    CREATED: "govuk-tag--grey",
    STARTED: "govuk-tag--blue",
    SUCCESS: "govuk-tag--green",
    FAILED: "govuk-tag--red",
    CANCELLED: "govuk-tag--orange",
    EXPIRED: "govuk-tag--grey",
    PARTIALLY_REFUNDED: "govuk-tag--purple",
    REFUNDED: "govuk-tag--purple",
}

# Where a transition came from.
SOURCE_APP = "portal"
SOURCE_RETURN = "return_page"
SOURCE_WEBHOOK = "webhook"
SOURCE_RECONCILER = "reconciler"
SOURCE_STAFF = "staff"
SOURCES = (SOURCE_APP, SOURCE_RETURN, SOURCE_WEBHOOK, SOURCE_RECONCILER, SOURCE_STAFF)

CHANNEL_WEB = "web"
CHANNEL_PHONE = "phone"


class Payment(db.Model):
    """One attempt to take money for one thing; the amount is always set by the server."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    purpose: Mapped[str] = mapped_column(String(40), index=True)
    purpose_ref: Mapped[str] = mapped_column(String(80), index=True)
    description: Mapped[str] = mapped_column(String(200))
    amount_pence: Mapped[int] = mapped_column(Integer)
    refunded_pence: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    fund: Mapped[str] = mapped_column(String(40), default="general", index=True)
    lgsl: Mapped[int] = mapped_column(Integer)
    lgil: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20), default=CHANNEL_WEB)
    state: Mapped[str] = mapped_column(String(20), default=CREATED, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(320))
    return_url: Mapped[str] = mapped_column(String(500))
    gateway: Mapped[str | None] = mapped_column(String(20))
    gateway_session_id: Mapped[str | None] = mapped_column(String(200), index=True)
    gateway_payment_id: Mapped[str | None] = mapped_column(String(200))
    gateway_url: Mapped[str | None] = mapped_column(String(1000))
    card_summary: Mapped[str | None] = mapped_column(String(60))
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    # Why finance must look at it (paid twice and not refunded, paid without an amount); or None.
    attention: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    transitions: Mapped[list[PaymentTransition]] = relationship(
        back_populates="payment", order_by="PaymentTransition.id", cascade="all, delete-orphan"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="payment", order_by="Refund.id", cascade="all, delete-orphan"
    )

    @property
    def remaining_pence(self) -> int:
        """What can still be refunded."""
        return self.amount_pence - self.refunded_pence

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def state_tag_class(self) -> str:
        return STATE_TAG_CLASSES.get(self.state, "")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_paid(self) -> bool:
        return self.state in PAID_STATES


class PaymentTransition(db.Model):
    """One move of a payment from one state to another, with where the news came from."""

    __tablename__ = "payment_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(300))
    event_id: Mapped[str | None] = mapped_column(String(200))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="transitions")


class Refund(db.Model):
    """Money given back on a successful payment; never more than remains."""

    __tablename__ = "payment_refunds"

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    amount_pence: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(200))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class GatewayEvent(db.Model):
    """A webhook event received from a gateway, kept once per event id (duplicates change nothing)."""

    __tablename__ = "payment_gateway_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    payment_reference: Mapped[str | None] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("gateway", "event_id", name="uq_payment_gateway_events_event"),
    )


class Bill(db.Model):
    """A bill the council has issued, found by its reference on the "pay a bill" pages."""

    __tablename__ = "payment_bills"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_type: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str] = mapped_column(String(20))
    payer_hint: Mapped[str | None] = mapped_column(String(200))
    fixed_amount_pence: Mapped[int | None] = mapped_column(Integer)
    balance_pence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("bill_type", "reference", name="uq_payment_bills_type_reference"),
    )


class SandboxCharge(db.Model):
    """The sandbox gateway's own record of a hosted card page session (the gateway's side)."""

    __tablename__ = "payment_sandbox_charges"

    OPEN = "open"
    AWAITING_3DS = "awaiting_3ds"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    payment_reference: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(String(200))
    amount_pence: Mapped[int] = mapped_column(Integer)
    refunded_pence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    card_last4: Mapped[str | None] = mapped_column(String(4))
    return_url: Mapped[str] = mapped_column(String(500))
    cancel_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    log: Mapped[list | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_payment_sandbox_charges_status", "status"),)


__all__ = ["Bill", "GatewayEvent", "Payment", "PaymentTransition", "Refund", "SandboxCharge"]
