"""Fixtures for the payments tests: demo bills, a fake Stripe API, signed webhook posts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import stripe
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.payments.demo import load_demo_bills
from portal.payments.models import Payment
from tests.payments.fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_portal_secret"
CT_REF = "400100010"  # a demo council tax bill
PCN_REF = "CK10000001A"  # a demo penalty charge, fixed at £70


@pytest.fixture
def bills(app: Flask) -> Flask:
    with app.app_context():
        load_demo_bills()
        db.session.commit()
    return app


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_app(make_app, fake_stripe: FakeStripe) -> Flask:
    app = make_app(
        stripe_secret_key="sk_test_portal",
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=fake_stripe.url,
    )
    with app.app_context():
        load_demo_bills()
        db.session.commit()
    return app


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header, computed by the stripe library's own scheme."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def post_event(client, event: dict, **sign_args):  # noqa: ANN001, ANN201
    payload = json.dumps(event)
    return client.post(
        "/payments/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": sign(payload, **sign_args)},
        content_type="application/json",
    )


def event(event_id: str, event_type: str, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def payment_by_ref(app: Flask, reference: str) -> Payment:
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.reference == reference))
        db.session.expunge(payment)
        return payment


def latest_payment(app: Flask) -> Payment:
    with app.app_context():
        payment = db.session.scalar(select(Payment).order_by(Payment.id.desc()))
        _ = payment.transitions, payment.refunds
        db.session.expunge_all()
        return payment
