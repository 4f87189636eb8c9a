"""A few seconds' cache of public pages for anonymous visitors (a "microcache"), per worker.

Only a GET from a visitor who is not signed in, has no flash message waiting and sends no cookie
but the session one is served from a cache. The CSP nonce and the CSRF token are stored as
placeholders and replaced by this request's own. A slice names its cache and the models whose
changes empty it (`watch`): any commit that adds, changes or deletes one empties that cache in
this worker at once; other workers catch up within the time to live.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_app_context, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.security import csp_nonce

PLACEHOLDER = "__portal_csp_nonce__"
CSRF_PLACEHOLDER = "__portal_csrf_token__"
MAX_ENTRIES = 512
_FLAG = "portal_page_caches_changed"


class _Watch:
    def __init__(self, models: Callable[[], tuple[type, ...]], on_clear: Callable[[], None] | None):
        self.models = models
        self.on_clear = on_clear


_WATCHES: dict[str, _Watch] = {}


def watch(
    name: str,
    models: Callable[[], tuple[type, ...]],
    on_clear: Callable[[], None] | None = None,
) -> None:
    """Empty the cache `name` whenever a commit touches one of `models()` (called lazily)."""
    _WATCHES[name] = _Watch(models, on_clear)


def _store(app: Flask, name: str) -> OrderedDict:
    return app.extensions.setdefault(f"{name}_page_cache", OrderedDict())


def clear(name: str, app: Flask | None = None) -> None:
    app = app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    if app is not None:
        _store(app, name).clear()


def clear_all(app: Flask | None = None) -> None:
    """Empty every page cache of this worker (e.g. when something shown on every page changes)."""
    app = app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    if app is not None:
        for key, store in app.extensions.items():
            if key.endswith("_page_cache"):
                store.clear()


def do_not_keep() -> None:
    """Called while rendering: serve this page but keep no copy (e.g. it must write each time)."""
    g.portal_page_cache_skip = True


def _cacheable() -> bool:
    if request.method != "GET" or current_user.is_authenticated:
        return False
    if set(request.cookies) - {current_app.config["SESSION_COOKIE_NAME"]}:
        return False
    # Flask-Login marks every session with "_fresh"; anything else means a personal session.
    return not (set(session.keys()) - {"csrf_token", "_fresh"})


def cached_page(name: str, ttl: float, render: Callable[[], str]) -> str:
    """Serve the page from cache `name` when allowed, else render it (and keep it when allowed)."""
    if ttl <= 0 or not _cacheable():
        return render()
    store = _store(current_app, name)
    key = (request.full_path, request.headers.get("HX-Request", ""))
    nonce = csp_nonce()
    token = generate_csrf()  # each visitor gets their own CSRF token, never the one cached
    hit = store.get(key)
    if hit is not None and time.monotonic() - hit[1] < ttl:
        return hit[0].replace(PLACEHOLDER, nonce).replace(CSRF_PLACEHOLDER, token)
    html = render()
    if g.pop("portal_page_cache_skip", False):
        return html
    store[key] = (
        html.replace(nonce, PLACEHOLDER).replace(token, CSRF_PLACEHOLDER),
        time.monotonic(),
    )
    store.move_to_end(key)
    while len(store) > MAX_ENTRIES:
        store.popitem(last=False)
    return html


def _touched(objects: Any, models: tuple[type, ...]) -> bool:
    return any(isinstance(o, models) for o in objects)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    for name, watched in _WATCHES.items():
        models = watched.models()
        if (
            _touched(session.new, models)
            or _touched(session.dirty, models)
            or _touched(session.deleted, models)
        ):
            session.info.setdefault(_FLAG, set()).add(name)


@event.listens_for(Session, "after_commit")
def _clear_after_commit(session: Session) -> None:
    names = session.info.pop(_FLAG, set())
    if not names or not has_app_context():
        return
    for name in names:
        clear(name)
        if _WATCHES[name].on_clear is not None:
            _WATCHES[name].on_clear()


@event.listens_for(Session, "after_rollback")
def _forget_flag(session: Session) -> None:
    session.info.pop(_FLAG, None)
