"""Kiosk mode: recognise an enrolled library terminal, track its visitor session, reset it.

A terminal carries one long-lived cookie, `kiosk`, naming its library and holding a random device
token (only its SHA-256 is stored). Each visitor gets a KioskSession whose last activity the
server keeps, so an idle session ends server-side even without JavaScript (on the next request,
or by the periodic reaper). Ending a session revokes any sign-in made on the terminal, ends any
staff assistance, and answers with `Clear-Site-Data` and expired cookies, keeping only the
device cookie. Every kiosk page is sent with `autocomplete="off"` on each form and field.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import UserSession
from portal.channels.models import KioskDevice, KioskSession
from portal.common.models import utcnow
from portal.common.transactions import set_request_channel
from portal.db import write_intent
from portal.extensions import db

DEVICE_COOKIE = "kiosk"
SESSION_KEY = "kiosk_sid"
CONTRAST_KEY = "kiosk_contrast"
DEVICE_COOKIE_AGE = timedelta(days=400)  # browsers cap cookie lifetimes at 400 days
CLEAR_SITE_DATA = '"cache", "storage"'
# Endpoints that never need the kiosk machinery (static assets, health checks).
_QUIET_ENDPOINTS = {"assets.asset", "static", "health.healthz", "health.readyz"}
# Endpoints reachable while the resident has not yet answered the consent question.
_DURING_CONSENT = {
    "channels.assist_consent",
    "channels.start_again",
    "channels.still_here",
    "channels.kiosk_start",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "library"


def new_assist_code() -> str:
    """A short code library staff type with their credentials to start assisted access."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


def code_matches(device: KioskDevice, code: str) -> bool:
    cleaned = re.sub(r"[\s-]", "", code).upper()
    return hmac.compare_digest(device.assist_code_hash, token_hash(cleaned))


def enrol_device(library: str, terminal: str, staff_id: int) -> tuple[KioskDevice, str, str]:
    """Create a kiosk device; returns it, its cookie value and its assist code (caller commits)."""
    token = secrets.token_urlsafe(32)
    code = new_assist_code()
    device = KioskDevice(
        library=library,
        library_slug=slugify(library),
        terminal=terminal,
        token_hash=token_hash(token),
        assist_code_hash=token_hash(code),
        enrolled_by_id=staff_id,
    )
    db.session.add(device)
    return device, f"{device.library_slug}.{token}", code


def _settings():  # noqa: ANN202
    return current_app.config["PORTAL"]


def idle_limit() -> timedelta:
    """After this long without activity the server ends a kiosk session (warning included)."""
    settings = _settings()
    return timedelta(seconds=settings.kiosk_idle_seconds + settings.kiosk_warning_seconds)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _device_from_cookie() -> tuple[KioskDevice | None, bool]:
    """(device, cookie_present) for this request's device cookie."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None, False
    slug, _, token = raw.rpartition(".")
    if not token:
        return None, True
    device = db.session.scalar(
        select(KioskDevice).where(KioskDevice.token_hash == token_hash(token))
    )
    if device is None or device.revoked_at is not None or device.library_slug != slug:
        return None, True
    return device, True


def end_kiosk_session(row: KioskSession, reason: str) -> None:
    """Mark a kiosk session ended and revoke any sign-in made during it (caller commits)."""
    now = utcnow()
    if row.ended_at is None:
        row.ended_at = now
        row.end_reason = reason
    if row.assisted_by_id and row.assist_ended_at is None:
        row.assist_ended_at = now
    if row.user_session_id:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == row.user_session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def reset_response(target: str, reason: str) -> Response:
    """End this browser's kiosk visit: forget the session, clear site data, keep the device."""
    from portal.accounts.sessions import SESSION_KEY as USER_SESSION_KEY
    from portal.accounts.sessions import end_current_session

    row = g.get("kiosk_session")
    if row is not None:
        end_kiosk_session(row, reason)
    if session.get(USER_SESSION_KEY):
        end_current_session()
    session.clear()
    response = redirect(target, code=303)
    mark_cleared(response)
    return response


def mark_cleared(response: Response) -> None:
    """Clear-Site-Data plus explicit expiry of every cookie except the device token."""
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    session_cookie = current_app.config["SESSION_COOKIE_NAME"]
    for name in request.cookies:
        if name not in (DEVICE_COOKIE, session_cookie):
            response.delete_cookie(name)
    g.kiosk_cleared = True


def _idle_reset() -> Response:
    """The visit already ended on the server: forget it in the browser too."""
    from portal.accounts.sessions import SESSION_KEY as USER_SESSION_KEY
    from portal.accounts.sessions import _hash

    user_token = session.get(USER_SESSION_KEY)
    if user_token:
        _write(
            update(UserSession)
            .where(UserSession.token_hash == _hash(user_token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        db.session.commit()
    session.clear()
    response = redirect(url_for("channels.kiosk_start", ended="idle"), code=303)
    mark_cleared(response)
    return response


def set_device_cookie(response: Response, value: str) -> None:
    settings = _settings()
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
        secure=settings.base_url.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )


def _write(*statements):  # noqa: ANN002, ANN202
    """Run kiosk bookkeeping writes: in a short transaction of their own for GET requests (so
    the request's reads stay read-only), in the request's own transaction otherwise (a second
    SQLite writer would wait on the request's own lock)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        with write_intent(), db.engine.begin() as conn:
            return [conn.execute(statement) for statement in statements]
    return [db.session.execute(statement) for statement in statements]


def _new_kiosk_session(device: KioskDevice) -> KioskSession:
    token = secrets.token_urlsafe(24)
    now = utcnow()
    (result,) = _write(
        KioskSession.__table__.insert().values(
            device_id=device.id,
            token_hash=token_hash(token),
            started_at=now,
            last_activity_at=now,
        )
    )
    new_id = result.inserted_primary_key[0]
    session[SESSION_KEY] = token
    # The row was written on a connection of its own; give this session its state directly
    # (a SQLite read transaction already open here would not see it yet).
    row = KioskSession(
        id=new_id,
        device_id=device.id,
        token_hash=token_hash(token),
        started_at=now,
        last_activity_at=now,
    )
    for name in (
        "ended_at",
        "end_reason",
        "user_session_id",
        "assisted_by_id",
        "assist_started_at",
        "assist_consent_at",
        "assist_ended_at",
    ):
        setattr(row, name, None)
    make_transient_to_detached(row)
    db.session.add(row)
    return row


def _touch(row: KioskSession, user_session_id: int | None) -> None:
    """Record activity in a short write of its own (so GET requests stay read-only otherwise)."""
    values: dict[str, object] = {"last_activity_at": utcnow()}
    if user_session_id and row.user_session_id != user_session_id:
        values["user_session_id"] = user_session_id
    _write(update(KioskSession).where(KioskSession.id == row.id).values(**values))
    for name, value in values.items():
        set_committed_value(row, name, value)


def _end_idle(row: KioskSession) -> None:
    now = utcnow()
    statements = [
        update(KioskSession)
        .where(KioskSession.id == row.id, KioskSession.ended_at.is_(None))
        .values(ended_at=now, end_reason="idle")
    ]
    if row.user_session_id:
        statements.append(
            update(UserSession)
            .where(UserSession.id == row.user_session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    _write(*statements)
    set_committed_value(row, "ended_at", now)
    set_committed_value(row, "end_reason", "idle")


def before_request() -> Response | None:
    g.kiosk = False
    g.kiosk_device = None
    g.kiosk_session = None
    g.kiosk_drop = False
    g.kiosk_token = None
    if request.endpoint in _QUIET_ENDPOINTS or request.path.startswith("/assets/"):
        return None
    device, present = _device_from_cookie()
    if device is None:
        g.kiosk_drop = present  # a revoked or unknown token: leave kiosk mode
        return None
    g.kiosk = True
    g.kiosk_device = device
    set_request_channel("kiosk")

    row = None
    token = session.get(SESSION_KEY)
    if token:
        row = db.session.scalar(
            select(KioskSession).where(
                KioskSession.token_hash == token_hash(token), KioskSession.device_id == device.id
            )
        )
    now = utcnow()
    if row is not None and (
        row.ended_at is not None or _aware(row.last_activity_at) + idle_limit() <= now
    ):
        if row.ended_at is None:
            _end_idle(row)
        g.kiosk_session = None
        return _idle_reset()
    if row is None:
        # A new visit: track it from now.
        row = _new_kiosk_session(device)
        token = session[SESSION_KEY]
    # Kept so a sign-in (which starts a brand-new browser session) cannot end the visit, nor
    # the staff help given in it: see `after_request`.
    g.kiosk_token = token
    from portal.accounts.sessions import current_session

    user_session = current_session()
    user_session_id = user_session.id if user_session else None
    touch_after = timedelta(seconds=_settings().kiosk_touch_seconds)
    if now - _aware(row.last_activity_at) >= touch_after or (
        user_session_id and row.user_session_id != user_session_id
    ):
        _touch(row, user_session_id)
    g.kiosk_session = row
    if row.assist_active:
        set_request_channel("kiosk_assisted", row.assisted_by_id)
    elif row.assist_pending and request.endpoint not in _DURING_CONSENT:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            db.session.commit()
        return redirect(url_for("channels.assist_consent"), code=303)
    return None


# Every form and field tag of a kiosk page (attribute values never hold ">": Jinja escapes it).
_FIELD_TAG = re.compile(rb"<(form|input|select|textarea)(\s[^>]*)?>", re.IGNORECASE)
# One attribute: quoted values are consumed whole, so text inside a value is never an attribute.
_ATTRIBUTE = re.compile(rb"""\s*([^\s"'>/=]+)(\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?|\s*/""")
# Input types autofill never fills (and where the attribute is not allowed).
_NO_AUTOFILL_TYPES = {
    b"hidden", b"checkbox", b"radio", b"file", b"submit", b"image", b"reset", b"button"
}  # fmt: skip


def _autocomplete_off(match: re.Match[bytes]) -> bytes:
    name, attributes = match.group(1), match.group(2) or b""
    kept = []
    kind = b"text"
    for attribute in _ATTRIBUTE.finditer(attributes):
        attr_name = (attribute.group(1) or b"").lower()
        if attr_name == b"type" and attribute.group(2):
            kind = attribute.group(2).split(b"=", 1)[1].strip().strip(b"\"'").lower()
        if attr_name and attr_name != b"autocomplete":
            kept.append(b" " + attribute.group(0).strip())
    if name.lower() == b"input" and kind in _NO_AUTOFILL_TYPES:
        return match.group(0)
    return b"<" + name + b"".join(kept) + b' autocomplete="off">'


def without_autocomplete(body: bytes) -> bytes:
    """Every form and text field of a page with autocomplete="off", whatever the template said.

    Field-level values such as "email" or "postal-code" override the form's "off", so each field
    is rewritten: a shared terminal must not offer one visitor's details to the next.
    """
    return _FIELD_TAG.sub(_autocomplete_off, body)


def after_request(response: Response) -> Response:
    if g.get("kiosk_drop"):
        response.delete_cookie(DEVICE_COOKIE)
        return response
    if not g.get("kiosk"):
        return response
    row = g.get("kiosk_session")
    if (
        row is not None
        and row.ended_at is None
        and not g.get("kiosk_cleared")
        and g.get("kiosk_token")
        and session.get(SESSION_KEY) != g.kiosk_token
    ):
        # Signing in (or out) renews the browser session; the visit and any help go on until
        # the help is handed back or the visit ends.
        session[SESSION_KEY] = g.kiosk_token
    # The browser-session cookie only: never a "remember me" session on a shared terminal.
    session.permanent = False
    # Nothing a visitor saw may be kept: not in the cache, not for the back button.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Pragma", "no-cache")
    # No persistent cookies on a kiosk except the device token: others become session cookies.
    kept = []
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        lowered = header.lower()
        expiring = "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered
        if name != DEVICE_COOKIE and not expiring:
            header = re.sub(r";\s*(Expires=[^;]*|Max-Age=\d+)", "", header, flags=re.IGNORECASE)
        kept.append(header)
    if kept:
        response.headers.remove("Set-Cookie")
        for header in kept:
            response.headers.add("Set-Cookie", header)
    # Browsers must not remember what visitors type on a shared terminal, nor offer it to the
    # next visitor: every page and htmx fragment, whichever slice's macros built its fields.
    if response.mimetype == "text/html" and not response.direct_passthrough:
        response.set_data(without_autocomplete(response.get_data()))
    return response


def context() -> dict[str, object]:
    """Template values for the kiosk header, idle warning and "Assisted by"."""
    if not g.get("kiosk"):
        return {"kiosk_mode": False}
    settings = _settings()
    row = g.get("kiosk_session")
    return {
        "kiosk_mode": True,
        "kiosk_device": g.kiosk_device,
        "kiosk_contrast": bool(session.get(CONTRAST_KEY)),
        "kiosk_assisted_by": row.assisted_by if row is not None and row.assist_active else None,
        "kiosk_idle_seconds": settings.kiosk_idle_seconds,
        "kiosk_warning_seconds": settings.kiosk_warning_seconds,
    }


def reap_idle_sessions() -> int:
    """End every kiosk session idle past the limit (the periodic job); returns how many."""
    cutoff = utcnow() - idle_limit()
    rows = db.session.scalars(
        select(KioskSession).where(
            KioskSession.ended_at.is_(None), KioskSession.last_activity_at <= cutoff
        )
    ).all()
    for row in rows:
        end_kiosk_session(row, "idle")
    db.session.commit()
    return len(rows)


def init_app(app: Flask) -> None:
    app.before_request(before_request)
    app.after_request(after_request)
    app.context_processor(context)

    @app.before_request
    def _g_kiosk_for_accounts() -> None:  # g.kiosk is read by the accounts slice
        g.setdefault("kiosk", False)
