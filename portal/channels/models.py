"""Library kiosks, their visitor sessions (with assisted access) and staff-recorded contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.common.models import utcnow
from portal.extensions import db


class KioskDevice(db.Model):
    """A library terminal enrolled as a public kiosk; its cookie holds a token hashed here."""

    __tablename__ = "kiosk_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    library: Mapped[str] = mapped_column(String(120))
    library_slug: Mapped[str] = mapped_column(String(120))
    terminal: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    assist_code_hash: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    enrolled_by: Mapped[User | None] = relationship(foreign_keys=[enrolled_by_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KioskSession(db.Model):
    """One visitor's time at a kiosk, from first request to "Start again" or idle reset.

    `last_activity_at` lets the server end an idle session even when the browser runs no
    JavaScript. An assisted session names the staff member, and the resident's consent time.
    """

    __tablename__ = "kiosk_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("kiosk_devices.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(20))
    user_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="SET NULL")
    )
    assisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assist_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assist_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assist_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    device: Mapped[KioskDevice] = relationship()
    assisted_by: Mapped[User | None] = relationship(foreign_keys=[assisted_by_id])

    __table_args__ = (Index("ix_kiosk_sessions_open", "ended_at", "last_activity_at"),)

    @property
    def assist_pending(self) -> bool:
        return (
            self.assisted_by_id is not None
            and self.assist_consent_at is None
            and self.assist_ended_at is None
        )

    @property
    def assist_active(self) -> bool:
        return (
            self.assisted_by_id is not None
            and self.assist_consent_at is not None
            and self.assist_ended_at is None
        )


class ContactRecord(db.Model):
    """An enquiry answered for a caller or visitor, recorded by staff (LGIL 8 by default)."""

    __tablename__ = "contact_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    lgsl: Mapped[int] = mapped_column(Integer)
    lgil: Mapped[int] = mapped_column(Integer, default=8)
    channel: Mapped[str] = mapped_column(String(20))
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text)

    resident: Mapped[User | None] = relationship(foreign_keys=[resident_id])
    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])


class ActingSession(db.Model):
    """A member of staff using the resident screens for a caller or visitor ("act for a caller").

    Tied to the staff member's own server-side session: when that session ends, so does this.
    The resident sees every row on their My council page.
    """

    __tablename__ = "acting_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="SET NULL"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(20))
    # How the staff member checked the caller's identity (a key of services.IDENTITY_CHECKS),
    # with what they noted; empty on rows from before the check was asked.
    identity_check: Mapped[str | None] = mapped_column(String(30))
    identity_detail: Mapped[str | None] = mapped_column(String(200))

    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])
    resident: Mapped[User | None] = relationship(foreign_keys=[resident_id])
