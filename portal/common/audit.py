"""The audit log of staff actions: who did what to which object, when and from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, select

from portal.common.models import AuditEvent
from portal.extensions import db


def record_audit(
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    details: dict[str, Any] | None = None,
    actor: Any | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits with its change)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or {},
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
    )
    if has_request_context():
        event.ip_address = request.remote_addr
        event.user_agent = (request.user_agent.string or "")[:300]
    db.session.add(event)
    return event


def search_audit(
    text: str = "", action: str = "", object_type: str = "", actor_email: str = ""
) -> Select[tuple[AuditEvent]]:
    """A query for audit events matching the given filters, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if actor_email:
        query = query.where(AuditEvent.actor_email.ilike(f"%{actor_email}%"))
    if text:
        like = f"%{text}%"
        query = query.where(
            AuditEvent.action.ilike(like)
            | AuditEvent.object_id.ilike(like)
            | AuditEvent.actor_email.ilike(like)
        )
    return query
