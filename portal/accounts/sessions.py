"""Server-side sessions: the cookie carries a random session id; the row decides if it is valid.

A session ends when it is revoked (sign-out, disablement, an admin's "end sessions"), after
the idle timeout without a request (IDLE_TIMEOUT unless PORTAL_SESSION_IDLE_SECONDS says
otherwise), or the absolute timeout after sign-in (ABSOLUTE_TIMEOUT, or
PORTAL_SESSION_ABSOLUTE_SECONDS), whichever comes first. Pages warn before the idle end and offer
to extend the session (`extend_current_session`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, request, session
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import User, UserSession
from portal.common.models import utcnow
from portal.db import write_intent, writes
from portal.extensions import db

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
REMEMBER_TIMEOUT = timedelta(days=30)  # "remember me": absolute, no idle timeout
TOUCH_INTERVAL = timedelta(seconds=60)
SESSION_KEY = "sid"


def idle_timeout() -> timedelta:
    """How long a session lasts without a request (settings may shorten it, e.g. in tests)."""
    return timedelta(seconds=current_app.config["PORTAL"].session_idle_seconds)


def absolute_timeout() -> timedelta:
    """How long a session lasts after sign-in at most, however active."""
    return timedelta(seconds=current_app.config["PORTAL"].session_absolute_seconds)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_session(user: User, remember: bool = False) -> UserSession:
    """Sign `user` in with a brand-new session id (the caller commits).

    `remember` keeps the cookie after the browser closes for REMEMBER_TIMEOUT at most, with no idle
    timeout; otherwise the session ends after the idle timeout or the absolute timeout in all.
    """
    session.clear()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + (REMEMBER_TIMEOUT if remember else absolute_timeout()),
        ip_address=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:300],
        remember=remember,
    )
    db.session.add(row)
    session[SESSION_KEY] = token
    session.permanent = remember
    return row


def current_session() -> UserSession | None:
    """The valid server-side session of this request, if any."""
    token = session.get(SESSION_KEY)
    if not token:
        return None
    # The user and their roles come in the same query (every page asks for both).
    row = (
        db.session.execute(
            select(UserSession)
            .where(UserSession.token_hash == _hash(token))
            .options(joinedload(UserSession.user).joinedload(User.role_rows))
        )
        .unique()
        .scalar_one_or_none()
    )
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or _aware(row.expires_at) <= now
        or (not row.remember and _aware(row.last_seen_at) + idle_timeout() <= now)
        or row.user.disabled_at is not None
    ):
        return None
    if now - _aware(row.last_seen_at) >= min(TOUCH_INTERVAL, idle_timeout() / 4):
        _touch(row.id, now)
        set_committed_value(row, "last_seen_at", now)
    return row


def time_left(row: UserSession) -> tuple[timedelta, timedelta] | None:
    """(until the idle end, until the absolute end) of a session that has an idle timeout.

    None for a "remember me" session, which has no idle timeout to warn about.
    """
    if row.remember:
        return None
    now = utcnow()
    idle = _aware(row.last_seen_at) + idle_timeout() - now
    absolute = _aware(row.expires_at) - now
    return max(idle, timedelta(0)), max(absolute, timedelta(0))


def extend_current_session() -> UserSession | None:
    """Count this moment as activity on the request's session ("Stay signed in").

    Returns the session, or None when it has already ended (it cannot be brought back). The
    absolute end never moves.
    """
    row = current_session()
    if row is None:
        return None
    now = utcnow()
    _touch(row.id, now)
    set_committed_value(row, "last_seen_at", now)
    return row


def _touch(session_id: int, now: datetime) -> None:
    statement = update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
    if writes() and db.engine.dialect.name == "sqlite":
        # A writing request on SQLite holds the write lock in its own transaction: a second
        # connection would wait for it and fail, so the touch joins that transaction (and is
        # kept when the request commits).
        db.session.execute(statement)
        return
    # A short write of its own, so a GET request's reads stay in a read transaction.
    with write_intent(), db.engine.begin() as conn:
        conn.execute(statement)


def end_current_session() -> None:
    """Revoke this request's session and forget it in the cookie (the caller commits)."""
    token = session.get(SESSION_KEY)
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    session.clear()


def revoke_sessions(user: User, keep_current: bool = False) -> int:
    """Revoke every live session of `user` (optionally not this one); returns how many."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    token = session.get(SESSION_KEY) if keep_current else None
    if token:
        query = query.where(UserSession.token_hash != _hash(token))
    result = db.session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount or 0)
