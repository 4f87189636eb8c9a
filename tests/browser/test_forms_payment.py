"""A form with a payment, paid through the payments slice's sandbox (runs once it is merged)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.online_forms.models import FormSubmission
from tests.browser.test_forms_runner import address, assert_accessible, demo_server, fill, radio  # noqa: F401

pytest.importorskip("portal.payments.services")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_new_bin_paid_in_the_sandbox(app, demo_server, page, nojs_page, js):  # noqa: F811
    p = page if js else nojs_page
    p.goto(demo_server("/forms/new-or-replacement-bin"))
    p.click("text=Start now")
    radio("Recycling")(p, False)
    radio("Broken")(p, False)
    address(p, False)
    fill(name="Pat Payer")(p, False)
    p.fill("#email", "pat@example.com")
    p.click("button.govuk-button >> text=/Send/")
    expect(p.locator("h1")).to_have_text("Pay to complete your request")
    p.click("button:has-text('Pay now')")
    p.get_by_role("button", name="Continue to payment").click()
    p.get_by_label("Card number").fill("4242424242424242")
    p.get_by_label("Expiry date").fill("12/39")
    p.get_by_label("Name on card").fill("Pat Payer")
    p.get_by_label("Card security code").fill("123")
    p.get_by_role("button", name="Pay £25.00").click()
    expect(p.locator("h1")).to_have_text("Form sent")
    if js:
        assert_accessible(p, "confirmation after payment")
    with app.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert item.status == "received" and item.payment_reference.startswith("PY-")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_bulky_waste_booking_paid_in_the_sandbox(app, demo_server, page, nojs_page, js):  # noqa: F811
    """Two items at £12 each: the amount comes from the answers, and the booking completes on payment."""
    from tests.browser.test_forms_runner import complete, journeys

    p = page if js else nojs_page
    steps, options, outcome = journeys(None)["bulky-waste-collection"]
    complete(p, demo_server, "bulky-waste-collection", steps, options, outcome, check=js)
    expect(p.locator("h1")).to_have_text("Pay to complete your request")
    p.click("button:has-text('Pay now')")
    p.get_by_role("button", name="Continue to payment").click()
    p.get_by_label("Card number").fill("4242424242424242")
    p.get_by_label("Expiry date").fill("12/39")
    p.get_by_label("Name on card").fill("Ada Resident")
    p.get_by_label("Card security code").fill("123")
    p.get_by_role("button", name="Pay £24.00").click()
    expect(p.locator("h1")).to_have_text("Form sent")
    if js:
        assert_accessible(p, "bulky waste confirmation after payment")
    with app.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert item.status == "received" and item.payment_reference.startswith("PY-")
        from portal.payments.models import Payment

        payment = db.session.scalar(
            select(Payment).where(Payment.reference == item.payment_reference)
        )
        assert payment.amount_pence == 2400 and payment.state == "success" and payment.lgsl == 528
