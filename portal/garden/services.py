"""Garden waste subscriptions: subscribe and pay, activate, remind before the end, end, refund.

The payments slice takes the money (`create_payment`, purpose "garden_waste"); its success
callback activates the subscription in the same transaction, and the payment's own take-up
record (LGSL 530, LGIL 4) is the subscription's one take-up record.

Two blinker signals tell the bin-day rounds about an address joining or leaving the garden
round: `subscription_started` (sender: the subscription, once, when it becomes active) and
`subscription_ended` (sender: the subscription, once, when it ends or is cancelled). Receivers
run inside the transaction that makes the change.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from blinker import Namespace
from flask import current_app, url_for
from sqlalchemy import select, update

from portal.common.audit import record_audit
from portal.common.clock import govuk_date, uk_today
from portal.common.delivery import set_portal_delivery
from portal.common.models import Address, utcnow
from portal.common.outbox import queue_email
from portal.common.references import new_reference
from portal.common.urls import external_url
from portal.extensions import db
from portal.garden.models import (
    ACTIVE,
    AWAITING_PAYMENT,
    CANCELLED,
    EXPIRED,
    UNPAID,
    GardenSubscription,
)

signals = Namespace()
subscription_started = signals.signal("garden-subscription-started")
subscription_ended = signals.signal("garden-subscription-ended")

PAYMENT_PURPOSE = "garden_waste"
LGSL = 530  # Household garden waste
LGIL = 4  # paying for goods and services
DEFAULT_PRICE_PENCE = 5500
RENEWAL_WINDOW = timedelta(days=28)  # renew (and be reminded) this close to the end
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SubscriptionError(ValueError):
    """A subscription that cannot be started; str() is the message for the person."""


def price_pence() -> int:
    return int(current_app.config.get("GARDEN_WASTE_PRICE_PENCE", DEFAULT_PRICE_PENCE))


def year_from(start: date) -> date:
    """The last day of a year's subscription that starts on `start`."""
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


def get_subscription(reference: str) -> GardenSubscription | None:
    return db.session.scalar(
        select(GardenSubscription).where(GardenSubscription.reference == reference)
    )


def current_for(uprn: str, today: date | None = None) -> GardenSubscription | None:
    """The address's active subscription that runs furthest, if any."""
    today = today or uk_today()
    return db.session.scalar(
        select(GardenSubscription)
        .where(
            GardenSubscription.uprn == uprn,
            GardenSubscription.status == ACTIVE,
            GardenSubscription.ends_on >= today,
        )
        .order_by(GardenSubscription.ends_on.desc())
        .limit(1)
    )


def renewal_due(subscription: GardenSubscription, today: date | None = None) -> bool:
    today = today or uk_today()
    return subscription.ends_on is not None and subscription.ends_on - today <= RENEWAL_WINDOW


def check_can_subscribe(address: Address, today: date | None = None) -> None:
    """Refuse an address that is already covered for longer than the renewal window."""
    current = current_for(address.uprn, today)
    if current is not None and not renewal_due(current, today):
        raise SubscriptionError(
            f"{address.single_line} already has garden waste collections until "
            f"{govuk_date(current.ends_on)}. You can renew from "
            f"{govuk_date(current.ends_on - RENEWAL_WINDOW)}"
        )


def check_email(text: str) -> str:
    email = (text or "").strip()
    if not email:
        raise SubscriptionError("Enter your email address")
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise SubscriptionError(
            "Enter an email address in the correct format, like name@example.com"
        )
    return email


def _reference_taken(reference: str) -> bool:
    return (
        db.session.scalar(
            select(GardenSubscription.id).where(GardenSubscription.reference == reference)
        )
        is not None
    )


def start_subscription(address: Address, email: str, user_id: int | None):  # noqa: ANN201
    """A subscription awaiting payment and its payment (the caller commits, then sends the
    payer to `payments.start`). Raises SubscriptionError for an address already covered."""
    from portal.payments.services import create_payment  # noqa: PLC0415

    check_can_subscribe(address)
    subscription = GardenSubscription(
        reference=new_reference("GW", _reference_taken),
        uprn=address.uprn,
        address_text=address.single_line[:300],
        email=email,
        user_id=user_id,
        status=AWAITING_PAYMENT,
        price_pence=price_pence(),
    )
    db.session.add(subscription)
    db.session.flush()
    payment = create_payment(
        purpose=PAYMENT_PURPOSE,
        purpose_ref=subscription.reference,
        description=f"Garden waste collection for a year at {address.single_line}"[:200],
        amount_pence=subscription.price_pence,
        lgsl=LGSL,
        lgil=LGIL,
        user_id=user_id,
        email=email,
        return_url=url_for("garden.subscription", reference=subscription.reference),
    )
    subscription.payment_reference = payment.reference
    return subscription, payment


# ---------------------------------------------------------------- payment callbacks


def on_payment_success(payment) -> None:  # noqa: ANN001
    """The payment went through: the subscription becomes active (once)."""
    subscription = get_subscription(payment.purpose_ref)
    if subscription is None or subscription.status not in (AWAITING_PAYMENT, UNPAID):
        return
    activate(subscription, payment.reference)


def on_payment_failure(payment) -> None:  # noqa: ANN001
    subscription = get_subscription(payment.purpose_ref)
    if subscription is not None and subscription.status == AWAITING_PAYMENT:
        subscription.status = UNPAID


def settled_by(payment) -> str | None:  # noqa: ANN001
    """Another payment that already covers this address for now: this one is refunded."""
    subscription = get_subscription(payment.purpose_ref)
    if subscription is None:
        return None
    if subscription.status == ACTIVE:
        return subscription.payment_reference
    current = current_for(subscription.uprn)
    if current is not None and current.id != subscription.id and not renewal_due(current):
        return current.payment_reference
    return None


def activate(subscription: GardenSubscription, payment_reference: str) -> None:
    """Make a paid subscription active: a year from today, or from the day after the current
    one ends (a renewal). Sends `subscription_started` once."""
    today = uk_today()
    current = current_for(subscription.uprn, today)
    start = today if current is None else max(today, current.ends_on + timedelta(days=1))
    subscription.status = ACTIVE
    subscription.payment_reference = payment_reference
    subscription.starts_on = start
    subscription.ends_on = year_from(start)
    subscription.activated_at = utcnow()
    db.session.flush()
    queue_email(
        subscription.email,
        f"Your garden waste subscription: {subscription.reference}",
        f"Thank you. Your garden waste collections at {subscription.address_text} run from "
        f"{govuk_date(subscription.starts_on)} to {govuk_date(subscription.ends_on)}.\n\n"
        f"Subscription reference: {subscription.reference}\n"
        f"Payment reference: {payment_reference}\n\n"
        "Put your green bin out on your garden waste collection day. We will email you before "
        "your subscription ends so you can renew it.\n",
    )
    subscription_started.send(subscription)


def end(subscription: GardenSubscription, status: str = EXPIRED) -> bool:
    """End an active subscription (expired or cancelled); sends `subscription_ended` once."""
    moved = db.session.execute(
        update(GardenSubscription)
        .where(GardenSubscription.id == subscription.id, GardenSubscription.status == ACTIVE)
        .values(status=status, ended_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        return False
    db.session.refresh(subscription)
    subscription_ended.send(subscription)
    return True


def end_expired(today: date | None = None) -> int:
    """End every active subscription whose last day has passed (the caller commits)."""
    today = today or uk_today()
    due = db.session.scalars(
        select(GardenSubscription).where(
            GardenSubscription.status == ACTIVE, GardenSubscription.ends_on < today
        )
    ).all()
    return sum(1 for s in due if end(s, EXPIRED))


# ---------------------------------------------------------------- renewal reminders


def send_renewal_reminders(today: date | None = None) -> int:
    """Email each active subscription ending within the renewal window, once.

    Each reminder is claimed with a conditional UPDATE (reminder time still empty) in the same
    transaction as its outbox email, so two workers, a retry or a run after a restart never
    send one twice. Addresses already renewed are not reminded. The caller commits.
    """
    today = today or uk_today()
    candidates = db.session.scalars(
        select(GardenSubscription).where(
            GardenSubscription.status == ACTIVE,
            GardenSubscription.renewal_reminder_sent_at.is_(None),
            GardenSubscription.ends_on >= today,
            GardenSubscription.ends_on <= today + RENEWAL_WINDOW,
        )
    ).all()
    sent = 0
    for subscription in candidates:
        if _renewed(subscription):
            continue
        claimed = db.session.execute(
            update(GardenSubscription)
            .where(
                GardenSubscription.id == subscription.id,
                GardenSubscription.renewal_reminder_sent_at.is_(None),
            )
            .values(renewal_reminder_sent_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue
        queue_email(
            subscription.email,
            "Renew your garden waste subscription",
            f"Your garden waste collections at {subscription.address_text} end on "
            f"{govuk_date(subscription.ends_on)}.\n\n"
            "To keep your collections going, renew for another year at "
            f"{external_url('garden.index')}\n\n"
            f"Subscription reference: {subscription.reference}\n",
            {"X-Portal-Garden": subscription.reference},
        )
        sent += 1
    return sent


def _renewed(subscription: GardenSubscription) -> bool:
    return (
        db.session.scalar(
            select(GardenSubscription.id).where(
                GardenSubscription.uprn == subscription.uprn,
                GardenSubscription.status == ACTIVE,
                GardenSubscription.starts_on > subscription.ends_on - RENEWAL_WINDOW,
                GardenSubscription.id != subscription.id,
            )
        )
        is not None
    )


# ---------------------------------------------------------------- staff


def subscribers(status: str = "") -> list[GardenSubscription]:
    query = select(GardenSubscription).order_by(
        GardenSubscription.created_at.desc(), GardenSubscription.id.desc()
    )
    if status:
        query = query.where(GardenSubscription.status == status)
    return list(db.session.scalars(query))


CSV_COLUMNS = [
    "reference",
    "uprn",
    "address",
    "email",
    "status",
    "starts_on",
    "ends_on",
    "price",
    "payment_reference",
]


def export_csv(rows: list[GardenSubscription]) -> str:
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for s in rows:
        writer.writerow(
            [
                s.reference,
                s.uprn,
                _safe_cell(s.address_text),
                _safe_cell(s.email),
                s.status_label,
                s.starts_on.isoformat() if s.starts_on else "",
                s.ends_on.isoformat() if s.ends_on else "",
                f"{s.price_pence / 100:.2f}",
                s.payment_reference or "",
            ]
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def cancel_and_refund(subscription: GardenSubscription, reason: str, staff) -> None:  # noqa: ANN001
    """Finance cancels a subscription: the payment is refunded in full through the payments
    slice's refund path, the subscription ends and the resident is told (the caller commits).
    Raises payments' PaymentError when the refund cannot be made."""
    from portal.payments.services import PaymentError, get_payment, refund_payment  # noqa: PLC0415

    if subscription.status != ACTIVE or not subscription.payment_reference:
        raise PaymentError("Only an active, paid subscription can be cancelled and refunded")
    payment = get_payment(subscription.payment_reference)
    if payment is None:
        raise PaymentError("We cannot find the payment for this subscription")
    refund_payment(
        payment.reference,
        payment.remaining_pence,
        reason,
        request_key=f"garden-cancel-{subscription.reference}",
        staff=staff,
    )
    end(subscription, CANCELLED)
    record_audit(
        "garden.cancelled",
        "garden_subscription",
        subscription.reference,
        {"reason": reason, "payment": payment.reference},
        actor=staff,
    )


def sync_deliveries(live: bool = True) -> None:
    """The subscription is a live portal delivery on LGSL 530 / LGIL 4 (BVPI 157)."""
    set_portal_delivery(
        "garden",
        "subscription",
        LGSL,
        LGIL,
        "Subscribe to garden waste collection",
        "/garden-waste",
        live=live,
    )


# ---------------------------------------------------------------- the resident's own


def subscriptions_for_user(user_id: int) -> list[GardenSubscription]:
    return list(
        db.session.scalars(
            select(GardenSubscription)
            .where(GardenSubscription.user_id == user_id)
            .order_by(GardenSubscription.created_at.desc(), GardenSubscription.id.desc())
        )
    )


def my_council_rows(user) -> list[dict]:  # noqa: ANN001
    """Rows for "My council": the person's garden waste subscriptions, newest first."""
    return [
        {
            "text": f"Garden waste collection at {s.address_text}",
            "context": (
                f"{govuk_date(s.starts_on)} to {govuk_date(s.ends_on)}, reference {s.reference}"
                if s.starts_on
                else f"reference {s.reference}"
            ),
            "href": url_for("garden.subscription", reference=s.reference),
            "status": s.status_label,
            "date": s.created_at,
        }
        for s in subscriptions_for_user(user.id)
    ]


def export_personal_data(user) -> list[dict]:  # noqa: ANN001
    """Everything the garden waste slice holds about a person."""
    return [
        {
            "reference": s.reference,
            "address": s.address_text,
            "email": s.email,
            "status": s.status,
            "starts_on": s.starts_on.isoformat() if s.starts_on else None,
            "ends_on": s.ends_on.isoformat() if s.ends_on else None,
            "price_pence": s.price_pence,
            "payment_reference": s.payment_reference,
            "created_at": s.created_at.isoformat(),
        }
        for s in subscriptions_for_user(user.id)
    ]
