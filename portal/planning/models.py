"""Planning: applications, their documents and timeline, comments, tracking and map-based alerts."""

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

LGSL_FULL_PLANNING = 487  # Full planning applications
LGIL_CONSULTATION = 3  # a public comment is a response to a consultation
LGIL_INFORMATION = 8  # an alert or tracking sign-up is a request for information


class PlanningApplication(db.Model):
    """One planning application on the public register, keyed on its reference (24/01234/FUL)."""

    __tablename__ = "planning_applications"

    REGISTERED = "registered"
    LIVE = "live"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"
    INVALID = "invalid"
    APPEAL = "appeal"
    CALLED_IN = "called_in"
    REFERRED_TO_SOS = "referred_to_sos"
    NOT_OURS = "not_ours"
    STATUSES = {
        REGISTERED: "Registered",
        LIVE: "Live",
        DECIDED: "Decided",
        WITHDRAWN: "Withdrawn",
        INVALID: "Invalid",
        APPEAL: "Appeal",
        CALLED_IN: "Called in",
        REFERRED_TO_SOS: "Referred to SoS",
        NOT_OURS: "Not ours",
    }
    TYPES = {
        "FUL": "Full planning permission",
        "HOU": "Householder",
        "OUT": "Outline planning permission",
        "LBC": "Listed building consent",
        "ADV": "Advertisement consent",
        "TPO": "Works to protected trees",
        "CLE": "Lawful development certificate",
        "PA": "Prior approval",
    }
    CLASSIFICATIONS = (
        "Minor dwellings",
        "Major dwellings",
        "Householder developments",
        "Change of use",
        "Minor commercial",
        "Major commercial",
        "Advertisements",
        "Trees",
        "Other",
    )
    DECISIONS = ("Approved", "Approved with conditions", "Refused", "Split decision")
    DECISION_TYPES = ("Delegated", "Committee")

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    site_address: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(8), index=True)
    uprn: Mapped[str | None] = mapped_column(String(12))
    latitude: Mapped[float] = mapped_column(Float, index=True)
    longitude: Mapped[float] = mapped_column(Float)
    boundary: Mapped[list | None] = mapped_column(JSON)  # [[lat, lon], ...]
    ward: Mapped[str | None] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(Text)
    application_type: Mapped[str] = mapped_column(String(10), index=True)
    classification: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), index=True, default=REGISTERED)
    received_date: Mapped[date] = mapped_column(Date, index=True)
    validated_date: Mapped[date | None] = mapped_column(Date)
    consultation_start: Mapped[date | None] = mapped_column(Date)
    consultation_end: Mapped[date | None] = mapped_column(Date)
    target_decision_date: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date, index=True)
    decision_notice_date: Mapped[date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(100))
    decision_type: Mapped[str | None] = mapped_column(String(100))
    case_officer: Mapped[str | None] = mapped_column(String(200))
    case_officer_email: Mapped[str | None] = mapped_column(String(320))
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    agent_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    documents: Mapped[list[PlanningDocument]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="PlanningDocument.document_date",
    )
    events: Mapped[list[PlanningStatusEvent]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="PlanningStatusEvent.occurred_at",
    )

    @staticmethod
    def slug_for(reference: str) -> str:
        """'24/01234/FUL' → '24-01234-FUL': the stable part of the application's URL."""
        return "".join(ch if ch.isalnum() else "-" for ch in reference.strip().upper())

    @property
    def status_label(self) -> str:
        return self.STATUSES.get(self.status, self.status)

    @property
    def type_label(self) -> str:
        return self.TYPES.get(self.application_type, self.application_type)

    def consultation_open(self, today: date) -> bool:
        return (
            self.status in (self.REGISTERED, self.LIVE)
            and self.consultation_end is not None
            and today <= self.consultation_end
            and (self.consultation_start is None or self.consultation_start <= today)
        )


class PlanningDocument(db.Model):
    """A document of an application: a stored file or a link to one."""

    __tablename__ = "planning_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("planning_applications.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    document_type: Mapped[str] = mapped_column(String(80))
    document_date: Mapped[date] = mapped_column(Date)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(500))
    application: Mapped[PlanningApplication] = relationship(back_populates="documents")


class PlanningStatusEvent(db.Model):
    """One step of an application's timeline: a status change (or decision) and when."""

    __tablename__ = "planning_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("planning_applications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    application: Mapped[PlanningApplication] = relationship(back_populates="events")


class PlanningComment(db.Model):
    """A resident's comment on an application, published only after moderation."""

    __tablename__ = "planning_comments"

    SUPPORT, OBJECT, NEUTRAL = "support", "object", "neutral"
    STANCES = {SUPPORT: "Support", OBJECT: "Object", NEUTRAL: "Neutral"}
    PENDING, PUBLISHED, REJECTED = "pending", "published", "rejected"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("planning_applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    stance: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    application: Mapped[PlanningApplication] = relationship()

    @property
    def stance_label(self) -> str:
        return self.STANCES.get(self.stance, self.stance)


class PlanningTracker(db.Model):
    """Someone following one application: emailed on every status change and the decision."""

    __tablename__ = "planning_trackers"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("planning_applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    application: Mapped[PlanningApplication] = relationship()

    __table_args__ = (Index("ix_planning_trackers_email", "email"),)

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class PlanningAlert(db.Model):
    """An area and a frequency: new applications (and optionally comments) there are emailed.

    Every alert keeps its bounding box in four indexed columns, so matching first narrows the
    alerts with a range query that both SQLite and PostgreSQL answer from an index, and only
    then applies the exact test (geodesic distance, point in polygon, ward).
    """

    __tablename__ = "planning_alerts"

    RADIUS_SMALL = 200
    RADIUS_MEDIUM = 800
    RADIUS_LARGE = 2000
    RADII = (RADIUS_SMALL, RADIUS_MEDIUM, RADIUS_LARGE)
    RADIUS_LABELS = {200: "200 metres", 800: "800 metres", 2000: "2 kilometres"}

    KIND_RADIUS, KIND_WARD, KIND_POLYGON = "radius", "ward", "polygon"
    INSTANT, DAILY, WEEKLY = "instant", "daily", "weekly"
    FREQUENCIES = {
        INSTANT: "As soon as they arrive",
        DAILY: "Daily digest",
        WEEKLY: "Weekly digest",
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int | None] = mapped_column(Integer)
    ward: Mapped[str | None] = mapped_column(String(100))
    polygon: Mapped[list | None] = mapped_column(JSON)  # [[lat, lon], ...], not closed
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    frequency: Mapped[str] = mapped_column(String(10), default=INSTANT)
    include_comments: Mapped[bool] = mapped_column(Boolean, default=False)
    application_types: Mapped[list | None] = mapped_column(JSON)  # None: every type
    token: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_planning_alerts_bbox", "active", "kind", "min_lat", "max_lat", "min_lon", "max_lon"
        ),
        Index(
            "ix_planning_alerts_radius_bbox",
            "active",
            "radius_m",
            "min_lat",
            "max_lat",
            "min_lon",
            "max_lon",
            "latitude",
            "longitude",
            "frequency",
            "include_comments",
        ),
        Index("ix_planning_alerts_ward", "active", "ward"),
    )

    @property
    def frequency_label(self) -> str:
        return self.FREQUENCIES.get(self.frequency, self.frequency)

    @property
    def area_label(self) -> str:
        if self.kind == self.KIND_RADIUS:
            return f"Within {self.RADIUS_LABELS.get(self.radius_m or 0, f'{self.radius_m} m')} of {self.label}"
        if self.kind == self.KIND_WARD:
            return f"{self.ward} ward"
        return f"An area you drew ({self.label})"


class PlanningAlertDelivery(db.Model):
    """What one alert has been sent: at most one row per (alert, application, event)."""

    __tablename__ = "planning_alert_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("planning_alerts.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(
        ForeignKey("planning_applications.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(30))  # "new" or "comment:<id>"
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("alert_id", "application_id", "event", name="uq_planning_alert_delivery"),
    )
