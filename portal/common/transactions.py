"""Take-up counting: every completed transaction writes exactly one ServiceTransaction row.

Call `record_transaction` in the same database transaction as the thing it counts. The channel
comes from the request: "web" by default; the channels slice sets kiosk, assisted and
staff-recorded channels on `g` (see `set_request_channel`).
"""

from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user

from portal.common.models import ServiceTransaction, utcnow
from portal.extensions import db

CHANNELS = ("web", "kiosk", "kiosk_assisted", "phone", "face_to_face", "email", "post")
DIGITAL_CHANNELS = ("web", "kiosk", "kiosk_assisted", "email")
# GOV.UK service standard groups: digital take-up counts self-service digital only.
SELF_SERVICE_DIGITAL = ("web", "kiosk")
ASSISTED_DIGITAL = ("kiosk_assisted",)
OFFLINE = ("phone", "face_to_face", "email", "post")


def set_request_channel(channel: str, staff_id: int | None = None) -> None:
    """Declare the channel (and assisting or recording staff member) of this request."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    g.portal_channel = channel
    g.portal_channel_staff_id = staff_id


def current_channel() -> tuple[str, int | None]:
    if has_request_context():
        return g.get("portal_channel", "web"), g.get("portal_channel_staff_id")
    return "web", None


def record_transaction(
    kind: str,
    lgsl: int | None,
    lgil: int,
    object_ref: str | None = None,
    user_id: int | None = None,
    channel: str | None = None,
    staff_id: int | None = None,
) -> ServiceTransaction:
    """Add one take-up record to the current transaction (the caller commits with its change)."""
    request_channel, request_staff = current_channel()
    channel = channel or request_channel
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    # The signed-in person is the customer, unless they are staff acting for someone else.
    acting_for_someone = request_staff is not None and getattr(current_user, "is_staff", False)
    if (
        user_id is None
        and has_request_context()
        and current_user.is_authenticated
        and not acting_for_someone
    ):
        user_id = current_user.id
    row = ServiceTransaction(
        occurred_at=utcnow(),
        kind=kind,
        lgsl=lgsl,
        lgil=lgil,
        channel=channel,
        object_ref=object_ref,
        user_id=user_id,
        staff_id=staff_id if staff_id is not None else request_staff,
    )
    db.session.add(row)
    return row
