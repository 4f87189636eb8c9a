"""Stripe: Checkout Sessions through the real stripe library against a fake HTTP API, and
webhooks signed with the library's own scheme."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import func, select, update

from portal.common.models import OutboxEmail, ServiceTransaction, utcnow
from portal.extensions import db
from portal.payments.models import GatewayEvent, Payment, PaymentTransition
from portal.payments.services import reconcile
from tests.helpers.pages import check_html
from tests.payments.conftest import event, latest_payment, post_event, sign
from tests.payments.journey import continue_to_gateway, local, submit_bill


def _start_stripe_payment(app, fake_stripe):  # noqa: ANN001, ANN202
    client = app.test_client()
    response = submit_bill(client)
    start_url = local(response.headers["Location"])
    response = continue_to_gateway(client, start_url)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    payment = latest_payment(app)
    return client, payment, fake_stripe.sessions[payment.gateway_session_id], start_url


def _completed(session: dict) -> dict:
    return dict(session)


def _counts(app, reference):  # noqa: ANN001, ANN202
    with app.app_context():
        transitions = db.session.scalar(
            select(func.count(PaymentTransition.id))
            .join(Payment)
            .where(Payment.reference == reference, PaymentTransition.to_state == "success")
        )
        emails = db.session.scalar(select(func.count(OutboxEmail.id)))
        taken = db.session.scalar(select(func.count(ServiceTransaction.id)))
        return transitions, emails, taken


def test_checkout_session_is_created_once_with_our_reference(stripe_app, fake_stripe):
    client, payment, session, start_url = _start_stripe_payment(stripe_app, fake_stripe)
    method, path, params, key = next(
        r for r in fake_stripe.requests if r[1] == "/v1/checkout/sessions"
    )
    assert key == f"portal-checkout-{payment.reference}"
    assert params["metadata"]["reference"] == payment.reference
    assert params["line_items"]["0"]["price_data"] == {
        "currency": "gbp",
        "unit_amount": "12550",
        "product_data": {"name": payment.description},
    }
    assert params["success_url"].endswith(
        f"/payments/{payment.reference}/return?session_id={{CHECKOUT_SESSION_ID}}"
    )
    # A second click on "Continue" sends the payer to the same session.
    response = continue_to_gateway(client, start_url)
    assert response.headers["Location"] == session["url"]
    assert len(fake_stripe.sessions) == 1
    assert stripe_app.config["CSP_EXTRA_FORM_ACTION"] == "https://checkout.stripe.com"


def test_return_page_asks_stripe(stripe_app, fake_stripe):
    client, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    # Back before paying: Stripe says open, so nothing changes.
    response = client.get(f"/payments/{payment.reference}/return?session_id={session['id']}")
    assert "checking" in check_html(response).h1.get_text()
    fake_stripe.complete(session["id"])
    response = client.get(f"/payments/{payment.reference}/return?session_id=cs_made_up")
    assert response.headers["Location"].endswith(f"/payments/{payment.reference}")
    paid = latest_payment(stripe_app)
    assert paid.state == "success" and paid.gateway_payment_id.startswith("pi_test_")
    assert paid.transitions[-1].source == "return_page"


def test_cancel_url_expires_the_session(stripe_app, fake_stripe):
    client, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    response = client.get(f"/payments/{payment.reference}/return?cancelled=1")
    assert session["status"] == "expired"
    assert latest_payment(stripe_app).state == "cancelled"
    soup = check_html(client.get(response.headers["Location"]))
    assert "You cancelled your payment" in soup.h1.get_text()


def test_webhook_rejects_bad_signature_tampered_body_and_stale_timestamp(stripe_app, fake_stripe):
    _client, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    client = stripe_app.test_client()
    paid = dict(fake_stripe.complete(session["id"]))
    payload = json.dumps(event("evt_1", "checkout.session.completed", paid))
    url = "/payments/webhooks/stripe"
    # Wrong secret.
    response = client.post(
        url, data=payload, headers={"Stripe-Signature": sign(payload, "whsec_wrong")}
    )
    assert response.status_code == 400
    # No header at all.
    assert client.post(url, data=payload).status_code == 400
    # Body changed after signing.
    header = sign(payload)
    tampered = payload.replace('"amount_total": 12550', '"amount_total": 1')
    assert tampered != payload
    assert client.post(url, data=tampered, headers={"Stripe-Signature": header}).status_code == 400
    # Signed correctly, but 301 seconds old.
    stale = sign(payload, timestamp=int(time.time()) - 301)
    assert client.post(url, data=payload, headers={"Stripe-Signature": stale}).status_code == 400
    assert latest_payment(stripe_app).state == "started"
    with stripe_app.app_context():
        assert db.session.scalar(select(func.count(GatewayEvent.id))) == 0
    # And the genuine one is accepted without a CSRF token.
    assert client.post(url, data=payload, headers={"Stripe-Signature": header}).status_code == 200
    assert latest_payment(stripe_app).state == "success"


def test_duplicate_event_three_times_makes_one_transition_and_one_email(stripe_app, fake_stripe):
    _client, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    client = stripe_app.test_client()
    evt = event("evt_dup", "checkout.session.completed", dict(fake_stripe.complete(session["id"])))
    outcomes = [post_event(client, evt).get_json()["outcome"] for _ in range(3)]
    assert outcomes == ["moved to success", "duplicate", "duplicate"]
    assert _counts(stripe_app, payment.reference) == (1, 1, 1)
    final = latest_payment(stripe_app)
    assert final.transitions[-1].source == "webhook" and final.transitions[-1].event_id == "evt_dup"


def test_out_of_order_events_never_go_backwards(stripe_app, fake_stripe):
    _client, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    client = stripe_app.test_client()
    paid = dict(fake_stripe.complete(session["id"]))
    intent = {
        "id": paid["payment_intent"],
        "object": "payment_intent",
        "amount": 12550,
        "amount_received": 12550,
        "currency": "gbp",
        "metadata": {"reference": payment.reference},
        "status": "succeeded",
    }
    # succeeded arrives first, then a late "processing", then completed, then an "expired".
    assert post_event(client, event("evt_a", "payment_intent.succeeded", intent)).status_code == 200
    processing = dict(intent, status="processing", amount_received=0)
    assert (
        post_event(client, event("evt_b", "payment_intent.processing", processing)).status_code
        == 200
    )
    post_event(client, event("evt_c", "checkout.session.completed", paid))
    post_event(client, event("evt_d", "checkout.session.expired", dict(paid, status="expired")))
    final = latest_payment(stripe_app)
    assert final.state == "success"
    assert [t.to_state for t in final.transitions] == ["created", "started", "success"]
    assert _counts(stripe_app, payment.reference) == (1, 1, 1)


def test_event_with_a_different_amount_is_not_trusted(stripe_app, fake_stripe):
    _client, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    paid = dict(fake_stripe.complete(session["id"]), amount_total=100)
    post_event(stripe_app.test_client(), event("evt_x", "checkout.session.completed", paid))
    assert latest_payment(stripe_app).state == "started"


def test_expired_and_failed_events(stripe_app, fake_stripe):
    client = stripe_app.test_client()
    _c, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    post_event(client, event("evt_e", "checkout.session.expired", dict(session, status="expired")))
    assert latest_payment(stripe_app).state == "expired"
    _c, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    post_event(client, event("evt_f", "checkout.session.async_payment_failed", session))
    assert latest_payment(stripe_app).state == "failed"


def test_missed_webhook_is_settled_by_the_reconciler(stripe_app, fake_stripe):
    _client, paid_payment, paid_session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    fake_stripe.complete(paid_session["id"])  # paid on Stripe, but the webhook never came
    _client, abandoned, abandoned_session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    _client, recent, _recent_session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    with stripe_app.app_context():
        db.session.execute(
            update(Payment)
            .where(Payment.reference.in_([paid_payment.reference, abandoned.reference]))
            .values(created_at=utcnow() - timedelta(minutes=91))
        )
        db.session.commit()
    runner = stripe_app.test_cli_runner()
    result = runner.invoke(args=["payments", "reconcile"])
    assert "2 checked, 1 settled from the gateway, 1 expired" in result.output
    with stripe_app.app_context():
        states = dict(db.session.execute(select(Payment.reference, Payment.state)).all())
        assert states[paid_payment.reference] == "success"
        assert states[abandoned.reference] == "expired"
        assert states[recent.reference] == "started"
        sources = db.session.scalars(
            select(PaymentTransition.source)
            .join(Payment)
            .where(
                Payment.reference == paid_payment.reference, PaymentTransition.to_state == "success"
            )
        ).all()
        assert sources == ["reconciler"]
    assert abandoned_session["status"] == "expired"  # it can no longer be paid
    # A late webhook for the paid one changes nothing; running again finds nothing.
    post_event(
        stripe_app.test_client(), event("evt_late", "checkout.session.completed", paid_session)
    )
    with stripe_app.app_context():
        assert str(reconcile()).startswith("0 checked")
    assert _counts(stripe_app, paid_payment.reference) == (1, 1, 1)


def test_stripe_refund_uses_an_idempotency_key(stripe_app, fake_stripe):
    from portal.payments.services import refund_payment

    _client, payment, session, _ = _start_stripe_payment(stripe_app, fake_stripe)
    post_event(
        stripe_app.test_client(),
        event("evt_p", "checkout.session.completed", dict(fake_stripe.complete(session["id"]))),
    )
    with stripe_app.test_request_context():
        refund_payment(payment.reference, 550, "overpaid", "key-1", None)
        db.session.commit()
    assert fake_stripe.refunds[0]["amount"] == 550
    assert fake_stripe.requests[-1][:2] == ("POST", "/v1/refunds")
    assert fake_stripe.requests[-1][3] == "portal-refund-key-1"
    assert latest_payment(stripe_app).state == "partially_refunded"


def test_webhook_is_not_found_without_stripe(app):
    assert app.test_client().post("/payments/webhooks/stripe", data="{}").status_code == 404


def test_gateway_down_gives_a_clear_error_and_keeps_the_payment(make_app):
    from portal.payments.demo import load_demo_bills
    from tests.helpers.pages import error_summary

    app = make_app(
        stripe_secret_key="sk_test_portal",
        stripe_webhook_secret="whsec_x",
        stripe_api_base="http://127.0.0.1:9",  # nothing listens here
    )
    with app.app_context():
        load_demo_bills()
        db.session.commit()
    client = app.test_client()
    response = submit_bill(client)
    response = continue_to_gateway(client, local(response.headers["Location"]))
    assert response.status_code == 200
    assert error_summary(check_html(response)) == [
        "The payment service is not available at the moment. Try again in a few minutes"
    ]
    assert latest_payment(app).state == "created"
