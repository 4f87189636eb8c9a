"""Domain functions of the channels slice: staff credentials, resident search, contacts, acting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from portal.accounts.models import User, UserRole, UserSession
from portal.channels.models import ActingSession, ContactRecord
from portal.common.audit import record_audit
from portal.common.clock import to_uk
from portal.common.models import utcnow
from portal.common.references import new_reference
from portal.common.transactions import record_transaction, set_request_channel
from portal.extensions import db

CONTACT_ROLES = ("officer", "library", "admin")
STAFF_CHANNELS = ("phone", "face_to_face")
# Who may act for a caller: the contact roles, and the service roles whose staff answer the
# public (housing books repairs, planning takes comments, finance takes payments by phone).
ACTING_ROLES = (*CONTACT_ROLES, "housing", "planning", "finance")

# How the staff member checked that the caller is the resident, asked before acting starts.
IDENTITY_CHECKS = {
    "security_questions": "Answered security questions",
    "reference": "Quoted a reference we sent them",
    "known_in_person": "Known to me, or face to face with photo ID",
}
IDENTITY_DETAIL_MAX = 200

# While acting, each role reaches only its own slice's resident screens (by blueprint), plus
# the general pages every caller may need. `None` means every resident screen.
ACTING_SCOPES: dict[str, frozenset[str] | None] = {
    "officer": frozenset({"online_forms"}),
    "library": frozenset({"online_forms"}),
    "housing": frozenset({"repairs"}),
    "planning": frozenset({"planning"}),
    "finance": frozenset({"payments"}),
    "admin": None,
}
# Public information, address look-ups and the resident's own summary: open to every role.
ACTING_GENERAL_BLUEPRINTS = frozenset({"site", "council_services", "gazetteer", "facilities"})
ACTING_GENERAL_ENDPOINTS = frozenset({"accounts.my_council", "channels.act_end"})
SLICE_NAMES = {
    "online_forms": "forms",
    "repairs": "housing repairs",
    "planning": "planning comments and alerts",
    "payments": "payments",
}


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


def acting_scope(staff: User | None) -> frozenset[str] | None:
    """Blueprints `staff` may open while acting (None: all of them), from their acting roles."""
    if staff is None:
        return frozenset()
    scope: set[str] = set()
    for role in sorted(staff.roles.intersection(ACTING_SCOPES)):
        blueprints = ACTING_SCOPES[role]
        if blueprints is None:
            return None
        scope.update(blueprints)
    return frozenset(scope)


def may_open_while_acting(staff: User | None, endpoint: str | None) -> bool:
    """Whether this endpoint is within what the acting staff member's roles allow."""
    if endpoint is None:
        return True  # not found or not allowed anyway: the error page answers
    if endpoint in ACTING_GENERAL_ENDPOINTS:
        return True
    blueprint = endpoint.rpartition(".")[0]
    if blueprint in ACTING_GENERAL_BLUEPRINTS:
        return True
    scope = acting_scope(staff)
    return scope is None or blueprint in scope


def _join(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]])) if words else ""


def acting_roles_phrase(staff: User | None) -> str:
    """ "housing staff", "housing and planning staff": how the 403 page names who is acting."""
    roles = sorted(staff.roles.intersection(ACTING_SCOPES)) if staff else []
    return f"{_join(roles)} staff" if roles else "staff"


def acting_slices_phrase(staff: User | None) -> str:
    """What the staff member can use while acting, in words ("housing repairs and ...")."""
    scope = acting_scope(staff)
    if scope is None:
        return "every resident page"
    names = sorted(SLICE_NAMES[b] for b in scope if b in SLICE_NAMES)
    return f"{_join(names)}, and the general pages" if names else "the general pages only"


def identity_errors(check: str, detail: str) -> list[tuple[str, str]]:
    """Errors for the identity check posted when starting to act (empty when it is valid)."""
    errors = []
    if check not in IDENTITY_CHECKS:
        errors.append(("#identity_check", "Select how you checked who the caller is"))
    if len(detail) > IDENTITY_DETAIL_MAX:
        errors.append(
            (
                "#identity_detail",
                f"The details of the identity check must be {IDENTITY_DETAIL_MAX} characters "
                "or fewer",
            )
        )
    return errors


def start_acting(
    staff: User,
    staff_session: UserSession,
    resident: User,
    channel: str,
    identity_check: str,
    identity_detail: str = "",
) -> ActingSession:
    """Begin acting for `resident` on `channel` within the staff member's own session.

    `identity_check` (a key of IDENTITY_CHECKS) records how the caller's identity was checked;
    it is stored and audited. Any earlier acting of this staff member that is still open ends
    first. The caller commits.
    """
    if channel not in STAFF_CHANNELS:
        raise ValueError(f"acting is for {STAFF_CHANNELS}, not {channel!r}")
    if identity_errors(identity_check, identity_detail):
        raise ValueError("acting needs a valid identity check")
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
        identity_check=identity_check,
        identity_detail=identity_detail or None,
    )
    db.session.add(row)
    db.session.flush()
    record_audit(
        "acting.started",
        "user",
        resident.id,
        {
            "channel": channel,
            "acting_session": row.id,
            "identity_check": identity_check,
            "identity_detail": identity_detail,
        },
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


def _gov_time(moment: datetime, same_day_as: datetime | None = None) -> str:
    """ "1 December 2026 at 9:30am" in UK time, the GOV.UK way; only "9:45am" when it falls on
    the same UK date as `same_day_as`."""
    local = to_uk(moment)
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    time_text = f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"
    if same_day_as is not None and to_uk(same_day_as).date() == local.date():
        return time_text
    return f"{local.day} {local:%B %Y} at {time_text}"


def acting_records(user: User) -> list[ActingSession]:
    """Every time staff acted for `user`, newest first."""
    return list(
        db.session.scalars(
            select(ActingSession)
            .where(ActingSession.resident_id == user.id)
            .order_by(ActingSession.started_at.desc(), ActingSession.id.desc())
        )
    )


def acting_summary(row: ActingSession) -> dict[str, str]:
    """One acting record in words, as the resident sees it."""
    from portal.channels.acting import CHANNEL_PHRASES

    staff = row.staff
    roles = ", ".join(sorted(staff.roles.intersection(ACTING_SCOPES))) if staff else ""
    who = (staff.display_name or "A member of staff") if staff else "A member of staff"
    return {
        "who": f"{who} ({roles} staff)" if roles else who,
        "channel": CHANNEL_PHRASES.get(row.channel, row.channel),
        "started": _gov_time(row.started_at),
        "ended": _gov_time(row.ended_at, row.started_at) if row.ended_at else "",
        "identity_check": IDENTITY_CHECKS.get(row.identity_check or "", "Not recorded"),
        "identity_detail": row.identity_detail or "",
    }


def my_council_rows(user: User) -> list[dict[str, str]]:
    """Rows for the resident's My council: who acted for them, when, and how they were checked."""
    rows = []
    for row in acting_records(user):
        summary = acting_summary(row)
        check = summary["identity_check"]
        if summary["identity_detail"]:
            check = f"{check} ({summary['identity_detail']})"
        if summary["ended"]:
            when = f"acted for you {summary['channel']}, from {summary['started']} to {summary['ended']}"
        else:
            when = f"is acting for you {summary['channel']}, since {summary['started']}"
        rows.append({"text": f"{summary['who']} {when}. Identity check: {check}."})
    return rows


def export_acting_records(user: User) -> list[dict[str, object]]:
    """Every time staff acted for `user`, for "download my data"."""
    return [
        {
            "staff": acting_summary(row)["who"],
            "channel": row.channel,
            "started_at": row.started_at.isoformat(),
            "ended_at": row.ended_at.isoformat() if row.ended_at else None,
            "identity_check": row.identity_check,
            "identity_detail": row.identity_detail,
        }
        for row in reversed(acting_records(user))
    ]
