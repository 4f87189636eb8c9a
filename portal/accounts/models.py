"""People who use the portal: residents and staff, with the roles staff hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.models import utcnow
from portal.extensions import db

STAFF_ROLES = ("admin", "editor", "officer", "housing", "planning", "finance", "library", "manager")
TWO_FACTOR_ROLES = ("admin", "finance")
ROLE_DESCRIPTIONS = {
    "admin": "Manages staff accounts and roles, ends sessions, reads the audit log",
    "editor": "Edits the A to Z of services and the e-enablement register",
    "officer": "Processes form submissions",
    "housing": "Triages housing repairs and manages appointment slots",
    "planning": "Manages planning applications and moderates comments",
    "finance": "Refunds and reconciles payments, takes phone payments",
    "library": "Gives assisted access at library kiosks",
    "manager": "Reads take-up statistics and the BVPI 157 figure",
}


class User(db.Model):
    """A resident or a member of staff; staff are users holding at least one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-factor sign-in (TOTP): the shared secret once enrolled, and the last time step used,
    # so one code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    @property
    def needs_two_factor(self) -> bool:
        """Admins and finance staff must sign in with a second factor."""
        return self.has_role(*TWO_FACTOR_ROLES)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        return bool(self.role_rows)

    @property
    def confirmed_email(self) -> str | None:
        """The email address in lower case once the account has proved it, else None.

        Anything kept by email address (planning alerts and trackers) is granted to an account
        only through this: an unconfirmed account sees only what it did itself.
        """
        return self.email.strip().lower() if self.email_confirmed_at is not None else None

    # Flask-Login's user interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserRole(db.Model):
    __tablename__ = "user_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    user: Mapped[User] = relationship(back_populates="role_rows")

    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),)


class UserSession(db.Model):
    """A signed-in session kept server-side so it can be revoked; the cookie holds only its id.

    The id itself is never stored: `token_hash` is its SHA-256, so a copy of the database cannot
    be replayed as cookies.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # "Remember me": the cookie outlives the browser and no idle timeout applies (30 days at most).
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship()


class AccountToken(db.Model):
    """A single-use, time-limited link sent by email (confirm an address, reset a password).

    Only the SHA-256 of the token is stored; `used_at` makes it single-use.
    """

    __tablename__ = "account_tokens"

    CONFIRM_EMAIL = "confirm_email"
    CHANGE_EMAIL = "change_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105  (a purpose, not a password)
    SIGN_IN_LINK = "sign_in_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A single-use two-factor recovery code (only its hash is kept)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
