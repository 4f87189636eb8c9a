"""Account operations that views and commands call: register, confirm, sign in, reset, delete."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, select

from portal.accounts.models import (
    STAFF_ROLES,
    AccountToken,
    RecoveryCode,
    User,
    UserRole,
    UserSession,
)
from portal.accounts.passwords import (
    hash_password,
    needs_rehash,
    spend_equal_time,
    verify_password,
)
from portal.accounts.sessions import revoke_sessions
from portal.common.audit import record_audit
from portal.common.models import utcnow
from portal.common.outbox import queue_email
from portal.common.urls import external_url
from portal.extensions import db

TOKEN_LIFETIMES = {
    AccountToken.CONFIRM_EMAIL: timedelta(hours=24),
    AccountToken.CHANGE_EMAIL: timedelta(hours=24),
    AccountToken.RESET_PASSWORD: timedelta(hours=1),
    AccountToken.SIGN_IN_LINK: timedelta(minutes=15),
}
RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Castlebrook Council"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full URL on the portal's public address, for links in emails."""
    return external_url(endpoint, **values)


def council_name() -> str:
    return current_app.config["PORTAL"].council_name


# Single-use links ---------------------------------------------------------------------------


def issue_token(user: User, purpose: str, email: str | None = None) -> str:
    """A new single-use link token for `user` (the caller commits); returns the raw token."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        AccountToken(
            token_hash=_sha256(raw),
            purpose=purpose,
            user_id=user.id,
            email=email or user.email,
            created_at=now,
            expires_at=now + TOKEN_LIFETIMES[purpose],
        )
    )
    return raw


def find_token(raw: str, purpose: str) -> AccountToken | None:
    """The token row for `raw` when it is unused, unexpired and of `purpose`."""
    if not raw or len(raw) > 100:
        return None
    row = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == _sha256(raw)))
    if (
        row is None
        or row.purpose != purpose
        or row.used_at is not None
        or _aware(row.expires_at) <= utcnow()
    ):
        return None
    return row


def use_token(row: AccountToken) -> None:
    """Spend `row` and every other unused link of the same purpose for that user."""
    now = utcnow()
    for other in db.session.scalars(
        select(AccountToken).where(
            AccountToken.user_id == row.user_id,
            AccountToken.purpose == row.purpose,
            AccountToken.used_at.is_(None),
        )
    ):
        other.used_at = now


# Registration and email ---------------------------------------------------------------------


def send_confirmation(user: User) -> None:
    raw = issue_token(user, AccountToken.CONFIRM_EMAIL)
    link = absolute_url("accounts.confirm_email", token=raw)
    queue_email(
        user.email,
        f"Confirm your email address for your {council_name()} account",
        f"Hello {user.display_name or ''},\n\nConfirm your email address by opening this link "
        f"within 24 hours:\n\n{link}\n\nIf you did not create an account, you can ignore this "
        f"email.\n\n{council_name()}\n",
    )


def register_account(email: str, password: str, display_name: str) -> User | None:
    """Create an unconfirmed account and email a confirmation link (the caller commits).

    If the address already has an account, nothing is created: its owner gets an email
    instead, and the caller shows the same page either way (no account enumeration).
    """
    existing = user_by_email(email)
    if existing is not None:
        queue_email(
            existing.email,
            f"Someone tried to create a {council_name()} account with your email address",
            "Someone (perhaps you) tried to create an account with this email address, but you "
            "already have one.\n\nSign in here: "
            f"{absolute_url('accounts.sign_in')}\n\nForgotten your password? Reset it here: "
            f"{absolute_url('accounts.forgotten_password')}\n\nIf this was not you, you can "
            f"ignore this email.\n\n{council_name()}\n",
        )
        spend_equal_time(password)
        return None
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    return user


def confirm_email(row: AccountToken) -> User:
    user = row.user
    use_token(row)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


# Earlier requests -----------------------------------------------------------------------------
#
# Slices register (order, what, count(email), claim(email, user_id)) under
# app.extensions["portal_earlier_records"] for what a resident did without an account.
# Matching is strictly by the account's confirmed address: an unconfirmed account is given
# nothing and is not even told whether anything exists.

EARLIER_RECORDS_KEY = "portal_earlier_records"


def _earlier_providers() -> list:
    return sorted(current_app.extensions.get(EARLIER_RECORDS_KEY, []), key=lambda p: p[0])


def earlier_records(user: User) -> list[tuple[str, int]]:
    """(what, how many) made with the account's confirmed address and not yet in an account."""
    if user.email_confirmed_at is None:
        return []
    email = normalise_email(user.email)
    found = [(what, count(email)) for _order, what, count, _claim in _earlier_providers()]
    return [(what, n) for what, n in found if n]


def claim_earlier_records(user: User) -> dict[str, int]:
    """Add everything made with the confirmed address to the account (the caller commits)."""
    if user.email_confirmed_at is None:
        raise PermissionError("the email address is not confirmed")
    email = normalise_email(user.email)
    added = {}
    for _order, what, _count, claim in _earlier_providers():
        n = claim(email, user.id)
        if n:
            added[what] = n
    record_audit("account.earlier_records_added", "user", user.id, added, actor=user)
    return added


def request_email_change(user: User, new_email: str) -> None:
    """Email a confirmation link to the new address (the caller commits)."""
    new_email = normalise_email(new_email)
    if user_by_email(new_email) is not None:
        queue_email(
            new_email,
            f"Someone tried to use your email address on a {council_name()} account",
            "Someone tried to change the email address of another account to this address, "
            "which already has an account. No change was made.\n\nIf this was you, sign in to "
            f"the account that uses this address: {absolute_url('accounts.sign_in')}\n\n"
            f"{council_name()}\n",
        )
        return
    raw = issue_token(user, AccountToken.CHANGE_EMAIL, email=new_email)
    link = absolute_url("accounts.confirm_email_change", token=raw)
    queue_email(
        new_email,
        f"Confirm your new email address for your {council_name()} account",
        f"Confirm that you want to use this email address for your account by opening this link "
        f"within 24 hours:\n\n{link}\n\nIf you did not ask for this, ignore this email.\n\n"
        f"{council_name()}\n",
    )


def apply_email_change(row: AccountToken) -> User | None:
    """Move the account to the confirmed new address; None if someone took it meanwhile."""
    user = row.user
    use_token(row)
    if user_by_email(row.email) is not None:
        return None
    old_email = user.email
    user.email = row.email
    user.email_confirmed_at = utcnow()
    queue_email(
        old_email,
        f"The email address of your {council_name()} account has changed",
        f"The email address of your account was changed to {row.email}.\n\nIf you did not do "
        f"this, contact us on {current_app.config['PORTAL'].council_phone}.\n\n{council_name()}\n",
    )
    return user


# Passwords ---------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The active user whose password this is, else None (equal time for unknown emails).

    A hash made with older parameters is replaced by a new one (the caller commits).
    """
    user = user_by_email(email)
    if user is None or not user.password_hash:
        spend_equal_time(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if user.disabled_at is not None:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def send_sign_in_link(email: str) -> None:
    """Email a one-time sign-in link if the address has an account (the caller says the same
    either way). It lets the owner in while failed attempts by someone else lock the password."""
    user = user_by_email(email)
    if user is None or user.disabled_at is not None:
        return
    raw = issue_token(user, AccountToken.SIGN_IN_LINK)
    link = absolute_url("accounts.sign_in_link", token=raw)
    queue_email(
        user.email,
        "Your link to sign in",
        "Someone (we hope you) asked for a link to sign in to your council account, after "
        "too many wrong passwords were tried.\n\n"
        f"Sign in: {link}\n\nThe link works once, for 15 minutes. If it was not you, ignore "
        "this email: your password still works once the lock ends, and nobody can use this "
        "link without your email.\n",
    )


def use_sign_in_link(row: AccountToken) -> User:
    """Spend a sign-in link; it proves the address, so an unconfirmed one becomes confirmed."""
    use_token(row)
    user = row.user
    if user.email_confirmed_at is None and normalise_email(user.email) == normalise_email(
        row.email
    ):
        user.email_confirmed_at = utcnow()
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an account (the caller says the same either way)."""
    user = user_by_email(email)
    if user is None or user.disabled_at is not None:
        return
    raw = issue_token(user, AccountToken.RESET_PASSWORD)
    link = absolute_url("accounts.reset_password", token=raw)
    queue_email(
        user.email,
        f"Reset your {council_name()} account password",
        f"Someone (perhaps you) asked to reset the password of your account.\n\nTo choose a new "
        f"password, open this link within 1 hour. It works once.\n\n{link}\n\nIf you did not "
        f"ask for this, ignore this email: your password has not changed.\n\n{council_name()}\n",
    )


def reset_password(row: AccountToken, password: str) -> User:
    """Set the new password, spend the link and end every session of the account."""
    user = row.user
    use_token(row)
    set_password(user, password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link proved they read this address
    revoke_sessions(user)
    return user


# Two-factor sign-in --------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def qr_svg_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data: URI (CSP allows data: images)."""
    qr = segno.make(text, error="m")
    return qr.svg_data_uri(scale=5, dark="#0b0c0c", light="#ffffff", encode_minimal=False)


def _clean_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def totp_step_matching(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step a 6-digit `code` belongs to (now ± 30 s), unless it was already used."""
    code = _clean_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=30 * offset)
        step = totp.timecode(moment)
        if secrets.compare_digest(totp.at(moment), code):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


def enrol_totp(user: User, secret: str) -> list[str]:
    """Switch two-factor on with `secret`; returns new recovery codes to show once."""
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        code = secrets.token_hex(5)  # 10 hex characters
        codes.append(f"{code[:5]}-{code[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_sha256(code)))
    return codes


def check_second_factor(user: User, code: str) -> bool:
    """A current TOTP code (not reused) or an unused recovery code; spends what it used."""
    if not user.totp_secret:
        return False
    step = totp_step_matching(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    cleaned = _clean_code(code)
    if len(cleaned) != 10:
        return False
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _sha256(cleaned),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    record_audit("account.recovery_code_used", "user", user.id, actor=user)
    return True


def recovery_codes_left(user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def reset_two_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


# Staff accounts ------------------------------------------------------------------------------


def create_user(
    email: str, roles: list[str] | tuple[str, ...] = (), password: str | None = None, name: str = ""
) -> User:
    """Create a confirmed account holding `roles` (the caller commits)."""
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown:
        raise ValueError(f"unknown role: {', '.join(sorted(unknown))}")
    user = User(
        email=normalise_email(email),
        display_name=name,
        password_hash=hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
        email_confirmed_at=utcnow(),
    )
    user.role_rows = [UserRole(role=role) for role in sorted(set(roles))]
    db.session.add(user)
    db.session.flush()
    return user


def set_roles(user: User, roles: list[str] | tuple[str, ...]) -> tuple[set[str], set[str]]:
    """Give `user` exactly `roles`; audits the change; returns (added, removed)."""
    wanted = set(roles) & set(STAFF_ROLES)
    current = user.roles
    added, removed = wanted - current, current - wanted
    for row in list(user.role_rows):
        if row.role in removed:
            user.role_rows.remove(row)
    for role in sorted(added):
        user.role_rows.append(UserRole(role=role))
    if added or removed:
        record_audit(
            "staff.roles_changed",
            "user",
            user.id,
            {"email": user.email, "added": sorted(added), "removed": sorted(removed)},
        )
    return added, removed


def end_sessions_for(user: User, reason: str) -> int:
    count = revoke_sessions(user)
    record_audit(
        "account.sessions_revoked",
        "user",
        user.id,
        {"email": user.email, "reason": reason, "count": count},
    )
    return count


def live_session_count(user: User) -> int:
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )
    return sum(1 for row in rows if _aware(row.expires_at) > now)


# Personal data -------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_personal_data(user: User) -> dict[str, Any]:
    """Everything the portal holds about `user`, from this slice and every registered exporter."""
    sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    )
    data: dict[str, Any] = {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "created_at": _iso(user.created_at),
            "email_confirmed_at": _iso(user.email_confirmed_at),
            "password_changed_at": _iso(user.password_changed_at),
            "last_sign_in_at": _iso(user.last_sign_in_at),
            "roles": sorted(user.roles),
            "two_factor_enabled_at": _iso(user.totp_enabled_at),
            "sessions": [
                {
                    "started_at": _iso(row.created_at),
                    "last_seen_at": _iso(row.last_seen_at),
                    "ended_at": _iso(row.revoked_at),
                    "ip_address": row.ip_address,
                    "browser": row.user_agent,
                }
                for row in sessions
            ],
        },
        "exported_at": utcnow().isoformat(),
    }
    for name, exporter in current_app.extensions.get("portal_personal_data", []):
        data[name] = exporter(user)
    return data


def delete_account(user: User) -> None:
    """Delete the account; other slices' rows are removed or kept unlinked by their keys."""
    db.session.delete(user)
