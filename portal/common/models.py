"""Tables shared by every slice: the audit log, the email outbox, the gazetteer, take-up records
and single-use submission tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.common import clock
from portal.extensions import db


def utcnow() -> datetime:
    """The current instant in UTC, as stored in every datetime column (see `common/clock.py`)."""
    return clock.utc_now()


class AuditEvent(db.Model):
    """One staff action: who did what to which object, when and from where."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_email: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(80))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)


class OutboxEmail(db.Model):
    """An email waiting to be sent, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_emails"

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # kept back by `flask outbox hold` (a restored copy must not send)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)

    __table_args__ = (Index("ix_outbox_emails_due", "status", "next_attempt_at"),)


class Address(db.Model):
    """One addressable place from the council's gazetteer (LLPG), keyed on its UPRN."""

    __tablename__ = "addresses"

    uprn: Mapped[str] = mapped_column(String(12), primary_key=True)
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(8), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    ward: Mapped[str] = mapped_column(String(100), index=True)

    @property
    def single_line(self) -> str:
        parts = [self.line1, self.line2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)


class Boundary(db.Model):
    """The council area or one ward, imported from GeoJSON (see `gazetteer/boundaries.py`).

    `geometry` holds GeoJSON MultiPolygon coordinates: polygons of rings of [longitude, latitude],
    outer ring first, then holes.
    """

    __tablename__ = "boundaries"
    __table_args__ = (UniqueConstraint("level", "code", name="uq_boundaries_level_code"),)
    COUNCIL, WARD = "council", "ward"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    geometry: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServiceTransaction(db.Model):
    """One completed transaction in any slice, counted for take-up by service, type and channel.

    Written by `portal.common.transactions.record_transaction` in the same database transaction
    as the thing it counts (a submission, a payment, a repair report, a comment…).
    """

    __tablename__ = "service_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    lgsl: Mapped[int | None] = mapped_column(Integer, index=True)
    lgil: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    object_ref: Mapped[str | None] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_service_transactions_period", "occurred_at", "channel"),
        Index("ix_service_transactions_kind_ref", "kind", "object_ref"),
    )


class PortalDelivery(db.Model):
    """Something the portal itself runs that completes a service interaction end to end.

    A live row makes its (LGSL, LGIL) interaction count as e-enabled on the web and kiosk
    channels; the slice that owns the thing sets `live` false in the same transaction that
    withdraws it, so the BVPI 157 figure changes at that moment.
    """

    __tablename__ = "portal_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(80))
    lgsl: Mapped[int] = mapped_column(Integer, index=True)
    lgil: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(300))  # a path on the portal, e.g. /repairs
    live: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "ref", "lgsl", "lgil", name="uq_portal_deliveries_thing"),
        Index("ix_portal_deliveries_interaction", "lgsl", "lgil", "live"),
    )


class SubmissionToken(db.Model):
    """A form's single-use submission token, kept with what the form's first POST created.

    Unique on (purpose, token): of two POSTs of the same form, on any worker or node, only one
    transaction can commit its row, so only one can commit what it created.
    """

    __tablename__ = "submission_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    result: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    __table_args__ = (
        UniqueConstraint("purpose", "token", name="uq_submission_tokens_purpose_token"),
    )


class BrowserSession(db.Model):
    """What a browser's session holds (the signed-in session's id, form drafts, a pending sign-in),
    kept on the server: the cookie carries only a random id, whose SHA-256 is the key here.

    A row exists only while the session holds something; an anonymous visitor who was merely
    given a CSRF token has a cookie and no row (the token is derived from the id). Rows end
    `expires_at` after their last change and are deleted by `purge_expired_browser_sessions`.
    """

    __tablename__ = "browser_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
