"""The interface other slices use: create_payment, register_payment_purpose, the state machine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select, update

from portal.common.models import PortalDelivery, utcnow
from portal.extensions import db
from portal.payments.bills import BILL_TYPES, luhn_check, make_reference, mod11_check
from portal.payments.models import TRANSITIONS, Payment
from portal.payments.services import (
    can_move,
    create_payment,
    lock_payment,
    reconcile,
    register_payment_purpose,
    transition,
)
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html
from tests.payments.conftest import latest_payment
from tests.payments.journey import continue_to_gateway, local, pay_with_card


def _booking_app(app):  # noqa: ANN001, ANN202
    calls: list[tuple[str, str, str]] = []

    def paid(payment: Payment) -> None:
        calls.append(("paid", payment.purpose_ref, payment.state))

    def failed(payment: Payment) -> None:
        calls.append(("failed", payment.purpose_ref, payment.state))

    register_payment_purpose(app, "bulky_waste", paid, failed)
    return calls


def _create(app, user_id: int) -> str:
    """What a booking slice does: create the payment (for a signed-in tenant) and commit."""
    with app.test_request_context():
        payment = create_payment(
            purpose="bulky_waste",
            purpose_ref="BW-1",
            description="Bulky waste collection",
            amount_pence=3500,
            lgsl=528,
            lgil=4,
            user_id=user_id,
            email="tenant@example.com",
            return_url=url_for("site.home", booking="BW-1"),
        )
        db.session.commit()
        return payment.reference


@pytest.mark.parametrize(
    "card,outcome", [("4242424242424242", "paid"), ("4000000000000002", "failed")]
)
def test_purpose_callbacks_and_return_url(app, card, outcome):
    calls = _booking_app(app)
    user = make_user(app)
    client = client_for(app, user)
    reference = _create(app, user.id)
    response = continue_to_gateway(client, f"/payments/{reference}/pay")
    response = pay_with_card(client, local(response.headers["Location"]), card)
    response = client.get(local(response.headers["Location"]))
    payment = latest_payment(app)
    assert calls == [(outcome, "BW-1", payment.state)]
    assert (payment.lgsl, payment.lgil) == (528, 4)
    if outcome == "paid":
        assert response.headers["Location"] == "/?booking=BW-1"
    else:
        soup = check_html(client.get(response.headers["Location"]))
        assert soup.find("a", href="/?booking=BW-1")


def test_create_payment_refuses_bad_amounts(app_ctx):
    for bad in (0, -1, 1.5, "100", True):
        with pytest.raises(ValueError):
            create_payment(
                purpose="x",
                purpose_ref="1",
                description="x",
                amount_pence=bad,
                lgsl=57,
                lgil=2,
                user_id=None,
                email=None,
                return_url="",
            )
    with pytest.raises(ValueError):
        create_payment(
            purpose="x",
            purpose_ref="1",
            description="x",
            amount_pence=100,
            lgsl=57,
            lgil=9,
            user_id=None,
            email=None,
            return_url="",
        )


def test_states_only_move_forward(app_ctx):
    assert can_move("created", "started") and can_move("success", "refunded")
    for final in ("failed", "cancelled", "expired", "refunded"):
        assert TRANSITIONS[final] == ()
    for backwards in (
        ("success", "started"),
        ("success", "failed"),
        ("refunded", "success"),
        ("partially_refunded", "success"),
        ("started", "created"),
    ):
        assert not can_move(*backwards)
    payment = create_payment(
        purpose="x",
        purpose_ref="1",
        description="x",
        amount_pence=100,
        lgsl=57,
        lgil=2,
        user_id=None,
        email=None,
        return_url="",
    )
    db.session.commit()
    locked = lock_payment(payment.reference)
    assert transition(locked, "started", "portal")
    assert transition(locked, "success", "webhook")
    assert not transition(locked, "started", "return_page")
    assert not transition(locked, "expired", "reconciler")
    db.session.commit()
    assert [t.to_state for t in locked.transitions] == ["created", "started", "success"]


def test_reconciler_expires_abandoned_sandbox_payments(bills):
    from tests.payments.journey import submit_bill

    client = bills.test_client()
    response = submit_bill(client)  # created, never sent on
    response = submit_bill(client)
    continue_to_gateway(client, local(response.headers["Location"]))  # started, abandoned
    with bills.app_context():
        db.session.execute(update(Payment).values(created_at=utcnow() - timedelta(minutes=95)))
        db.session.commit()
        report = reconcile()
        assert (report.checked, report.expired) == (2, 2)
        assert set(db.session.scalars(select(Payment.state))) == {"expired"}
    # The card page of the expired payment can no longer be paid.
    payment = latest_payment(bills)
    response = client.get(f"/payments/sandbox/{payment.gateway_session_id}")
    assert response.status_code == 302


def test_check_digits(app_ctx):
    assert mod11_check("40010001") == 0
    assert make_reference("council_tax", "40010001") == "400100010"
    assert luhn_check("7992739871") == 3  # the textbook Luhn example
    for code, bt in BILL_TYPES.items():
        assert bt.well_formed(bt.example) and bt.check_digit_ok(bt.example), code
        # Changing any one digit is caught.
        digits = [i for i, ch in enumerate(bt.example) if ch.isdigit()]
        for i in digits[:-1]:
            changed = bt.example[:i] + str((int(bt.example[i]) + 1) % 10) + bt.example[i + 1 :]
            assert not bt.check_digit_ok(changed), (code, changed)


def test_demo_loader_and_deliveries(app):
    from portal.demo import load_all

    with app.app_context():
        lines = load_all()
        again = load_all()
        text = "\n".join(lines)
        assert "400100010" in text and "CK10000001A" in text
        states = set(db.session.scalars(select(Payment.state)))
        assert states == {
            "created",
            "started",
            "success",
            "failed",
            "cancelled",
            "expired",
            "partially_refunded",
            "refunded",
        }
        assert db.session.scalar(select(Payment.id).where(Payment.channel == "phone"))
        count = len(db.session.scalars(select(Payment.id)).all())
        ours = [line for line in lines if line.startswith("payments:")]
        ours_again = [line for line in again if line.startswith("payments:")]
        assert count == 9 and len(ours_again) == len(ours)
        deliveries = db.session.scalars(
            select(PortalDelivery).where(PortalDelivery.kind == "payments", PortalDelivery.live)
        ).all()
        assert {(d.ref, d.lgsl, d.lgil) for d in deliveries} == {
            ("council_tax", 57, 2),
            ("business_rates", 56, 2),
            ("housing_rent", 120, 2),
            ("parking_penalty", 471, 2),
            ("sundry_invoice", 1520, 2),
        }
    result = app.test_cli_runner().invoke(args=["payments", "sync-deliveries"])
    assert "Pay council tax: LGSL 57, LGIL 2" in result.output
