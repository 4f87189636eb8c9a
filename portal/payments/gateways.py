"""Payment gateways behind one interface: Stripe Checkout, or the built-in sandbox.

`get_gateway()` chooses Stripe when both PORTAL_STRIPE_SECRET_KEY and PORTAL_STRIPE_WEBHOOK_SECRET
are set, otherwise the sandbox. A payment remembers which gateway started it, so payments started
on one keep settling against it after the configuration changes.
"""

from __future__ import annotations

import contextlib
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import select

from portal.common.models import utcnow
from portal.extensions import db
from portal.payments.models import Payment, SandboxCharge

PENDING = "pending"
SUCCESS = "success"
FAILED = "failed"
CANCELLED = "cancelled"
EXPIRED = "expired"


class GatewayError(Exception):
    """The gateway could not be reached or refused the request."""


@dataclass(frozen=True)
class Checkout:
    session_id: str
    url: str


@dataclass(frozen=True)
class Outcome:
    """What the gateway says about a checkout session."""

    status: str  # pending | success | failed | cancelled | expired
    amount_pence: int | None = None
    currency: str | None = None
    payment_id: str | None = None
    card_summary: str | None = None
    detail: str = ""


class Gateway(ABC):
    """What every payment gateway does; the sandbox and Stripe implement all of it."""

    name = "base"

    @abstractmethod
    def start(self, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        """Open a checkout session for `payment`; the payer is sent to its URL."""

    @abstractmethod
    def fetch(self, session_id: str) -> Outcome:
        """Ask the gateway what happened to a checkout session."""

    @abstractmethod
    def cancel(self, session_id: str) -> None:
        """Close a session that is still open, so it can no longer be paid."""

    @abstractmethod
    def refund(self, payment: Payment, amount_pence: int, idempotency_key: str) -> str:
        """Refund part or all of a payment; returns the gateway's refund id."""


# ---------------------------------------------------------------------------------------------
# Sandbox


SANDBOX_CARDS = {
    "4242424242424242": "success",
    "4000000000000002": "decline",
    "4000002500003155": "3ds",
    "4000000000009995": "decline",  # insufficient funds
}


class SandboxGateway(Gateway):
    """A gateway inside the portal: a clearly labelled test card page, same flow and states."""

    name = "sandbox"

    def start(self, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        charge = SandboxCharge(
            session_id="sbx_" + secrets.token_urlsafe(24),
            payment_reference=payment.reference,
            description=payment.description,
            amount_pence=payment.amount_pence,
            status=SandboxCharge.OPEN,
            return_url=success_url,
            cancel_url=cancel_url,
            log=[],
        )
        db.session.add(charge)
        db.session.flush()
        return Checkout(
            charge.session_id, url_for("payments.sandbox_card", session_id=charge.session_id)
        )

    def _charge(self, session_id: str) -> SandboxCharge:
        charge = db.session.scalar(
            select(SandboxCharge).where(SandboxCharge.session_id == session_id)
        )
        if charge is None:
            raise GatewayError(f"no sandbox session {session_id}")
        return charge

    def fetch(self, session_id: str) -> Outcome:
        charge = self._charge(session_id)
        status = {
            SandboxCharge.OPEN: PENDING,
            SandboxCharge.AWAITING_3DS: PENDING,
            SandboxCharge.SUCCEEDED: SUCCESS,
            SandboxCharge.DECLINED: FAILED,
            SandboxCharge.CANCELLED: CANCELLED,
            SandboxCharge.EXPIRED: EXPIRED,
        }[charge.status]
        return Outcome(
            status=status,
            amount_pence=charge.amount_pence,
            currency="gbp",
            payment_id=charge.session_id if status == SUCCESS else None,
            card_summary=f"Test card ending {charge.card_last4}" if charge.card_last4 else None,
            detail=f"sandbox charge {charge.status}",
        )

    def cancel(self, session_id: str) -> None:
        charge = self._charge(session_id)
        if charge.status in (SandboxCharge.OPEN, SandboxCharge.AWAITING_3DS):
            charge.status = SandboxCharge.EXPIRED

    def refund(self, payment: Payment, amount_pence: int, idempotency_key: str) -> str:
        charge = self._charge(payment.gateway_session_id or "")
        if charge.status != SandboxCharge.SUCCEEDED:
            raise GatewayError("the sandbox charge was not paid")
        if charge.refunded_pence + amount_pence > charge.amount_pence:
            raise GatewayError("refund larger than the charge")
        charge.refunded_pence += amount_pence
        return "sbx_re_" + idempotency_key[-16:]


# ---------------------------------------------------------------------------------------------
# Stripe

STRIPE_SESSION_MINUTES = 60  # Stripe allows 30 minutes to 24 hours; ours expire at 90


def stripe_client():  # noqa: ANN201
    """A StripeClient for the configured key (and test API base, if one is set)."""
    import stripe

    settings = current_app.config["PORTAL"]
    kwargs = {}
    if settings.stripe_api_base:
        kwargs["base_addresses"] = {"api": settings.stripe_api_base}
    return stripe.StripeClient(settings.stripe_secret_key, max_network_retries=1, **kwargs)


class StripeGateway(Gateway):
    """Stripe Checkout Sessions in GBP, amounts in pence, our reference in the metadata."""

    name = "stripe"

    def start(self, payment: Payment, success_url: str, cancel_url: str) -> Checkout:
        import stripe

        params = {
            "mode": "payment",
            "client_reference_id": payment.reference,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "gbp",
                        "unit_amount": payment.amount_pence,
                        "product_data": {"name": payment.description[:200]},
                    },
                }
            ],
            "metadata": {"reference": payment.reference, "purpose": payment.purpose},
            "payment_intent_data": {
                "metadata": {"reference": payment.reference},
                "description": f"{payment.reference} {payment.description}"[:200],
            },
            "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": cancel_url,
            "expires_at": int((utcnow() + timedelta(minutes=STRIPE_SESSION_MINUTES)).timestamp()),
        }
        if payment.email:
            params["customer_email"] = payment.email
        try:
            session = stripe_client().v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"portal-checkout-{payment.reference}"}
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return Checkout(session.id, session.url)

    def fetch(self, session_id: str) -> Outcome:
        import stripe

        try:
            session = stripe_client().v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return outcome_from_session(session)

    def cancel(self, session_id: str) -> None:
        import stripe

        # Already complete or expired: fetch() tells which.
        with contextlib.suppress(stripe.StripeError):
            stripe_client().v1.checkout.sessions.expire(session_id)

    def refund(self, payment: Payment, amount_pence: int, idempotency_key: str) -> str:
        import stripe

        if not payment.gateway_payment_id:
            raise GatewayError("no Stripe payment intent recorded for this payment")
        try:
            refund = stripe_client().v1.refunds.create(
                params={
                    "payment_intent": payment.gateway_payment_id,
                    "amount": amount_pence,
                    "metadata": {"reference": payment.reference},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return refund.id


def _get(obj, key: str):  # noqa: ANN001, ANN202
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    try:
        return obj[key]
    except (KeyError, TypeError):
        return getattr(obj, key, None)


def outcome_from_session(session) -> Outcome:  # noqa: ANN001
    """Map a Checkout Session (object or dict) to our outcome."""
    status = _get(session, "status")
    payment_status = _get(session, "payment_status")
    intent = _get(session, "payment_intent")
    intent_id = intent if isinstance(intent, str) or intent is None else _get(intent, "id")
    if status == "complete" and payment_status in ("paid", "no_payment_required"):
        result = SUCCESS
    elif status == "expired":
        result = EXPIRED
    else:
        result = PENDING
    return Outcome(
        status=result,
        amount_pence=_get(session, "amount_total"),
        currency=_get(session, "currency"),
        payment_id=intent_id,
        card_summary="Card (Stripe)" if result == SUCCESS else None,
        detail=f"stripe session {status}/{payment_status}",
    )


def stripe_configured() -> bool:
    settings = current_app.config["PORTAL"]
    return bool(settings.stripe_secret_key and settings.stripe_webhook_secret)


def get_gateway(name: str | None = None) -> Gateway:
    """The gateway called `name`, or the configured one."""
    if name is None:
        name = "stripe" if stripe_configured() else "sandbox"
    return StripeGateway() if name == "stripe" else SandboxGateway()
