"""Browser sessions kept on the server: the session cookie holds only a random id (decision 0006).

Flask's default session is a signed cookie carrying the whole session (the signed-in session's
id, form drafts, a pending sign-in): readable by anyone holding the cookie, and sent back and
forth on every request. Here the cookie is the signed random id alone; what the session holds is
a `BrowserSession` row keyed by the id's SHA-256, so a copy of the table cannot be replayed.

- A row is written only when the session's contents change, and deleted when it is emptied.
- The CSRF token is not stored at all: it is derived from the id with the secret key, so a visitor
  who is only shown a form gets a cookie and no row, and an anonymous page that shows no form sets
  no cookie.
- `session.clear()` (signing in, signing out, the kiosk's "start again") gives the browser a new
  id and deletes the old row, so an id seen before sign-in is worthless after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SessionInterface
from huey import crontab
from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, select

from portal.db import set_write_intent, write_intent, writes
from portal.jobs import huey, with_app_context

CSRF_KEY = "csrf_token"
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}
_SERIALIZER = TaggedJSONSerializer()


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(SecureCookieSession):
    """A session dictionary whose contents live in the database under a random id."""

    def __init__(
        self, initial: dict[str, Any] | None = None, sid: str | None = None, stored: bool = False
    ) -> None:
        super().__init__(initial)
        self.sid = sid  # the id the browser sent (or was given this request)
        self.stored = stored  # a row exists for `sid`
        self.old_sid: str | None = None  # an id given up by clear(), whose row goes
        self.issued = False  # a new id this request: the cookie must be set
        self.csrf_secret = b""

    # The CSRF token is derived from the id, never stored.
    def _ensure_sid(self) -> str:
        if self.sid is None:
            self.sid = secrets.token_urlsafe(32)
            self.issued = True
        return self.sid

    def csrf_value(self) -> str:
        sid = self._ensure_sid()
        return hmac.new(self.csrf_secret, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()

    def __contains__(self, key: object) -> bool:
        if key == CSRF_KEY:
            return self.sid is not None
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        if key == CSRF_KEY:
            self.accessed = True
            return self.csrf_value()
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key == CSRF_KEY:
            return self[CSRF_KEY] if self.sid is not None else default
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        if key == CSRF_KEY:
            self.accessed = True
            self._ensure_sid()  # Flask-WTF asks for a token: the browser needs an id
            return
        super().__setitem__(key, value)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key == CSRF_KEY:
            self[CSRF_KEY] = default
            return self[CSRF_KEY]
        return super().setdefault(key, default)

    def pop(self, key: str, *args: Any) -> Any:
        if key == CSRF_KEY:
            return args[0] if args else None
        return super().pop(key, *args)

    def clear(self) -> None:
        """Forget everything and give the browser a new id (the old row is deleted)."""
        if self.sid is not None and not self.issued:
            self.old_sid = self.sid
        self.sid = None
        self.issued = False
        self.stored = False
        super().clear()


class ServerSessionInterface(SessionInterface):
    """Loads and saves `ServerSession`s in the `browser_sessions` table."""

    salt = "portal-browser-session"

    def _signer(self, app: Flask) -> Signer | None:
        if not app.secret_key:
            return None
        return Signer(app.secret_key, salt=self.salt, digest_method=hashlib.sha256)

    def cookie_value(self, app: Flask, sid: str, stored: bool = True) -> str:
        """The signed id, marked "s" when the session has a row and "e" when it has none (so a
        visitor who only holds a CSRF token costs no database read)."""
        signer = self._signer(app)
        assert signer is not None
        return signer.sign(f"{sid}.{'s' if stored else 'e'}").decode()

    def _new(self, app: Flask, **kwargs: Any) -> ServerSession:
        session = ServerSession(**kwargs)
        session.csrf_secret = str(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key).encode()
        return session

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        signer = self._signer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self._new(app)
        try:
            sid, _, mark = signer.unsign(value).decode().partition(".")
        except BadSignature:
            return self._new(app)
        if mark == "e":
            return self._new(app, sid=sid)
        from portal.common.models import BrowserSession, utcnow
        from portal.extensions import db

        # The session is opened before the before-request hooks: declare the request's write
        # intent now, so a GET's first transaction (this read) begins as a reader on SQLite.
        set_write_intent(request.method not in READ_ONLY_METHODS)
        row = db.session.execute(
            select(BrowserSession.data, BrowserSession.expires_at).where(
                BrowserSession.id_hash == _hash(sid)
            )
        ).first()
        if row is None:
            return self._new(app, sid=sid)
        expires = row.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires <= utcnow():
            # Ended: an empty session under a new id; the old row goes when this one is saved.
            session = self._new(app)
            session.old_sid = sid
            return session
        return self._new(app, initial=_SERIALIZER.loads(row.data), sid=sid, stored=True)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if session.accessed:
            response.vary.add("Cookie")

        was_stored = session.stored
        statements = []
        if session.old_sid is not None:
            statements.append(_delete(session.old_sid))
        if session.modified or session.old_sid is not None:
            if session:
                sid = session._ensure_sid()
                statements.append(_upsert(sid, dict(session), app))
                session.stored = True
            elif session.stored and session.sid is not None:
                statements.append(_delete(session.sid))
                session.stored = False
        if statements:
            _write(statements)

        if session.sid is None:
            if session.old_sid is not None:
                response.delete_cookie(
                    name,
                    domain=domain,
                    path=path,
                    secure=self.get_cookie_secure(app),
                    httponly=self.get_cookie_httponly(app),
                    samesite=self.get_cookie_samesite(app),
                    partitioned=self.get_cookie_partitioned(app),
                )
                response.vary.add("Cookie")
            return
        permanent_changed = session.modified and "_permanent" in session
        if not (session.issued or permanent_changed or session.stored != was_stored):
            return
        response.set_cookie(
            name,
            self.cookie_value(app, session.sid, session.stored),
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app),
        )
        response.vary.add("Cookie")


def _lifetime(app: Flask) -> timedelta:
    lifetime = app.permanent_session_lifetime
    return lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=lifetime)


def _delete(sid: str) -> Any:
    from portal.common.models import BrowserSession

    return delete(BrowserSession).where(BrowserSession.id_hash == _hash(sid))


def _upsert(sid: str, data: dict[str, Any], app: Flask) -> Any:
    from portal.common.models import BrowserSession, utcnow

    now = utcnow()
    values = {
        "data": _SERIALIZER.dumps(data),
        "updated_at": now,
        "expires_at": now + _lifetime(app),
    }
    # Always an upsert: the row may exist though the cookie says it does not (a worker stopped
    # after committing, before its response; two tabs' first writes at once), or be gone though
    # the cookie says it exists (purged while the request ran).
    from portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(BrowserSession).values(id_hash=_hash(sid), **values)
    return statement.on_conflict_do_update(index_elements=["id_hash"], set_=values)


def _write(statements: list[Any]) -> None:
    """Run the session's writes in a short transaction of their own.

    On SQLite a writing request may still hold the database's write lock in its own transaction
    (a read after its commit began a new one): a second connection would wait for it, so the
    writes join that transaction and commit it (as the request would have).
    """
    from portal.extensions import db

    if writes() and db.engine.dialect.name == "sqlite" and db.session().in_transaction():
        for statement in statements:
            db.session.execute(statement)
        db.session.commit()
        return
    with write_intent(), db.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def purge_expired_browser_sessions() -> int:
    """Delete the rows of sessions past their end; returns how many (the caller commits)."""
    from portal.common.models import BrowserSession, utcnow
    from portal.extensions import db

    result = db.session.execute(delete(BrowserSession).where(BrowserSession.expires_at <= utcnow()))
    return int(result.rowcount or 0)


def new_browser_session(app: Flask, data: dict[str, Any]) -> str:
    """Store a session holding `data` and return its cookie value (for tools and tests)."""
    sid = secrets.token_urlsafe(32)
    with app.app_context():
        _write([_upsert(sid, data, app)])
    return ServerSessionInterface().cookie_value(app, sid)


def stored_data(app: Flask, cookie_value: str) -> dict[str, Any]:
    """What the session behind a cookie value holds ({} when nothing), for tools and tests."""
    from flask import Request

    request = Request.from_values(
        headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie_value}"}
    )
    with app.app_context():
        session = ServerSessionInterface().open_session(app, request)
        return dict(session or {})


@huey.periodic_task(crontab(minute="25"))
@with_app_context
def purge_browser_sessions_hourly() -> int:
    from portal.extensions import db

    count = purge_expired_browser_sessions()
    db.session.commit()
    return count


def init_app(app: Flask) -> None:
    app.session_interface = ServerSessionInterface()
