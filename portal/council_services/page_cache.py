"""A few seconds' cache of the public A–Z pages for anonymous visitors (a "microcache").

Only a GET from a visitor who is not signed in, has no flash message waiting and sends no cookie
but the session one is served from it. The CSP nonce and the CSRF token are stored as placeholders
and replaced by this request's own. Any commit that changes a service, an interaction, a portal delivery or an
alert empties this worker's cache at once; other workers catch up within the time to live.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.security import csp_nonce

PLACEHOLDER = "__portal_csp_nonce__"
CSRF_PLACEHOLDER = "__portal_csrf_token__"
MAX_ENTRIES = 512
_FLAG = "council_services_changed"


def _store(app: Flask) -> OrderedDict:
    return app.extensions.setdefault("council_services_page_cache", OrderedDict())


def clear(app: Flask | None = None) -> None:
    app = app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    if app is not None:
        _store(app).clear()


def _cacheable() -> bool:
    if request.method != "GET" or current_user.is_authenticated:
        return False
    if set(request.cookies) - {current_app.config["SESSION_COOKIE_NAME"]}:
        return False
    # Flask-Login marks every session with "_fresh"; anything else means a personal session.
    return not (set(session.keys()) - {"csrf_token", "_fresh"})


def cached_page(render: Callable[[], str]) -> str:
    """Serve the page from the cache when allowed, else render it (and keep it when allowed)."""
    ttl = current_app.config["PORTAL"].services_page_cache_seconds
    if ttl <= 0 or not _cacheable():
        return render()
    store = _store(current_app)
    key = (request.full_path, request.headers.get("HX-Request", ""))
    nonce = csp_nonce()
    token = generate_csrf()  # each visitor gets their own CSRF token, never the one cached
    hit = store.get(key)
    if hit is not None and time.monotonic() - hit[1] < ttl:
        return hit[0].replace(PLACEHOLDER, nonce).replace(CSRF_PLACEHOLDER, token)
    html = render()
    store[key] = (
        html.replace(nonce, PLACEHOLDER).replace(token, CSRF_PLACEHOLDER),
        time.monotonic(),
    )
    store.move_to_end(key)
    while len(store) > MAX_ENTRIES:
        store.popitem(last=False)
    return html


def _watched(objects: Any) -> bool:
    from portal.common.models import PortalDelivery
    from portal.council_services.models import Interaction, Service, SiteAlert

    return any(isinstance(o, Service | Interaction | PortalDelivery | SiteAlert) for o in objects)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    if _watched(session.new) or _watched(session.dirty) or _watched(session.deleted):
        session.info[_FLAG] = True


@event.listens_for(Session, "after_commit")
def _clear_after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False) and has_app_context():
        clear()
        current_app.extensions.get("council_services_banner_cache", {})["at"] = -1e9


@event.listens_for(Session, "after_rollback")
def _forget_flag(session: Session) -> None:
    session.info.pop(_FLAG, None)
