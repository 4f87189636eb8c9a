"""Payment services: create, start, settle, refund and reconcile payments (views stay thin).

The interface other slices call is `create_payment` and `register_payment_purpose`:

    payment = create_payment(purpose="bulky_waste", purpose_ref=booking.reference, ...)
    db.session.commit()
    return redirect(url_for("payments.start", reference=payment.reference))

Every state change goes through `transition`, which locks the payment row, refuses to move
backwards, stores the transition with its source, and on success records the take-up transaction,
queues the receipt and runs the purpose's callback, all in the caller's transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, current_app, has_request_context, session, url_for
from flask_login import current_user
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.common.audit import record_audit
from portal.common.clock import govuk_datetime
from portal.common.models import utcnow
from portal.common.outbox import queue_email
from portal.common.references import new_reference
from portal.common.transactions import current_channel, record_transaction, set_request_channel
from portal.common.urls import external_url
from portal.extensions import db
from portal.payments import gateways
from portal.payments.models import (
    CANCELLED,
    CREATED,
    EXPIRED,
    FAILED,
    OPEN_STATES,
    PARTIALLY_REFUNDED,
    REFUNDED,
    SOURCE_APP,
    SOURCE_RECONCILER,
    SOURCE_RETURN,
    SOURCE_STAFF,
    SOURCE_WEBHOOK,
    STARTED,
    SUCCESS,
    TRANSITIONS,
    UNSUCCESSFUL_STATES,
    GatewayEvent,
    Payment,
    PaymentTransition,
    Refund,
)

log = logging.getLogger(__name__)

EXPIRY = timedelta(minutes=90)
SESSION_KEY = "payment_refs"
PURPOSES_KEY = "portal_payment_purposes"
COUNTED_BY_PURPOSE_KEY = "portal_payment_purposes_counted_by_purpose"

PaymentCallback = Callable[[Payment], None]
# Given a payment about to succeed, the reference of another payment that already settled the
# same thing (so this one is an overpayment), or None. It may lock what it checks.
SettledCheck = Callable[[Payment], str | None]


class PaymentError(Exception):
    """A request about a payment that cannot be done; the message is for the person."""


# ---------------------------------------------------------------------------------------------
# Money


def format_pence(pence: int | None) -> str:
    """1234567 → "£12,345.67"."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, pennies = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{pennies:02d}"


AMOUNT_PATTERN = re.compile(r"^\d+(\.\d{1,2})?$")


def parse_amount(text: str | None, max_pence: int, what: str = "amount") -> tuple[int | None, str]:
    """Parse "£1,234.50" into pence; (None, message) when it cannot be accepted."""
    raw = (text or "").strip().replace("£", "").replace(",", "").replace(" ", "")
    if not raw:
        return None, f"Enter the {what} you want to pay"
    if raw.startswith("-"):
        return None, f"The {what} must be more than £0"
    if not AMOUNT_PATTERN.fullmatch(raw):
        return None, f"Enter the {what} in pounds and pence, like 125.50"
    try:
        pence = int((Decimal(raw) * 100).to_integral_value())
    except InvalidOperation:
        return None, f"Enter the {what} in pounds and pence, like 125.50"
    if pence <= 0:
        return None, f"The {what} must be more than £0"
    if pence > max_pence:
        return None, f"The {what} must be {format_pence(max_pence)} or less"
    return pence, ""


# ---------------------------------------------------------------------------------------------
# The interface for other slices


def register_payment_purpose(
    app: Flask,
    purpose: str,
    on_success: PaymentCallback,
    on_failure: PaymentCallback | None = None,
    settled_by: SettledCheck | None = None,
    counted_by_purpose: bool = False,
) -> None:
    """Declare what happens when a payment for `purpose` succeeds or fails (same transaction).

    `settled_by` is asked again at the moment a payment succeeds: if another payment already
    settled the same thing, this one is refunded automatically (or flagged for finance).
    `counted_by_purpose`: the payment is part of a transaction its purpose already counted (a
    form with a fee is one transaction, counted when the form is sent), so it writes no take-up
    record of its own (docs/bvpi157.md).
    """
    app.extensions.setdefault(PURPOSES_KEY, {})[purpose] = (on_success, on_failure, settled_by)
    counted = app.extensions.setdefault(COUNTED_BY_PURPOSE_KEY, set())
    if counted_by_purpose:
        counted.add(purpose)
    else:
        counted.discard(purpose)


def create_payment(
    *,
    purpose: str,
    purpose_ref: str,
    description: str,
    amount_pence: int,
    lgsl: int,
    lgil: int,
    user_id: int | None,
    email: str | None,
    return_url: str,
    fund: str = "general",
    channel: str | None = None,
    staff_id: int | None = None,
    retry_of: Payment | None = None,
) -> Payment:
    """Add a new payment in state "created" (the caller commits, then redirects to payments.start)."""
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
        raise ValueError("amount_pence must be a positive whole number of pence")
    if lgil not in (2, 4):
        raise ValueError("a payment is LGIL 2 (collecting revenue) or 4 (paying for goods)")
    request_channel, request_staff = current_channel()
    payment = Payment(
        reference=new_reference("PY", _reference_taken),
        purpose=purpose,
        purpose_ref=purpose_ref,
        description=description[:200],
        amount_pence=amount_pence,
        refunded_pence=0,
        currency="GBP",
        fund=fund,
        lgsl=lgsl,
        lgil=lgil,
        channel=channel or request_channel,
        staff_id=staff_id if staff_id is not None else request_staff,
        user_id=user_id,
        email=email,
        return_url=return_url,
        state=CREATED,
        retry_of_id=retry_of.id if retry_of else None,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(payment)
    db.session.flush()
    db.session.add(
        PaymentTransition(
            payment_id=payment.id,
            from_state="",
            to_state=CREATED,
            source=SOURCE_STAFF if payment.channel == "phone" else SOURCE_APP,
            detail=f"amount {format_pence(amount_pence)} for {purpose} {purpose_ref}",
            staff_id=payment.staff_id,
        )
    )
    remember_payment(payment.reference)
    return payment


def _reference_taken(reference: str) -> bool:
    return db.session.scalar(select(Payment.id).where(Payment.reference == reference)) is not None


def remember_payment(reference: str) -> None:
    """Let this browser session see the payment even when the payer is not signed in."""
    if has_request_context():
        refs = [r for r in session.get(SESSION_KEY, []) if r != reference]
        session[SESSION_KEY] = (refs + [reference])[-20:]


def may_view(payment: Payment) -> bool:
    """The payer (by account or by this browser session), or the member of staff who keyed it."""
    if current_user.is_authenticated:
        if payment.user_id is not None and payment.user_id == current_user.id:
            return True
        if payment.staff_id is not None and payment.staff_id == current_user.id:
            return True
    if payment.user_id is not None:
        return False
    return has_request_context() and payment.reference in session.get(SESSION_KEY, [])


# ---------------------------------------------------------------------------------------------
# The state machine


def get_payment(reference: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.reference == reference))


def lock_payment(reference: str | None = None, payment_id: int | None = None) -> Payment | None:
    """The payment, re-read and locked for this transaction (FOR UPDATE on PostgreSQL)."""
    query = select(Payment).with_for_update().execution_options(populate_existing=True)
    if payment_id is not None:
        query = query.where(Payment.id == payment_id)
    else:
        query = query.where(Payment.reference == reference)
    return db.session.scalar(query)


def can_move(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, ())


def transition(
    payment: Payment,
    to_state: str,
    source: str,
    detail: str | None = None,
    event_id: str | None = None,
    staff_id: int | None = None,
) -> bool:
    """Move `payment` (locked by the caller) forward to `to_state`; False if that would go back."""
    if not can_move(payment.state, to_state):
        log.info(
            "payment %s: %s → %s refused (%s)", payment.reference, payment.state, to_state, source
        )
        return False
    now = utcnow()
    db.session.add(
        PaymentTransition(
            payment_id=payment.id,
            from_state=payment.state,
            to_state=to_state,
            source=source,
            detail=(detail or "")[:300] or None,
            event_id=event_id,
            staff_id=staff_id,
            occurred_at=now,
        )
    )
    payment.state = to_state
    payment.updated_at = now
    if to_state == SUCCESS:
        payment.completed_at = now
        settled_by = _settled_elsewhere(payment)
        if settled_by:
            _refund_overpayment(payment, settled_by)
        else:
            _on_success(payment)
    elif to_state in UNSUCCESSFUL_STATES:
        payment.completed_at = now
        _callback(payment, failure=True)
    return True


def _callback(payment: Payment, failure: bool) -> None:
    callbacks = current_app.extensions.get(PURPOSES_KEY, {}).get(payment.purpose)
    if not callbacks:
        return
    callback = callbacks[1] if failure else callbacks[0]
    if callback is not None:
        callback(payment)


def _settled_elsewhere(payment: Payment) -> str | None:
    """The reference of another payment that already settled what `payment` pays for, if any."""
    callbacks = current_app.extensions.get(PURPOSES_KEY, {}).get(payment.purpose)
    check = callbacks[2] if callbacks and len(callbacks) > 2 else None
    return check(payment) if check is not None else None


def _refund_overpayment(payment: Payment, settled_by: str) -> None:
    """The money was taken but the thing was already paid: give it back, or flag it for finance.

    Nothing of a success happens (no take-up, no receipt, no purpose callback).
    """
    reason = f"Already paid by {settled_by}: refunded automatically"
    record_audit(
        "payment.overpaid",
        "payment",
        payment.reference,
        {"settled_by": settled_by, "amount_pence": payment.amount_pence},
    )
    refund = Refund(
        payment_id=payment.id,
        amount_pence=payment.amount_pence,
        reason=reason,
        status=Refund.PENDING,
        request_key=f"overpaid-{payment.reference}",
        staff_id=None,
    )
    db.session.add(refund)
    db.session.flush()
    try:
        gateway = gateways.get_gateway(payment.gateway)
        refund.gateway_refund_id = gateway.refund(
            payment, payment.amount_pence, f"portal-overpaid-{payment.reference}"
        )
    except gateways.GatewayError as exc:
        log.error("payment %s paid twice, automatic refund failed: %s", payment.reference, exc)
        refund.status = Refund.FAILED
        payment.attention = (
            f"Paid twice (already paid by {settled_by}) and the automatic refund failed: "
            f"refund {format_pence(payment.amount_pence)}"
        )[:300]
        return
    refund.status = Refund.SUCCEEDED
    payment.refunded_pence = payment.amount_pence
    transition(payment, REFUNDED, SOURCE_APP, reason)
    if payment.email:
        queue_email(
            payment.email,
            f"Refund of {format_pence(payment.amount_pence)}: {payment.reference}",
            f"{payment.description} had already been paid ({settled_by}), so we have refunded "
            f"your payment {payment.reference} of {format_pence(payment.amount_pence)} in full.\n"
            "It can take 5 to 10 working days to reach your account.\n",
        )


def _on_success(payment: Payment) -> None:
    if payment.staff_id is not None and has_request_context():
        # Staff keyed it for a caller: the customer is not the signed-in officer.
        set_request_channel(payment.channel, payment.staff_id)
    if payment.purpose not in current_app.extensions.get(COUNTED_BY_PURPOSE_KEY, set()):
        # A bill paid is one transaction; a form's fee belongs to the form's one transaction.
        record_transaction(
            "payment",
            payment.lgsl,
            payment.lgil,
            payment.reference,
            user_id=payment.user_id,
            channel=payment.channel,
            staff_id=payment.staff_id,
        )
    if payment.email:
        queue_email(
            payment.email,
            f"Payment received: {payment.reference}",
            receipt_text(payment),
            {"X-Portal-Payment": payment.reference},
        )
    _callback(payment, failure=False)


def receipt_text(payment: Payment) -> str:
    council = current_app.config["PORTAL"].council_name
    return (
        f"Thank you for your payment to {council}.\n\n"
        f"Payment reference: {payment.reference}\n"
        f"For: {payment.description}\n"
        f"Amount: {format_pence(payment.amount_pence)}\n"
        f"Date: {govuk_datetime(payment.completed_at)}\n"
        f"{payment.card_summary or ''}\n\n"
        "Keep this email as your receipt. Quote the payment reference if you contact us.\n"
    )


# ---------------------------------------------------------------------------------------------
# Journey


def gateway_urls(payment: Payment) -> tuple[str, str]:
    success = external_url("payments.return_page", reference=payment.reference)
    cancel = external_url("payments.return_page", reference=payment.reference, cancelled=1)
    return success, cancel


def start_payment(reference: str) -> str:
    """Open a checkout session at the gateway (once) and return the URL to send the payer to."""
    payment = lock_payment(reference)
    if payment is None:
        raise PaymentError("We cannot find that payment")
    if payment.state == STARTED and payment.gateway_url:
        return payment.gateway_url  # a second click on "Continue": same session
    if payment.state != CREATED:
        raise PaymentError("This payment has already finished")
    gateway = gateways.get_gateway()
    success_url, cancel_url = gateway_urls(payment)
    checkout = gateway.start(payment, success_url, cancel_url)
    payment.gateway = gateway.name
    payment.gateway_session_id = checkout.session_id
    payment.gateway_url = checkout.url
    transition(payment, STARTED, SOURCE_APP, f"{gateway.name} session {checkout.session_id}")
    return checkout.url


OUTCOME_STATES = {
    gateways.SUCCESS: SUCCESS,
    gateways.FAILED: FAILED,
    gateways.CANCELLED: CANCELLED,
    gateways.EXPIRED: EXPIRED,
}


def apply_outcome(
    payment: Payment, outcome: gateways.Outcome, source: str, event_id: str | None = None
) -> bool:
    """Move the payment to what the gateway says, after checking amount and currency."""
    to_state = OUTCOME_STATES.get(outcome.status)
    if to_state is None:
        return False
    if to_state == SUCCESS:
        # Missing means mismatch: a success that does not say how much it took settles nothing.
        if (
            outcome.amount_pence != payment.amount_pence
            or (outcome.currency or "").lower() != "gbp"
        ):
            log.error(
                "payment %s: gateway says paid %s %s, ours is %s GBP: not settled",
                payment.reference,
                outcome.amount_pence,
                outcome.currency,
                payment.amount_pence,
            )
            payment.attention = (
                f"The payment provider said paid {_gateway_amount(outcome)} "
                f"({source}), not {format_pence(payment.amount_pence)}: check it with the provider"
            )[:300]
            return False
        if outcome.payment_id:
            payment.gateway_payment_id = outcome.payment_id
        if outcome.card_summary:
            payment.card_summary = outcome.card_summary
    return transition(payment, to_state, source, outcome.detail, event_id=event_id)


def _gateway_amount(outcome: gateways.Outcome) -> str:
    if outcome.amount_pence is None:
        return "with no amount"
    if (outcome.currency or "").lower() != "gbp":
        return f"{outcome.amount_pence} in {outcome.currency or 'no currency'}"
    return format_pence(outcome.amount_pence)


def settle_from_gateway(reference: str, source: str, cancelled: bool = False) -> Payment | None:
    """Ask the gateway about an open payment and record what it says (the caller commits)."""
    payment = lock_payment(reference)
    if payment is None or not payment.is_open or not payment.gateway_session_id:
        return payment
    gateway = gateways.get_gateway(payment.gateway)
    outcome = gateway.fetch(payment.gateway_session_id)
    if outcome.status == gateways.PENDING and cancelled:
        gateway.cancel(payment.gateway_session_id)
        outcome = gateway.fetch(payment.gateway_session_id)
        if outcome.status == gateways.EXPIRED:
            outcome = gateways.Outcome(status=gateways.CANCELLED, detail="payer cancelled")
    apply_outcome(payment, outcome, source)
    return payment


def retry_payment(reference: str) -> Payment:
    """A fresh payment for the same thing after a failure, so nothing is typed again."""
    old = get_payment(reference)
    if old is None or old.state not in UNSUCCESSFUL_STATES:
        raise PaymentError("Only a declined, cancelled or expired payment can be tried again")
    return create_payment(
        purpose=old.purpose,
        purpose_ref=old.purpose_ref,
        description=old.description,
        amount_pence=old.amount_pence,
        lgsl=old.lgsl,
        lgil=old.lgil,
        user_id=old.user_id,
        email=old.email,
        return_url=old.return_url,
        fund=old.fund,
        channel=old.channel,
        staff_id=old.staff_id,
        retry_of=old,
    )


def after_outcome_url(payment: Payment) -> str:
    """Where the payer goes once the outcome is known."""
    if payment.state == SUCCESS and payment.return_url:
        return payment.return_url
    return url_for("payments.confirmation", reference=payment.reference)


# ---------------------------------------------------------------------------------------------
# Webhooks


def handle_stripe_event(event: dict[str, Any]) -> str:
    """Record one verified Stripe event; returns what happened (duplicates change nothing)."""
    event_id = event["id"]
    event_type = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}
    reference = metadata.get("reference") or obj.get("client_reference_id")
    try:
        with db.session.begin_nested():
            row = GatewayEvent(
                gateway="stripe",
                event_id=event_id,
                event_type=event_type,
                payment_reference=(reference or "")[:20] or None,
            )
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return "duplicate"
    if not reference:
        row.outcome = "ignored: no reference"
        return row.outcome
    payment = lock_payment(reference)
    if payment is None:
        row.outcome = "ignored: unknown payment"
        return row.outcome
    outcome: gateways.Outcome | None = None
    if event_type.startswith("checkout.session."):
        if payment.gateway_session_id and obj.get("id") != payment.gateway_session_id:
            row.outcome = "ignored: another session"
            return row.outcome
        if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            outcome = gateways.outcome_from_session(obj)
        elif event_type == "checkout.session.async_payment_failed":
            outcome = gateways.Outcome(status=gateways.FAILED, detail=event_type)
        elif event_type == "checkout.session.expired":
            outcome = gateways.Outcome(status=gateways.EXPIRED, detail=event_type)
    elif event_type == "payment_intent.succeeded":
        outcome = gateways.Outcome(
            status=gateways.SUCCESS,
            amount_pence=obj.get("amount_received"),
            currency=obj.get("currency"),
            payment_id=obj.get("id"),
            card_summary="Card (Stripe)",
            detail=event_type,
        )
    if outcome is None or outcome.status == gateways.PENDING:
        row.outcome = "noted"
        return row.outcome
    moved = apply_outcome(payment, outcome, SOURCE_WEBHOOK, event_id=event_id)
    row.outcome = f"moved to {payment.state}" if moved else f"no change ({payment.state})"
    if not moved and outcome.status == gateways.SUCCESS and payment.is_open:
        row.outcome = "refused: amount or currency missing or different"
    return row.outcome


# ---------------------------------------------------------------------------------------------
# Reconciliation


@dataclass
class ReconcileReport:
    checked: int = 0
    settled: int = 0
    expired: int = 0
    errors: int = 0

    def __str__(self) -> str:
        return (
            f"{self.checked} checked, {self.settled} settled from the gateway, "
            f"{self.expired} expired, {self.errors} could not be checked"
        )


def reconcile(now: datetime | None = None) -> ReconcileReport:
    """Settle every payment still open 90 minutes after creation (commits each one)."""
    now = now or utcnow()
    report = ReconcileReport()
    ids = db.session.scalars(
        select(Payment.id)
        .where(Payment.state.in_(OPEN_STATES), Payment.created_at <= now - EXPIRY)
        .order_by(Payment.id)
    ).all()
    db.session.commit()
    for payment_id in ids:
        report.checked += 1
        try:
            result = _reconcile_one(payment_id)
            db.session.commit()
        except gateways.GatewayError as exc:
            db.session.rollback()
            report.errors += 1
            log.warning("reconcile payment %s: %s", payment_id, exc)
            continue
        if result == EXPIRED:
            report.expired += 1
        elif result:
            report.settled += 1
    return report


def _reconcile_one(payment_id: int) -> str | None:
    payment = lock_payment(payment_id=payment_id)
    if payment is None or not payment.is_open:
        return None
    if not payment.gateway_session_id:
        transition(payment, EXPIRED, SOURCE_RECONCILER, "never sent to the gateway")
        return EXPIRED
    gateway = gateways.get_gateway(payment.gateway)
    outcome = gateway.fetch(payment.gateway_session_id)
    if outcome.status == gateways.PENDING:
        gateway.cancel(payment.gateway_session_id)  # so it can no longer be paid
        outcome = gateway.fetch(payment.gateway_session_id)
        if outcome.status == gateways.PENDING:
            outcome = gateways.Outcome(status=gateways.EXPIRED, detail="abandoned")
    apply_outcome(payment, outcome, SOURCE_RECONCILER)
    return payment.state if payment.state != EXPIRED else EXPIRED


# ---------------------------------------------------------------------------------------------
# Refunds


def refund_payment(
    reference: str, amount_pence: int, reason: str, request_key: str, staff: Any
) -> Refund:
    """Refund part or all of what remains; a repeated request key or a second click does nothing."""
    payment = lock_payment(reference)
    if payment is None:
        raise PaymentError("We cannot find that payment")
    if db.session.scalar(select(Refund.id).where(Refund.request_key == request_key)):
        raise PaymentError("This refund has already been made")
    if payment.state not in (SUCCESS, PARTIALLY_REFUNDED):
        raise PaymentError("Only a paid payment can be refunded")
    if amount_pence <= 0:
        raise PaymentError("The refund must be more than £0")
    if amount_pence > payment.remaining_pence:
        raise PaymentError(
            f"The refund must be {format_pence(payment.remaining_pence)} or less "
            "(what remains of the payment)"
        )
    refund = Refund(
        payment_id=payment.id,
        amount_pence=amount_pence,
        reason=reason[:300],
        status=Refund.PENDING,
        request_key=request_key,
        staff_id=getattr(staff, "id", None),
    )
    db.session.add(refund)
    db.session.flush()
    gateway = gateways.get_gateway(payment.gateway)
    try:
        refund.gateway_refund_id = gateway.refund(
            payment, amount_pence, f"portal-refund-{request_key}"
        )
    except gateways.GatewayError as exc:
        raise PaymentError(f"The payment provider refused the refund: {exc}") from exc
    refund.status = Refund.SUCCEEDED
    payment.refunded_pence += amount_pence
    payment.attention = None  # finance has dealt with it
    to_state = REFUNDED if payment.remaining_pence == 0 else PARTIALLY_REFUNDED
    transition(
        payment,
        to_state,
        SOURCE_STAFF,
        f"refund {format_pence(amount_pence)}: {reason}"[:300],
        staff_id=getattr(staff, "id", None),
    )
    record_audit(
        "payment.refund",
        "payment",
        payment.reference,
        {"amount_pence": amount_pence, "reason": reason, "refund_id": refund.id},
        actor=staff,
    )
    if payment.email:
        queue_email(
            payment.email,
            f"Refund of {format_pence(amount_pence)}: {payment.reference}",
            f"We have refunded {format_pence(amount_pence)} of your payment {payment.reference} "
            f"({payment.description}).\nIt can take 5 to 10 working days to reach your account.\n",
        )
    return refund


def needing_attention(limit: int = 50) -> list[Payment]:
    """Payments the portal could not put right by itself, oldest first (for finance)."""
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.attention.is_not(None))
            .order_by(Payment.updated_at, Payment.id)
            .limit(limit)
        )
    )


# ---------------------------------------------------------------------------------------------
# Lists for residents


def payments_for_user(user_id: int) -> list[Payment]:
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.user_id == user_id)
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        )
    )


def my_council_rows(user: Any) -> list[dict[str, Any]]:
    """Rows for the "My council" page: the person's payments, newest first."""
    return [
        {
            "text": f"{p.description} – {format_pence(p.amount_pence)}",
            # Two payments for the same thing and amount would read alike (WCAG 2.4.4).
            "context": f"reference {p.reference}",
            "href": url_for("payments.confirmation", reference=p.reference),
            "status": p.state_label,
            "date": p.created_at,
        }
        for p in payments_for_user(user.id)
    ]


def _unowned_by_email(email: str) -> tuple[Any, ...]:
    return (Payment.user_id.is_(None), func.lower(Payment.email) == email.strip().lower())


def count_earlier_payments(email: str) -> int:
    """Payments made without an account using `email` (a confirmed address: see accounts)."""
    query = select(func.count()).select_from(Payment).where(*_unowned_by_email(email))
    return db.session.scalar(query) or 0


def claim_earlier_payments(email: str, user_id: int) -> int:
    """Give those payments to the account (the caller commits); returns how many."""
    result = db.session.execute(
        update(Payment)
        .where(*_unowned_by_email(email))
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def export_personal_data(user: Any) -> list[dict[str, Any]]:
    """Everything the payments slice holds about a person."""
    return [
        {
            "reference": p.reference,
            "description": p.description,
            "purpose": p.purpose,
            "purpose_ref": p.purpose_ref,
            "amount_pence": p.amount_pence,
            "refunded_pence": p.refunded_pence,
            "state": p.state,
            "channel": p.channel,
            "email": p.email,
            "card": p.card_summary,
            "created_at": p.created_at.isoformat(),
            "completed_at": p.completed_at.isoformat() if p.completed_at else None,
            "history": [
                {"to": t.to_state, "source": t.source, "at": t.occurred_at.isoformat()}
                for t in p.transitions
            ],
        }
        for p in payments_for_user(user.id)
    ]


__all__ = [
    "SOURCE_RETURN",
    "PaymentError",
    "create_payment",
    "register_payment_purpose",
]
