"""Acting for a caller: staff use the resident screens for someone on the phone or at the desk.

A member of staff holding one of `services.ACTING_ROLES` chooses the channel (phone or face to
face) and a resident, and confirms. An `ActingSession` row ties the acting to the staff member's
own server-side session; the browser session holds only its id. On every request while it lasts,
`before_request`:

- checks the row is open, belongs to this browser's valid staff session, the staff member still
  holds an acting role, and the resident is an active resident (otherwise the row ends with a
  reason and the staff member carries on as themselves);
- makes the resident the request's `current_user`, so the slice screens work unchanged and what
  they create belongs to the resident;
- declares the channel with the staff member (`set_request_channel`), so every
  `record_transaction` names the resident as customer, the channel and the staff member;
- closes the account pages (password, email, sessions, data download, deletion, sign-in and
  sign-out) with a clear message;
- keeps the staff member to their own slice's screens (`services.ACTING_SCOPES`, by blueprint:
  housing to repairs, planning to planning, finance to payments, officer and library to forms;
  admin everywhere), plus the general pages. Anything else answers 403, saying so.

Starting needs the identity check the staff member made (`services.IDENTITY_CHECKS`), stored on
the row and audited; the resident's My council lists every acting record.

The resident's own sessions are never read or changed. Pressing End (or the staff session ending
by sign-out, revocation or timeout) ends acting.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, flash, g, request, session
from sqlalchemy import update

from portal.channels import services
from portal.channels.models import ActingSession
from portal.common.models import utcnow
from portal.common.transactions import set_request_channel
from portal.extensions import db, login_manager

SESSION_KEY = "acting_id"
CHANNEL_PHRASES = {"phone": "on a phone call", "face_to_face": "face to face"}
_QUIET_ENDPOINTS = {"assets.asset", "static", "health.healthz", "health.readyz"}
# Account pages stay with the resident: only "My council" (what they have done) is open.
_OPEN_ACCOUNT_ENDPOINTS = {"accounts.my_council"}
# Starting again while acting makes no sense: the staff member ends the current call first.
_CLOSED_CHANNEL_ENDPOINTS = {"channels.act_for_caller", "channels.act_start"}


def _invalid_reason(row: ActingSession | None) -> str | None:
    from portal.accounts.sessions import current_session

    if row is None or row.ended_at is not None:
        return "ended"
    if g.get("kiosk"):
        return "kiosk"
    staff_session = current_session()
    if staff_session is None or staff_session.id != row.staff_session_id:
        return "staff_session"
    if staff_session.user_id != row.staff_id or not services.can_act(row.staff):
        return "staff_role"
    if not services.can_be_acted_for(row.resident):
        return "resident"
    return None


def _end_quietly(row: ActingSession, reason: str) -> None:
    """End a row found invalid (a short write of its own on GET, as kiosk bookkeeping does)."""
    from portal.channels.kiosk import _write

    _write(
        update(ActingSession)
        .where(ActingSession.id == row.id, ActingSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        db.session.commit()


def blocked(endpoint: str | None) -> bool:
    if endpoint is None:
        return False
    if endpoint.startswith("accounts.") and endpoint not in _OPEN_ACCOUNT_ENDPOINTS:
        return True
    return endpoint in _CLOSED_CHANNEL_ENDPOINTS


def before_request() -> Response | tuple[str, int] | None:
    g.acting = None
    acting_id = session.get(SESSION_KEY)
    if not acting_id or request.endpoint in _QUIET_ENDPOINTS:
        return None
    row = db.session.get(ActingSession, acting_id) if isinstance(acting_id, int) else None
    reason = _invalid_reason(row)
    if reason is not None:
        if row is not None and row.ended_at is None:
            _end_quietly(row, reason)
        session.pop(SESSION_KEY, None)
        flash("You are no longer acting for a caller: that call has ended")
        return None
    assert row is not None and row.resident is not None
    g.acting = row
    login_manager._update_request_context_with_user(row.resident)
    set_request_channel(row.channel, row.staff_id)
    if blocked(request.endpoint):
        from portal.rendering import render_page

        return render_page("channels/acting_blocked.html", acting=row), 403
    if not services.may_open_while_acting(row.staff, request.endpoint):
        from portal.rendering import render_page

        return render_page(
            "channels/acting_out_of_scope.html",
            acting=row,
            as_staff=services.acting_roles_phrase(row.staff),
            scope=services.acting_slices_phrase(row.staff),
        ), 403
    return None


def my_council_section_visible(provider: Callable[..., object]) -> bool:
    """While acting, My council shows only the sections of the slices the staff member reaches
    (a section belongs to the slice whose package defines its provider), and who acted."""
    row = g.get("acting")
    if row is None:
        return True
    parts = provider.__module__.split(".")
    slice_name = parts[1] if len(parts) > 1 else ""
    if slice_name == "channels":
        return True
    return services.may_open_while_acting(row.staff, f"{slice_name}.my_council_section")


def context() -> dict[str, object]:
    """Template values for the "Acting for" banner."""
    row = g.get("acting")
    if row is None:
        return {"acting": None}
    return {"acting": row, "acting_phrase": CHANNEL_PHRASES.get(row.channel, row.channel)}


def init_app(app: Flask) -> None:
    """Register after the kiosk hooks (acting never runs on a kiosk terminal)."""
    app.before_request(before_request)
    app.context_processor(context)
    app.extensions["portal_my_council_visible"] = my_council_section_visible
    app.extensions.setdefault("portal_link_guards", []).append(link_open_while_acting)


def link_open_while_acting(endpoint: str) -> bool:
    """Links to pages the acting staff member's roles do not reach are not shown."""
    row = g.get("acting")
    return row is None or services.may_open_while_acting(row.staff, endpoint)
