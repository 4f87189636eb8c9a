"""One POST of a form counts once: single-use submission tokens.

A form that creates something (a repair report, a planning comment) carries a hidden
`submission_token` field, written by `{{ submission_token_field() }}` in its template: a new token
each time the form is shown, and the same token again when the form is shown with errors (nothing
was created yet). The view asks `first_result(purpose, token)` before doing anything: a token
already used returns what its first POST created, and the view answers with that result (the
confirmation, the "received" banner) instead of creating a second one. Otherwise it creates the
thing and calls `commit_once(purpose, token, result)`, which adds a `SubmissionToken` row to the
same transaction and commits.

The row is unique on (purpose, token), so the guarantee holds across workers and nodes: on
SQLite a POST's transaction begins IMMEDIATE, so a second POST of the same form waits for the
first and then finds its row; on PostgreSQL two POSTs running side by side both insert, and the
second commit fails on the unique constraint, rolls back everything it added (the record, the
take-up row, the email) and answers with the first one's result.

A POST without a well-formed token (a page rendered before the form had one) is handled as
before, without the protection. Tokens are kept for `KEEP` and then purged daily.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import abort, g, has_request_context, request
from flask_login import current_user
from huey import crontab
from markupsafe import Markup, escape
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal.common.models import SubmissionToken, utcnow
from portal.db import write_intent
from portal.extensions import db
from portal.jobs import huey, with_app_context

FIELD = "submission_token"
KEEP = timedelta(days=30)
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
_ON_G = "portal_form_submission_token"  # the page's token, on flask.g


def new_token() -> str:
    return secrets.token_urlsafe(24)


def posted_token() -> str | None:
    """The token this POST carries, if it is well formed."""
    if not has_request_context() or request.method != "POST":
        return None
    value = request.form.get(FIELD, "")
    return value if _WELL_FORMED.match(value) else None


def form_token() -> str:
    """The token for the form being shown: the posted one again when a POST is re-shown with
    errors, otherwise a new one (the same for the whole page)."""
    if _ON_G not in g:
        setattr(g, _ON_G, posted_token() or new_token())
    return getattr(g, _ON_G)


def submission_token_field() -> Markup:
    """The hidden field, for templates."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(form_token()))


def _owner() -> int | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def first_result(purpose: str, token: str | None) -> str | None:
    """What the first POST with this token created (its `result`), or None if it is unused.

    A token recorded for another person is refused (400): tokens are issued to one person's
    page, so it can only be a forged or copied one.
    """
    if token is None:
        return None
    row = db.session.scalar(
        select(SubmissionToken).where(
            SubmissionToken.purpose == purpose, SubmissionToken.token == token
        )
    )
    if row is None:
        return None
    if row.user_id is not None and row.user_id != _owner():
        abort(400)
    return row.result


def claim(purpose: str, token: str | None, result: str) -> None:
    """Add the token's row to the current transaction (nothing without a token)."""
    if token is None:
        return
    db.session.add(
        SubmissionToken(
            purpose=purpose, token=token, user_id=_owner(), result=result, created_at=utcnow()
        )
    )


def commit_once(purpose: str, token: str | None, result: str) -> str:
    """Claim the token and commit what this request created; returns `result`.

    If another request with the same token committed first, everything this one added is rolled
    back and the first request's result is returned instead.
    """
    claim(purpose, token, result)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        earlier = first_result(purpose, token)
        if earlier is None:
            raise
        return earlier
    return result


def purge(now: datetime | None = None) -> int:
    """Forget tokens older than KEEP; returns how many were removed."""
    cutoff = (now or utcnow()) - KEEP
    result = db.session.execute(delete(SubmissionToken).where(SubmissionToken.created_at < cutoff))
    return result.rowcount or 0


@huey.periodic_task(crontab(hour="3", minute="10"))
@with_app_context
def purge_submission_tokens() -> int:
    with write_intent():
        removed = purge()
        db.session.commit()
    return removed
