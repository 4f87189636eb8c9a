"""Users and signed-in test clients, without going through the sign-in pages."""

from __future__ import annotations

import secrets

from flask import Flask
from flask.testing import FlaskClient

from portal.accounts.models import User, UserRole, UserSession
from portal.accounts.sessions import ABSOLUTE_TIMEOUT, SESSION_KEY, _hash
from portal.common.browser_sessions import new_browser_session
from portal.common.models import utcnow
from portal.extensions import db


def make_user(
    app: Flask, email: str | None = None, roles: tuple[str, ...] = (), name: str = "Test User"
) -> User:
    """Create a confirmed user holding `roles` (staff) or none (a resident)."""
    with app.app_context():
        user = User(
            email=email or f"user-{secrets.token_hex(4)}@example.com",
            display_name=name,
            email_confirmed_at=utcnow(),
        )
        user.role_rows = [UserRole(role=r) for r in roles]
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def new_session(app: Flask, user: User) -> str:
    """Store a valid server-side session for `user`; returns its token."""
    token = secrets.token_urlsafe(32)
    with app.app_context():
        now = utcnow()
        db.session.add(
            UserSession(
                token_hash=_hash(token),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + ABSOLUTE_TIMEOUT,
            )
        )
        db.session.commit()
    return token


def signed_session_cookie(app: Flask, user: User) -> str:
    """The session cookie's value as the portal signs it, for a new session of `user`."""
    token = new_session(app, user)
    return new_browser_session(app, {SESSION_KEY: token})


def sign_in(client: FlaskClient, user: User) -> str:
    """Give `client` a valid server-side session for `user`; returns the session token."""
    token = new_session(client.application, user)
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = token
    return token


def client_for(app: Flask, user: User | None) -> FlaskClient:
    """A new test client, signed in as `user` (or anonymous for None)."""
    client = app.test_client()
    if user is not None:
        sign_in(client, user)
    return client
