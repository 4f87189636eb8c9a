"""The service catalogue and its e-enablement register (LGSL services × LGIL interaction types)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.models import utcnow
from portal.extensions import db

# The ten BVPI 157 top-level interaction types (LGIL v1 codes 0–9).
LGIL_TYPES: dict[int, str] = {
    0: "Applications for service",
    1: "Booking venues, resources and courses",
    2: "Collecting revenue",
    3: "Consultation",
    4: "Paying for goods and services",
    5: "Procurement",
    6: "Providing access to community, professional or business networks",
    7: "Providing benefits and grants",
    8: "Providing information",
    9: "Regulation",
}
LGIL_VERBS: dict[int, str] = {
    0: "Apply",
    1: "Book",
    2: "Pay",
    3: "Have your say",
    4: "Pay for it",
    5: "Tender",
    6: "Get in touch with networks",
    7: "Claim",
    8: "Find out more",
    9: "Report or register",
}
# Electronic channels that can complete an interaction end to end.
CHANNELS: dict[str, str] = {
    "web": "Web",
    "email": "Email",
    "kiosk": "Library kiosk",
    "phone": "Phone (officer works on live records)",
    "face_to_face": "Face to face (officer works on live records)",
    "digital_tv": "Digital TV",
    "mobile": "Mobile",
}
PORTAL_CHANNELS = ("web", "kiosk")  # what a live PortalDelivery counts on


class Service(db.Model):
    """One council service in the A–Z, keyed on its LGSL number where one exists."""

    __tablename__ = "council_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    lgsl: Mapped[int | None] = mapped_column(Integer, unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    synonyms: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list] = mapped_column(JSON, default=list)
    life_events: Mapped[list] = mapped_column(JSON, default=list)
    department: Mapped[str] = mapped_column(String(120), default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    related_links: Mapped[list] = mapped_column(JSON, default=list)
    review_due: Mapped[date | None] = mapped_column(Date, index=True)
    last_reviewed: Mapped[date | None] = mapped_column(Date)
    review_reminder_sent_for: Mapped[date | None] = mapped_column(Date)
    status_notice: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    initial: Mapped[str] = mapped_column(String(1), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner = relationship("User", foreign_keys=[owner_id])
    interactions: Mapped[list[Interaction]] = relationship(
        back_populates="service",
        cascade="all, delete-orphan",
        order_by="Interaction.lgil",
    )


class Interaction(db.Model):
    """One service × LGIL top-level type: the unit BVPI 157 counts."""

    __tablename__ = "council_service_interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("council_services.id", ondelete="CASCADE"), index=True
    )
    lgil: Mapped[int] = mapped_column(Integer)
    applicable: Mapped[bool] = mapped_column(Boolean, default=True)
    permissible: Mapped[bool] = mapped_column(Boolean, default=True)
    exclusion_reason: Mapped[str] = mapped_column(Text, default="")
    e_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    enabled_since: Mapped[date | None] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)
    evidence_url: Mapped[str] = mapped_column(String(500), default="")
    # Who delivers a not-yet-enabled interaction by its target date: a staff user, or a named
    # officer and their department (with an email address for the reminder, if they have one).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    owner_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    owner_department: Mapped[str] = mapped_column(String(120), default="", server_default="")
    owner_email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    target_reminder_sent_for: Mapped[date | None] = mapped_column(Date)

    service: Mapped[Service] = relationship(back_populates="interactions")
    owner = relationship("User", foreign_keys=[owner_id])

    __table_args__ = (
        UniqueConstraint("service_id", "lgil", name="uq_council_service_interactions_type"),
    )

    @property
    def label(self) -> str:
        return LGIL_TYPES.get(self.lgil, str(self.lgil))

    @property
    def has_owner(self) -> bool:
        return self.owner_id is not None or bool(self.owner_name and self.owner_department)

    @property
    def owner_label(self) -> str:
        """The owner as people read it: "Eve Editor" or "Sam Patel, Housing"."""
        if self.owner is not None:
            return self.owner.display_name or self.owner.email
        if self.owner_name:
            return f"{self.owner_name}, {self.owner_department}".rstrip(", ")
        return ""

    @property
    def reminder_email(self) -> str:
        if self.owner is not None:
            return self.owner.email
        return self.owner_email


class ServiceVersion(db.Model):
    """One saved change to a service: who changed which fields from what to what."""

    __tablename__ = "council_service_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("council_services.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_by_email: Mapped[str] = mapped_column(String(320), default="")
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class Bvpi157Snapshot(db.Model):
    """The BVPI 157 figure recorded at a moment (quarterly by a job, or on demand by staff)."""

    __tablename__ = "bvpi157_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)
    percent: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float, default=100.0)
    source: Mapped[str] = mapped_column(String(20), default="scheduled")
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The UK day of a daily snapshot (one per day); empty for quarterly and on-demand ones.
    day: Mapped[date | None] = mapped_column(Date, unique=True)


class Bvpi157Target(db.Model):
    """The council's BVPI 157 target: a percentage by a date; the newest row is the one in force."""

    __tablename__ = "bvpi157_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    percent: Mapped[float] = mapped_column(Float)
    due: Mapped[date] = mapped_column(Date)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SearchMiss(db.Model):
    """A search that found nothing, counted, for editors to act on."""

    __tablename__ = "council_service_search_misses"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SiteAlert(db.Model):
    """A site-wide alert banner (e.g. severe weather) shown between its start and end times."""

    __tablename__ = "site_alerts"

    SEVERITIES = ("information", "warning")

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(20), default="information")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_site_alerts_window", "starts_at", "ends_at"),)
