"""Server-side sessions: the cookie carries a random session id; the row decides if it is valid.

A session ends when it is revoked (sign-out, disablement, an admin's "end sessions"), after
IDLE_TIMEOUT without a request, or ABSOLUTE_TIMEOUT after sign-in, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import request, session
from sqlalchemy import select, update

from portal.accounts.models import User, UserSession
from portal.common.models import utcnow
from portal.db import write_intent
from portal.extensions import db

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
REMEMBER_TIMEOUT = timedelta(days=30)  # "remember me": absolute, no idle timeout
TOUCH_INTERVAL = timedelta(seconds=60)
SESSION_KEY = "sid"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_session(user: User, remember: bool = False) -> UserSession:
    """Sign `user` in with a brand-new session id (the caller commits).

    `remember` keeps the cookie after the browser closes for REMEMBER_TIMEOUT at most, with no idle
    timeout; otherwise the session ends after IDLE_TIMEOUT idle or ABSOLUTE_TIMEOUT in all.
    """
    session.clear()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + (REMEMBER_TIMEOUT if remember else ABSOLUTE_TIMEOUT),
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
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or _aware(row.expires_at) <= now
        or (not row.remember and _aware(row.last_seen_at) + IDLE_TIMEOUT <= now)
        or row.user.disabled_at is not None
    ):
        return None
    if now - _aware(row.last_seen_at) >= TOUCH_INTERVAL:
        _touch(row.id, now)
    return row


def _touch(session_id: int, now: datetime) -> None:
    # A short write of its own, so a GET request's reads stay in a read transaction.
    with write_intent(), db.engine.begin() as conn:
        conn.execute(
            update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
        )


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
