"""A fixed penalty paid in two tabs: the second success is refunded (or flagged for finance), and a
gateway success that does not say how much it took settles nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.common.models import AuditEvent, OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.payments.models import Bill, GatewayEvent, Payment, Refund, SandboxCharge
from tests.helpers.auth import client_for, make_user
from tests.payments.conftest import PCN_REF, event, latest_payment, payment_by_ref, post_event
from tests.payments.journey import continue_to_gateway, local, pay_with_card, submit_bill


def _two_tabs(app):  # noqa: ANN001, ANN202
    """Create two payments for the same £70 penalty before either is paid; returns start URLs."""
    client = app.test_client()
    starts = []
    for _ in range(2):
        response = submit_bill(client, bill_type="parking_penalty", reference=PCN_REF, amount="")
        assert response.status_code == 302, response.get_data(as_text=True)[:1000]
        starts.append(local(response.headers["Location"]))
    return client, starts


def _state(app) -> dict:  # noqa: ANN001
    with app.app_context():
        payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
        return {
            "states": [p.state for p in payments],
            "refunded": [p.refunded_pence for p in payments],
            "attention": [p.attention for p in payments],
            "refunds": [
                (r.amount_pence, r.status)
                for r in db.session.scalars(select(Refund).order_by(Refund.id))
            ],
            "taken": db.session.scalar(select(func.count(ServiceTransaction.id))),
            "balance": db.session.scalar(
                select(Bill.balance_pence).where(Bill.reference == PCN_REF)
            ),
            "audited": db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.action == "payment.overpaid")
            ).all(),
        }


def test_sandbox_second_payment_of_a_penalty_is_refunded(bills):
    client, starts = _two_tabs(bills)
    card_urls = [local(continue_to_gateway(client, s).headers["Location"]) for s in starts]
    for card_url in card_urls:
        response = pay_with_card(client, card_url)
        assert response.status_code == 303
        client.get(local(response.headers["Location"]))  # the return page settles it
    state = _state(bills)
    assert state["states"] == ["success", "refunded"]
    assert state["refunded"] == [0, 7000]
    assert state["refunds"] == [(7000, "succeeded")]
    assert state["taken"] == 1  # counted once
    assert state["audited"] == ["payment.overpaid"]
    with bills.app_context():
        charges = db.session.scalars(select(SandboxCharge).order_by(SandboxCharge.id)).all()
        assert [c.refunded_pence for c in charges] == [0, 7000]
        subjects = db.session.scalars(select(OutboxEmail.subject).order_by(OutboxEmail.id)).all()
    assert subjects[0].startswith("Payment received")
    assert subjects[-1].startswith("Refund of £70.00")


def _stripe_paid_event(app, fake_stripe, client, start_url: str, event_id: str):  # noqa: ANN001, ANN202
    response = continue_to_gateway(client, start_url)
    assert response.status_code == 303
    payment = payment_by_ref(app, start_url.split("/")[2])
    paid = dict(fake_stripe.complete(payment.gateway_session_id))
    return payment, event(event_id, "checkout.session.completed", paid)


def test_stripe_second_payment_of_a_penalty_is_refunded_through_stripe(stripe_app, fake_stripe):
    client, starts = _two_tabs(stripe_app)
    first, first_event = _stripe_paid_event(stripe_app, fake_stripe, client, starts[0], "evt_1")
    second, second_event = _stripe_paid_event(stripe_app, fake_stripe, client, starts[1], "evt_2")
    webhook = stripe_app.test_client()
    assert post_event(webhook, first_event).get_json()["outcome"] == "moved to success"
    assert post_event(webhook, second_event).get_json()["outcome"] == "moved to refunded"
    assert len(fake_stripe.refunds) == 1
    intent = fake_stripe.sessions[second.gateway_session_id]["payment_intent"]
    assert fake_stripe.refunds[0]["payment_intent"] == intent
    assert fake_stripe.refunds[0]["amount"] == 7000
    refund_request = next(r for r in fake_stripe.requests if r[1] == "/v1/refunds")
    assert refund_request[3] == f"portal-overpaid-{second.reference}"
    state = _state(stripe_app)
    assert state["states"] == ["success", "refunded"]
    assert state["taken"] == 1
    assert state["balance"] == 0


def test_failed_automatic_refund_is_flagged_for_finance(stripe_app, fake_stripe):
    client, starts = _two_tabs(stripe_app)
    _first, first_event = _stripe_paid_event(stripe_app, fake_stripe, client, starts[0], "evt_1")
    second, second_event = _stripe_paid_event(stripe_app, fake_stripe, client, starts[1], "evt_2")
    webhook = stripe_app.test_client()
    post_event(webhook, first_event)
    fake_stripe.stop()  # Stripe cannot be reached for the refund
    post_event(webhook, second_event)
    state = _state(stripe_app)
    assert state["states"] == ["success", "success"]
    assert state["taken"] == 1
    assert state["refunds"] == [(7000, "failed")]
    assert state["attention"][0] is None
    assert "Paid twice" in state["attention"][1] and "£70.00" in state["attention"][1]
    finance = client_for(stripe_app, make_user(stripe_app, roles=("finance",)))
    page = finance.get("/staff/payments/").get_data(as_text=True)
    assert second.reference in page and "Paid twice" in page
    detail = finance.get(f"/staff/payments/{second.reference}").get_data(as_text=True)
    assert "the automatic refund failed" in detail


def _session_without(fake_stripe, session_id: str, field: str) -> dict:  # noqa: ANN001
    paid = dict(fake_stripe.complete(session_id))
    paid.pop(field)
    return paid


def test_signed_success_without_an_amount_settles_nothing(stripe_app, fake_stripe):
    client = stripe_app.test_client()
    response = submit_bill(client)
    payment = latest_payment(stripe_app)
    continue_to_gateway(client, local(response.headers["Location"]))
    payment = latest_payment(stripe_app)
    webhook = stripe_app.test_client()
    no_amount = _session_without(fake_stripe, payment.gateway_session_id, "amount_total")
    outcome = post_event(webhook, event("evt_a", "checkout.session.completed", no_amount))
    assert outcome.get_json()["outcome"].startswith("refused")
    intent = {
        "id": no_amount["payment_intent"],
        "object": "payment_intent",
        "currency": "gbp",
        "metadata": {"reference": payment.reference},
        "status": "succeeded",
    }
    post_event(webhook, event("evt_b", "payment_intent.succeeded", intent))
    no_currency = _session_without(fake_stripe, payment.gateway_session_id, "currency")
    post_event(webhook, event("evt_c", "checkout.session.completed", no_currency))
    final = latest_payment(stripe_app)
    assert final.state == "started"
    assert "with no amount" in (final.attention or "") or "no currency" in (final.attention or "")
    with stripe_app.app_context():
        outcomes = db.session.scalars(select(GatewayEvent.outcome).order_by(GatewayEvent.id)).all()
        assert db.session.scalar(select(func.count(ServiceTransaction.id))) == 0
    assert outcomes == ["refused: amount or currency missing or different"] * 3
    # The real event, with its amount, still settles it.
    paid = dict(fake_stripe.sessions[payment.gateway_session_id])
    post_event(webhook, event("evt_d", "checkout.session.completed", paid))
    assert latest_payment(stripe_app).state == "success"
