"""Garden waste paid through Stripe: the webhook (sent three times) and the return page
settle the payment once, so the subscription starts once."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import ServiceTransaction
from portal.extensions import db
from portal.garden.demo import load_demo_garden
from portal.garden.models import GardenSubscription
from tests.garden.conftest import subscribe
from tests.payments.conftest import event, fake_stripe, latest_payment, post_event, stripe_app  # noqa: F401
from tests.payments.journey import continue_to_gateway, local


def test_stripe_webhook_and_return_start_the_subscription_once(stripe_app, fake_stripe, signals):  # noqa: F811
    with stripe_app.app_context():
        load_demo_gazetteer()
        load_demo_garden()
        db.session.commit()
    client = stripe_app.test_client()
    response = subscribe(client)
    assert response.status_code == 303
    response = continue_to_gateway(client, local(response.headers["Location"]))
    assert response.headers["Location"].startswith("https://checkout.stripe.com/")
    payment = latest_payment(stripe_app)
    assert payment.purpose == "garden_waste" and payment.amount_pence == 5500
    paid = dict(fake_stripe.complete(payment.gateway_session_id))
    webhook = event("evt_garden", "checkout.session.completed", paid)
    outcomes = [post_event(client, webhook).get_json()["outcome"] for _ in range(3)]
    assert outcomes == ["moved to success", "duplicate", "duplicate"]
    response = client.get(f"/payments/{payment.reference}/return")
    assert response.status_code == 302
    assert "/garden-waste/subscriptions/GW-" in response.headers["Location"]
    with stripe_app.app_context():
        item = db.session.scalar(select(GardenSubscription))
        assert item.status == "active" and item.payment_reference == payment.reference
        assert db.session.scalar(select(func.count()).select_from(ServiceTransaction)) == 1
    assert signals["started"] == [item.reference]
