"""Online forms: definitions with versions, residents' drafts, submissions and their workflow."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
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

from portal.common.models import utcnow
from portal.extensions import db

DEMO_OFFICES = (
    # (name, address, opening hours): the demo council's receiving offices
    ("Waste services", "Castlebrook Depot, Foundry Row, Castlebrook CK2 1AD",
     "Monday to Friday, 8am to 4pm"),
    ("Parking services", "Town Hall, Market Street, Castlebrook CK1 1AA",
     "Monday to Friday, 9am to 5pm"),
    ("Libraries", "Central Library, Abbey Road, Castlebrook CK1 2AB",
     "Monday to Saturday, 9am to 6pm"),
    ("Council tax", "Town Hall, Market Street, Castlebrook CK1 1AA",
     "Monday to Friday, 9am to 5pm"),
    ("Electoral services", "Town Hall, Market Street, Castlebrook CK1 1AA",
     "Monday to Friday, 9am to 5pm"),
    ("Customer services", "Customer Service Centre, High Street, Castlebrook CK1 3AB",
     "Monday to Friday, 8:30am to 5pm; Saturday, 9am to 12pm"),
)  # fmt: skip


class Office(db.Model):
    """A receiving office forms send submissions to; staff add, edit and retire them."""

    __tablename__ = "online_form_offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    address: Mapped[str] = mapped_column(Text)
    opening_hours: Mapped[str] = mapped_column(Text)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OnlineForm(db.Model):
    """A form staff build: its service interaction, office, dates and the version that is live."""

    __tablename__ = "online_forms"

    DRAFT, LIVE, ARCHIVED = "draft", "live", "archived"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    lgsl: Mapped[int] = mapped_column(Integer, index=True)
    lgil: Mapped[int] = mapped_column(Integer)
    office: Mapped[str] = mapped_column(String(80), index=True)
    response_days: Mapped[int] = mapped_column(Integer, default=10)
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    is_consultation: Mapped[bool] = mapped_column(default=False)
    takes_location: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    live_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("online_form_versions.id", use_alter=True, ondelete="SET NULL")
    )
    summary: Mapped[dict | None] = mapped_column(JSON)
    summary_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form",
        foreign_keys="FormVersion.form_id",
        order_by="FormVersion.number",
        cascade="all, delete-orphan",
    )
    live_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[live_version_id], post_update=True
    )

    @property
    def draft_version(self) -> FormVersion | None:
        drafts = [v for v in self.versions if v.state == FormVersion.DRAFT]
        return drafts[-1] if drafts else None


class FormVersion(db.Model):
    """One version of a form's definition (pages, questions, branching, payment) as JSON."""

    __tablename__ = "online_form_versions"

    DRAFT, LIVE, SUPERSEDED = "draft", "live", "superseded"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("online_forms.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    form: Mapped[OnlineForm] = relationship(back_populates="versions", foreign_keys=[form_id])

    __table_args__ = (UniqueConstraint("form_id", "number", name="uq_form_versions_number"),)


class FormDraft(db.Model):
    """A resident's answers in progress: saved on every page, resumable, and counted as started."""

    __tablename__ = "online_form_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("online_forms.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("online_form_versions.id"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    last_page: Mapped[str | None] = mapped_column(String(40))
    preview: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resume_email: Mapped[str | None] = mapped_column(String(320))
    resume_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("online_form_submissions.id", ondelete="SET NULL")
    )

    form: Mapped[OnlineForm] = relationship()
    version: Mapped[FormVersion] = relationship()


class FormSubmission(db.Model):
    """A completed form: the answers on the version they were given, and the office's workflow."""

    __tablename__ = "online_form_submissions"

    AWAITING_PAYMENT = "awaiting_payment"
    RECEIVED, IN_PROGRESS, RESOLVED, REJECTED = "received", "in_progress", "resolved", "rejected"
    STATUSES = (AWAITING_PAYMENT, RECEIVED, IN_PROGRESS, RESOLVED, REJECTED)
    OPEN = (RECEIVED, IN_PROGRESS)
    LABELS = {
        AWAITING_PAYMENT: "Awaiting payment",
        RECEIVED: "Received",
        IN_PROGRESS: "In progress",
        RESOLVED: "Resolved",
        REJECTED: "Rejected",
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("online_forms.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("online_form_versions.id"))
    office: Mapped[str] = mapped_column(String(80), index=True)
    answers: Mapped[dict] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(20), default="web")
    status: Mapped[str] = mapped_column(String(20), default=RECEIVED, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    due_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    amount_pence: Mapped[int | None] = mapped_column(Integer)
    payment_reference: Mapped[str | None] = mapped_column(String(40))
    # when a link to finish paying was last emailed (declined, cancelled or abandoned payment)
    payment_link_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    address_text: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20), default="portal")

    form: Mapped[OnlineForm] = relationship()
    version: Mapped[FormVersion] = relationship()
    notes: Mapped[list[SubmissionNote]] = relationship(
        order_by="SubmissionNote.id", cascade="all, delete-orphan"
    )
    files: Mapped[list[SubmissionFile]] = relationship(
        primaryjoin="SubmissionFile.submission_id == FormSubmission.id", viewonly=True
    )
    parts: Mapped[list[SubmissionPart]] = relationship(
        order_by="SubmissionPart.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return self.LABELS.get(self.status, self.status)


class SubmissionNote(db.Model):
    """A status change or a note by an officer on a submission."""

    __tablename__ = "online_form_submission_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("online_form_submissions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubmissionFile(db.Model):
    """An uploaded file: first attached to a draft, then to the submission made from it."""

    __tablename__ = "online_form_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("online_form_drafts.id", ondelete="SET NULL"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("online_form_submissions.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str] = mapped_column(String(40))
    storage_key: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubmissionPart(db.Model):
    """Tell us once: the part of a submission one department handles and closes."""

    __tablename__ = "online_form_submission_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("online_form_submissions.id", ondelete="CASCADE"), index=True
    )
    office: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")


class OfficeMember(db.Model):
    """Which receiving office an officer works in (officers see their offices' submissions)."""

    __tablename__ = "online_form_office_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    office: Mapped[str] = mapped_column(String(80))

    __table_args__ = (UniqueConstraint("user_id", "office", name="uq_office_members"),)


class Open311Key(db.Model):
    """An API key staff issue to a third party for POST requests.json; only its hash is kept."""

    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Index("ix_online_form_drafts_form", FormDraft.form_id, FormDraft.submission_id)
