"""A phone payment in Chromium, with JavaScript on and off: a finance officer keys the caller's
card on the sandbox gateway's page, the payment is counted once on the phone channel for that
officer, and the statistics show it under Phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.common.models import ServiceTransaction
from portal.extensions import db
from portal.payments.demo import load_demo_bills
from portal.payments.models import Payment
from tests.browser.test_channels_kiosk import add_cookie, session_cookie
from tests.browser.test_payments_journey import NO_JS_PAGES, assert_accessible
from tests.helpers.auth import make_user
from tests.helpers.browser import serve

pytestmark = pytest.mark.browser
CT_REF = "400100010"  # a demo council tax bill


def _take_the_payment(tab: Page, server) -> str:  # noqa: ANN001
    tab.goto(server("/staff/payments/phone"))
    expect(tab.locator("h1")).to_have_text("Take a phone payment")
    assert_accessible(tab, "phone payment")
    tab.get_by_role("button", name="Continue").click()
    expect(tab.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(tab, "phone payment, errors")
    tab.get_by_label("Bill type").select_option("council_tax")
    tab.get_by_label("Bill reference").fill(CT_REF)
    tab.get_by_label("Amount").fill("20.00")
    tab.get_by_label("Caller's email address for the receipt (optional)").fill("caller@example.com")
    tab.get_by_role("button", name="Continue").click()
    tab.wait_for_url("**/payments/*/pay")
    expect(tab.locator("h1")).to_have_text("Check your payment")
    expect(tab.locator("main")).to_contain_text("£20.00")
    assert_accessible(tab, "phone payment, check")
    tab.get_by_role("button", name="Continue to payment").click()
    tab.wait_for_url("**/payments/sandbox/**")
    expect(tab.locator("main")).to_contain_text("Test payment page")
    assert_accessible(tab, "phone payment, card page")
    tab.get_by_role("button", name="Pay £20.00").click()
    expect(tab.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(tab, "phone payment, card page errors")
    tab.get_by_label("Card number").fill("4242 4242 4242 4242")
    tab.get_by_label("Expiry date").fill("12/39")
    tab.get_by_label("Name on card").fill("A Caller")
    tab.get_by_label("Card security code").fill("123")
    tab.get_by_role("button", name="Pay £20.00").click()
    tab.wait_for_url("**/staff/payments/PY-*")
    expect(tab.locator("h1")).to_contain_text("Payment PY-")
    expect(tab.locator(".govuk-summary-list")).to_contain_text("Paid")
    expect(tab.locator(".govuk-summary-list")).to_contain_text("phone")
    assert_accessible(tab, "phone payment, done")
    return tab.locator("h1").inner_text().removeprefix("Payment ").strip()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_phone_payment_is_counted_once_for_the_officer_and_shown_under_phone(
    app, browser, page, nojs_page, javascript
):
    tab = page if javascript else nojs_page
    if not javascript:
        NO_JS_PAGES[id(tab)] = browser
    with app.app_context():
        load_demo_bills()
        db.session.commit()
    finance = make_user(app, roles=("finance",), name="Femi Adeyemi")
    manager = make_user(app, roles=("manager",))
    try:
        with serve(app) as server:
            add_cookie(tab, server, session_cookie(app, finance))
            reference = _take_the_payment(tab, server)
            # The officer goes back to the gateway's return page and reloads the result.
            tab.goto(server(f"/payments/{reference}/return"))
            tab.wait_for_url(f"**/staff/payments/{reference}")
            tab.reload()
            expect(tab.locator("h1")).to_have_text(f"Payment {reference}")
            with app.app_context():
                rows = db.session.scalars(select(ServiceTransaction)).all()
                payment = db.session.scalar(select(Payment).where(Payment.reference == reference))
                assert payment.state == "success"
                assert [
                    (r.kind, r.channel, r.staff_id, r.user_id, r.lgsl, r.lgil, r.object_ref)
                    for r in rows
                ] == [("payment", "phone", finance.id, None, 57, 2, reference)]

            tab.context.clear_cookies()
            add_cookie(tab, server, session_cookie(app, manager))
            tab.goto(server("/staff/statistics?period=week"))
            expect(tab.locator("#stat-total")).to_have_text("1")
            phone = tab.locator("#table-channel tr[data-channel=phone]")
            expect(phone.locator("th")).to_have_text("Phone")
            expect(phone.locator("td").first).to_have_text("1")
            expect(tab.locator("#table-channel tr[data-channel=web] td").first).to_have_text("0")
            expect(tab.locator("#stat-digital")).to_have_text("0.0%")
            assert_accessible(tab, "statistics")
    finally:
        NO_JS_PAGES.pop(id(tab), None)
