"""Domain functions of the channels slice: staff credentials, resident search, contacts, acting."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from portal.accounts.models import User, UserRole, UserSession
from portal.channels.models import ActingSession, ContactRecord
from portal.common.audit import record_audit
from portal.common.models import utcnow
from portal.common.references import new_reference
from portal.common.transactions import record_transaction, set_request_channel
from portal.extensions import db

CONTACT_ROLES = ("officer", "library", "admin")
STAFF_CHANNELS = ("phone", "face_to_face")
# Who may act for a caller: the contact roles, and the service roles whose staff answer the
# public (housing books repairs, planning takes comments, finance takes payments by phone).
ACTING_ROLES = (*CONTACT_ROLES, "housing", "planning", "finance")


def verify_staff_password(user: User, password: str) -> bool:
    """Check a member of staff's password with the accounts slice's hasher."""
    from portal.accounts.passwords import verify_password

    return verify_password(user.password_hash, password)


def check_library_staff(email: str, password: str) -> User | None:
    """The active `library` staff member with these credentials, or None."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or user.disabled_at is not None or not user.has_role("library"):
        # Spend comparable time so a wrong email is not faster than a wrong password.
        from werkzeug.security import check_password_hash, generate_password_hash

        check_password_hash(generate_password_hash("timing-equaliser"), password or "x")
        return None
    return user if verify_staff_password(user, password) else None


def find_residents(query: str, limit: int = 20) -> list[User]:
    """Residents (users without staff roles) matching a name, an email or an address.

    Addresses are held by other slices: each may register
    `app.extensions["portal_resident_finders"]`, callables `(query) -> list[user_id]`.
    """
    from flask import current_app

    text = query.strip()
    if len(text) < 2:
        return []
    like = f"%{text.lower()}%"
    staff_ids = select(UserRole.user_id)
    ids: set[int] = set()
    for finder in current_app.extensions.get("portal_resident_finders", []):
        ids.update(finder(text))
    condition = or_(func.lower(User.display_name).like(like), func.lower(User.email).like(like))
    if ids:
        condition = or_(condition, User.id.in_(ids))
    return list(
        db.session.scalars(
            select(User)
            .where(condition, User.id.not_in(staff_ids), User.disabled_at.is_(None))
            .order_by(User.display_name, User.email)
            .limit(limit)
        )
    )


def _reference_exists(reference: str) -> bool:
    return (
        db.session.scalar(select(ContactRecord.id).where(ContactRecord.reference == reference))
        is not None
    )


def record_contact(
    *,
    lgsl: int,
    summary: str,
    staff: User,
    resident: User | None,
    channel: str | None,
) -> ContactRecord:
    """Record an enquiry answered for a resident and count it once (the caller commits).

    `channel` is phone or face_to_face for contact-centre work; None takes the request's
    channel (kiosk_assisted during assisted access, with the assisting staff member).
    """
    if channel is not None:
        # The staff member acts for someone else: the record must not name them as the customer.
        set_request_channel(channel, staff.id)
    contact = ContactRecord(
        reference=new_reference("CT", _reference_exists),
        lgsl=lgsl,
        lgil=8,
        channel=channel or "",
        resident_id=resident.id if resident else None,
        staff_id=staff.id,
        summary=summary,
    )
    row = record_transaction(
        "contact",
        lgsl,
        8,
        contact.reference,
        user_id=resident.id if resident else None,
        channel=channel,
        staff_id=staff.id,
    )
    contact.channel = row.channel
    db.session.add(contact)
    record_audit(
        "contact.recorded",
        "contact",
        contact.reference,
        {"lgsl": lgsl, "channel": row.channel, "resident_id": contact.resident_id},
        actor=staff,
    )
    return contact


def can_act(staff: User | None) -> bool:
    return staff is not None and staff.disabled_at is None and staff.has_role(*ACTING_ROLES)


def can_be_acted_for(resident: User | None) -> bool:
    """Only an active resident: never a member of staff, never a disabled account."""
    return resident is not None and resident.disabled_at is None and not resident.is_staff


def start_acting(
    staff: User, staff_session: UserSession, resident: User, channel: str
) -> ActingSession:
    """Begin acting for `resident` on `channel` within the staff member's own session.

    Any earlier acting of this staff member that is still open ends first. The caller commits.
    """
    if channel not in STAFF_CHANNELS:
        raise ValueError(f"acting is for {STAFF_CHANNELS}, not {channel!r}")
    if not can_act(staff) or not can_be_acted_for(resident):
        raise PermissionError("this member of staff may not act for this user")
    for open_row in db.session.scalars(
        select(ActingSession).where(
            ActingSession.staff_id == staff.id, ActingSession.ended_at.is_(None)
        )
    ):
        end_acting(open_row, "replaced")
    row = ActingSession(
        staff_session_id=staff_session.id,
        staff_id=staff.id,
        resident_id=resident.id,
        channel=channel,
        started_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    record_audit(
        "acting.started",
        "user",
        resident.id,
        {"channel": channel, "acting_session": row.id},
        actor=staff,
    )
    return row


def end_acting(row: ActingSession, reason: str = "ended") -> None:
    """Stop acting (the caller commits); audited with the staff member as the actor."""
    if row.ended_at is not None:
        return
    row.ended_at = utcnow()
    row.end_reason = reason
    record_audit(
        "acting.ended",
        "user",
        row.resident_id,
        {"channel": row.channel, "acting_session": row.id, "reason": reason},
        actor=row.staff,
    )


def export_personal_data(user: User) -> list[dict[str, object]]:
    """Contacts recorded about `user`, for "download my data"."""
    rows = db.session.scalars(
        select(ContactRecord)
        .where(ContactRecord.resident_id == user.id)
        .order_by(ContactRecord.created_at)
    )
    return [
        {
            "reference": row.reference,
            "recorded_at": row.created_at.isoformat(),
            "lgsl": row.lgsl,
            "lgil": row.lgil,
            "channel": row.channel,
            "summary": row.summary,
        }
        for row in rows
    ]
