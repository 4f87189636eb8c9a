"""Paying a council tax bill through the sandbox gateway in Chromium, with JavaScript on and
off, and axe on every payment page and state."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.payments.demo import load_demo_bills
from tests.helpers.auth import client_for, make_user
from tests.helpers.browser import assert_accessible as _assert_accessible

NO_JS_PAGES: dict[int, object] = {}


def assert_accessible(page, label=""):  # noqa: ANN001, ANN201
    """axe needs JavaScript to run, so a JS-off page's HTML is checked in a JS-on copy."""
    browser = NO_JS_PAGES.get(id(page))
    if browser is None:
        _assert_accessible(page, label)
        return
    html, url = page.content(), page.url
    context = browser.new_context()
    try:
        copy = context.new_page()
        copy.route(
            lambda u: u == url,
            lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
        )
        copy.goto(url)
        _assert_accessible(copy, f"{label} (JavaScript off)")
    finally:
        context.close()


CT_REF = "400100010"


@pytest.fixture
def server(app, live_server):  # noqa: ANN001, ANN201
    with app.app_context():
        load_demo_bills()
        db.session.commit()
    return live_server


def _fill_bill(page: Page, server, amount: str = "125.50") -> None:  # noqa: ANN001
    page.goto(server("/pay"))
    assert_accessible(page, "pay: choose bill")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "pay: choose bill, error")
    page.get_by_label("Council Tax").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/pay/council_tax")
    assert_accessible(page, "pay: council tax form")
    page.get_by_label("Council Tax reference").fill("400100011")
    page.get_by_label("Amount to pay").fill("0")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "not a valid reference" in summary and "more than £0" in summary
    assert_accessible(page, "pay: council tax form, errors")
    page.get_by_label("Council Tax reference").fill(CT_REF)
    page.get_by_label("Amount to pay").fill(amount)
    page.get_by_label("Email address").fill("payer@example.com")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/pay")
    expect(page.locator("h1")).to_have_text("Check your payment")
    expect(page.locator("main")).to_contain_text("£125.50")
    assert_accessible(page, "check your payment")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/payments/sandbox/**")
    expect(page.locator("main")).to_contain_text("Test payment page")
    assert_accessible(page, "sandbox card page")


def _card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry date").fill("12/39")
    page.get_by_label("Name on card").fill("A Payer")
    page.get_by_label("Card security code").fill("123")
    page.get_by_role("button", name="Pay £125.50").click()


def _journey(page: Page, server) -> None:  # noqa: ANN001
    _fill_bill(page, server)
    # Bad card details first.
    page.get_by_role("button", name="Pay £125.50").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "sandbox card page, errors")
    # Declined.
    _card(page, "4000 0000 0000 0002")
    page.wait_for_selector("h1:has-text('Your payment was declined')")
    assert_accessible(page, "declined")
    # Try again without typing the bill again; cancel this time.
    page.get_by_role("button", name="Try the payment again").click()
    page.wait_for_selector("h1:has-text('Check your payment')")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/payments/sandbox/**")
    page.get_by_role("button", name="Cancel payment").click()
    page.wait_for_selector("h1:has-text('You cancelled your payment')")
    assert_accessible(page, "cancelled")
    # Try again, with the 3-D Secure card, and confirm.
    page.get_by_role("button", name="Try the payment again").click()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/payments/sandbox/**")
    _card(page, "4000 0025 0000 3155")
    page.wait_for_url("**/confirm")
    assert_accessible(page, "3-D Secure step")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "3-D Secure step, error")
    page.get_by_label("Confirm the payment").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("h1:has-text('Payment received')")
    text = page.locator("main").inner_text()
    assert "PY-" in text and "£125.50" in text and "payer@example.com" in text
    assert_accessible(page, "payment received")


def test_council_tax_with_javascript(page: Page, server):  # noqa: ANN001
    _journey(page, server)


def test_council_tax_without_javascript(nojs_page: Page, server, browser):  # noqa: ANN001
    NO_JS_PAGES[id(nojs_page)] = browser
    try:
        _journey(nojs_page, server)
    finally:
        NO_JS_PAGES.pop(id(nojs_page), None)


def test_straight_success_with_javascript(page: Page, server):  # noqa: ANN001
    _fill_bill(page, server)
    _card(page, "4242 4242 4242 4242")
    page.wait_for_selector("h1:has-text('Payment received')")
    assert_accessible(page, "payment received")


def test_staff_pages_are_accessible(page: Page, server, app):  # noqa: ANN001
    finance = make_user(app, email="finance-browser@example.com", roles=("finance",))
    client = client_for(app, finance)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": server("/")}])
    # A paid payment to look at, refund and report on.
    _fill_bill(page, server)
    _card(page, "4242 4242 4242 4242")
    page.wait_for_selector("h1:has-text('Payment received')")
    reference = page.locator(".govuk-panel__body strong").inner_text()
    page.goto(server("/staff/payments/"))
    assert reference in page.locator("main").inner_text()
    assert_accessible(page, "staff payments")
    page.get_by_label("Search").fill("no such payment")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("text=No payments match your search.")
    assert_accessible(page, "staff payments, empty")
    page.goto(server(f"/staff/payments/{reference}"))
    assert_accessible(page, "staff payment detail")
    page.get_by_label("Amount to refund").fill("500")
    page.get_by_label("Reason for the refund").fill("Too much")
    page.get_by_role("button", name="Refund").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("£125.50 or less")
    assert_accessible(page, "staff refund, error")
    page.get_by_label("Amount to refund").fill("25.50")
    page.get_by_role("button", name="Refund").click()
    page.wait_for_selector("text=Refunded £25.50")
    assert_accessible(page, "staff refund, done")
    page.goto(server("/staff/payments/report"))
    assert_accessible(page, "report")
    page.goto(server("/staff/payments/report?date=2001-01-01"))
    assert_accessible(page, "report, empty")
    page.goto(server("/staff/payments/phone"))
    assert_accessible(page, "phone payment")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "phone payment, errors")
