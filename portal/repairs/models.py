"""Housing repairs: properties and tenancies, the repairs tree, repairs, photos, slots, bookings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.models import Address, utcnow
from portal.extensions import db

PRIORITIES = ("emergency", "urgent", "routine")
PRIORITY_LABELS = {"emergency": "Emergency", "urgent": "Urgent", "routine": "Routine"}
TRADES = ("plumbing", "electrical", "heating", "carpentry", "glazing", "general")
TRADE_LABELS = {
    "plumbing": "Plumbing",
    "electrical": "Electrical",
    "heating": "Heating",
    "carpentry": "Carpentry",
    "glazing": "Glazing",
    "general": "General building",
}
PERIODS = ("morning", "afternoon", "all_day")
PERIOD_LABELS = {
    "morning": "Morning (8am to 12pm)",
    "afternoon": "Afternoon (12pm to 5pm)",
    "all_day": "All day (8am to 5pm)",
}
CONTACT_PREFERENCES = {"email": "Email", "phone": "Phone call", "text": "Text message"}


class Property(db.Model):
    """A council-owned home, keyed on the gazetteer's UPRN."""

    __tablename__ = "repair_properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    uprn: Mapped[str] = mapped_column(ForeignKey("addresses.uprn"), unique=True)
    block_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    address: Mapped[Address] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return self.address.single_line if self.address else self.uprn


class Tenancy(db.Model):
    """A tenancy of a property; `user_id` is set once the tenant links their account."""

    __tablename__ = "repair_tenancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("repair_properties.id"), index=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    tenant_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    link_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    link_code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    home: Mapped[Property] = relationship(lazy="joined")


class RepairNode(db.Model):
    """One node of the repairs tree: area → room → item → problem; leaves carry priority and trade."""

    __tablename__ = "repair_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("repair_nodes.id"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    hint: Mapped[str | None] = mapped_column(String(300))
    priority: Mapped[str | None] = mapped_column(String(12))
    trade: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[RepairNode | None] = relationship(remote_side=[id])

    @property
    def is_leaf(self) -> bool:
        return self.priority is not None


class Repair(db.Model):
    """A repair reported by a tenant (or for them by staff)."""

    __tablename__ = "repairs"

    REPORTED = "reported"
    TRIAGED = "triaged"
    BOOKED = "booked"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STATUSES = (REPORTED, TRIAGED, BOOKED, IN_PROGRESS, COMPLETED, CANCELLED)
    OPEN = (REPORTED, TRIAGED, BOOKED, IN_PROGRESS)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("repair_properties.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    node_id: Mapped[int | None] = mapped_column(ForeignKey("repair_nodes.id"))
    communal: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(Text)
    access_notes: Mapped[str] = mapped_column(Text, default="")
    contact_preference: Mapped[str] = mapped_column(String(10), default="email")
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(12))
    trade: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=REPORTED, index=True)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    target_date: Mapped[date] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    home: Mapped[Property] = relationship(lazy="joined")
    node: Mapped[RepairNode | None] = relationship()
    photos: Mapped[list[RepairPhoto]] = relationship(
        back_populates="repair", order_by="RepairPhoto.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[RepairEvent]] = relationship(
        back_populates="repair", order_by="RepairEvent.id", cascade="all, delete-orphan"
    )
    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="repair", order_by="Appointment.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def active_appointment(self) -> Appointment | None:
        for appointment in self.appointments:
            if appointment.status == Appointment.BOOKED:
                return appointment
        return None


class RepairPhoto(db.Model):
    """A photo of a repair, re-encoded without metadata, with a thumbnail."""

    __tablename__ = "repair_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    repair: Mapped[Repair] = relationship(back_populates="photos")


class RepairEvent(db.Model):
    """One line of a repair's history; staff notes are internal (`public` false)."""

    __tablename__ = "repair_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    repair: Mapped[Repair] = relationship(back_populates="events")


class Slot(db.Model):
    """Appointment capacity for one trade on one date and period; `booked` never passes `capacity`."""

    __tablename__ = "repair_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade: Mapped[str] = mapped_column(String(20))
    date: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(10))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("trade", "date", "period", name="uq_repair_slots_trade_date_period"),
        Index("ix_repair_slots_trade_date", "trade", "date"),
    )

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


class Appointment(db.Model):
    """A booking of one place in a slot for a repair."""

    __tablename__ = "repair_appointments"

    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"
    ATTENDED = "attended"  # the repair was completed on or after the appointment day

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("repair_slots.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=BOOKED)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    repair: Mapped[Repair] = relationship(back_populates="appointments")
    slot: Mapped[Slot] = relationship(lazy="joined")


class RepairContact(db.Model):
    """A contact at emergency triage that was sent to the phone (gas, or "phone us now")."""

    __tablename__ = "repair_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    property_id: Mapped[int | None] = mapped_column(ForeignKey("repair_properties.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[str] = mapped_column(String(400))
