"""The email outbox: rows written with the change that causes them, delivered by a job.

`queue_email` only adds a row to the current session; whatever commits the change commits the
email with it, and a rollback drops both. After a commit that added emails, a delivery job is
queued. Delivery claims one row at a time (so two workers never send the same row), sends it to
an .eml file in instance/outbox/ or through SMTP, and marks it sent; a failure schedules a retry
with exponential back-off and, after MAX_ATTEMPTS, marks the row failed for staff to see.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from huey import crontab
from sqlalchemy import event, insert, or_, select, update
from sqlalchemy.orm import Session

from portal.common.models import OutboxEmail, utcnow
from portal.db import write_intent
from portal.extensions import db
from portal.jobs import huey, with_app_context

log = logging.getLogger(__name__)

# Lines may be up to RFC 5322's 998 characters, so a long URL header (List-Unsubscribe, RFC 2369)
# is sent as a plain <https://…> value; the default 78 turns it into an RFC 2047 encoded word,
# which mail clients do not read as a URL.
MESSAGE_POLICY = default_policy.clone(max_line_length=998)
MAX_ATTEMPTS = 10
CLAIM_SECONDS = 300
_SESSION_FLAG = "portal_outbox_queued"


def queue_email(
    to: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> OutboxEmail:
    """Add an email to the outbox in the current transaction (the caller commits)."""
    domain = current_app.config["PORTAL"].base_url.split("//")[-1].split(":")[0].split("/")[0]
    email = OutboxEmail(
        to_address=to,
        subject=subject,
        body_text=body,
        headers=headers or {},
        status=OutboxEmail.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        message_id=make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain or "portal.local"),
    )
    db.session.add(email)
    db.session.info[_SESSION_FLAG] = True
    return email


def queue_emails(messages: list[tuple[str, str, str, dict[str, str] | None]]) -> int:
    """Add many emails (to, subject, body, headers) in one INSERT, for a fan-out such as the bin
    reminders; like `queue_email` the caller commits, and a rollback drops them all."""
    if not messages:
        return 0
    domain = current_app.config["PORTAL"].base_url.split("//")[-1].split(":")[0].split("/")[0]
    now = utcnow()
    rows = [
        {
            "to_address": to,
            "subject": subject,
            "body_text": body,
            "headers": headers or {},
            "status": OutboxEmail.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "message_id": make_msgid(
                idstring=uuid.uuid4().hex[:12], domain=domain or "portal.local"
            ),
        }
        for to, subject, body, headers in messages
    ]
    db.session.execute(insert(OutboxEmail), rows)
    db.session.info[_SESSION_FLAG] = True
    return len(rows)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_SESSION_FLAG, False):
        try:
            deliver_outbox_task()
        except Exception:  # the emails are saved: the periodic sweep sends them instead
            log.warning(
                "could not queue email delivery; the outbox sweep will send it", exc_info=True
            )


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_FLAG, None)


@huey.task()
@with_app_context
def deliver_outbox_task() -> int:
    return deliver_pending()


@huey.periodic_task(crontab(minute="*"))
@with_app_context
def deliver_outbox_periodically() -> int:
    return deliver_pending()


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts`: 1, 2, 4 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def deliver_pending(now: datetime | None = None, limit: int = 200) -> int:
    """Send every due pending email once; returns how many were sent.

    Uses its own session, committing after each claim and each send. On SQLite call it outside a
    transaction of `db.session` (commit or roll back first): an open write transaction there
    holds the database lock this function needs.
    """
    sent = 0
    with write_intent(), Session(db.engine) as session:
        now = now or utcnow()
        due_ids = session.scalars(
            select(OutboxEmail.id)
            .where(OutboxEmail.status == OutboxEmail.PENDING, OutboxEmail.next_attempt_at <= now)
            .where(or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now))
            .order_by(OutboxEmail.id)
            .limit(limit)
        ).all()
        session.commit()
        for email_id in due_ids:
            if _claim(session, email_id, now):
                sent += _send_claimed(session, email_id)
    return sent


def hold_pending() -> int:
    """Keep every pending email back (a restored database must not send them again); returns
    how many were held. Delivery only sends `pending` rows, so held ones wait for release."""
    return _move(OutboxEmail.PENDING, OutboxEmail.HELD)


def release_held() -> int:
    """Put every held email back in the queue; returns how many were released."""
    return _move(OutboxEmail.HELD, OutboxEmail.PENDING)


def _move(from_status: str, to_status: str) -> int:
    with write_intent(), Session(db.engine) as session:
        result = session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.status == from_status)
            .values(status=to_status, claimed_until=None)
        )
        session.commit()
        return result.rowcount


def _claim(session: Session, email_id: int, now: datetime) -> bool:
    result = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.status == OutboxEmail.PENDING)
        .where(or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now))
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )
    session.commit()
    return result.rowcount == 1


def _send_claimed(session: Session, email_id: int) -> int:
    email = session.get(OutboxEmail, email_id)
    if email is None:
        return 0
    try:
        transport_send(build_message(email))
    except Exception as exc:  # any transport failure is retried, never lost
        email.attempts += 1
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        email.claimed_until = None
        if email.attempts >= MAX_ATTEMPTS:
            email.status = OutboxEmail.FAILED
            log.error("email %s failed for good: %s", email.id, email.last_error)
        else:
            email.next_attempt_at = utcnow() + backoff(email.attempts)
            log.warning("email %s failed (attempt %s): %s", email.id, email.attempts, exc)
        session.commit()
        return 0
    email.attempts += 1
    email.status = OutboxEmail.SENT
    email.sent_at = utcnow()
    email.claimed_until = None
    email.last_error = None
    session.commit()
    return 1


def build_message(email: OutboxEmail) -> EmailMessage:
    settings = current_app.config["PORTAL"]
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at if email.created_at.tzinfo else utcnow())
    message["Message-ID"] = email.message_id
    for name, value in (email.headers or {}).items():
        message[name] = value
    message.set_content(email.body_text)
    return message


def transport_send(message: EmailMessage) -> None:
    """Send through SMTP when PORTAL_SMTP_URL is set, otherwise write an .eml file."""
    smtp_url = current_app.config["PORTAL"].smtp_url
    if smtp_url:
        _send_smtp(smtp_url, message)
    else:
        _write_eml(Path(current_app.config["OUTBOX_DIR"]), message)


def _write_eml(directory: Path, message: EmailMessage) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stem = message["Message-ID"].strip("<>").split("@")[0]
    path = directory / f"{utcnow():%Y%m%dT%H%M%S}-{stem}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(message))
    tmp.replace(path)
    return path


def _send_smtp(smtp_url: str, message: EmailMessage) -> None:
    parts = urlsplit(smtp_url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or "localhost"
    timeout = float(options.get("timeout", "30"))
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with client:
        if parts.scheme == "smtp" and options.get("starttls", "").lower() in {"1", "true", "yes"}:
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
