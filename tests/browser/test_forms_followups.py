"""After sending a form, in Chromium with JavaScript on and off: the request's page, the
emailed link to finish paying (and its expired, broken and already-paid pages), and the offer
to add earlier requests to an account."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.online_forms.models import FormSubmission
from tests.browser.test_forms_runner import (  # noqa: F401
    address,
    assert_accessible,
    demo_server,
    fill,
    radio,
    recent_date,
)
from tests.helpers.auth import make_user, signed_session_cookie

pytest.importorskip("portal.payments.services")


def order_bin(p: Page, server, email: str = "pat@example.com") -> None:
    p.goto(server("/forms/new-or-replacement-bin"))
    p.click("text=Start now")
    radio("Recycling")(p, False)
    radio("Broken")(p, False)
    address(p, False)
    fill(name="Pat Payer")(p, False)
    p.fill("#email", email)
    p.click("button.govuk-button >> text=/Send/")
    expect(p.locator("h1")).to_have_text("Pay to complete your request")


def card(p: Page, number: str, amount: str = "£25.00") -> None:
    p.get_by_role("button", name="Continue to payment").click()
    p.get_by_label("Card number").fill(number)
    p.get_by_label("Expiry date").fill("12/39")
    p.get_by_label("Name on card").fill("Pat Payer")
    p.get_by_label("Card security code").fill("123")
    p.get_by_role("button", name=f"Pay {amount}").click()


def emailed_link(app, to: str = "pat@example.com") -> str:
    with app.app_context():
        email = db.session.scalar(
            select(OutboxEmail).where(
                OutboxEmail.to_address == to, OutboxEmail.subject.startswith("Finish paying")
            )
        )
        return re.search(r"/forms/pay/\S+", email.body_text).group(0)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_declined_then_paid_later_from_the_emailed_link(app, demo_server, browser, js):  # noqa: F811
    first = browser.new_context(java_script_enabled=js)
    p = first.new_page()
    order_bin(p, demo_server)
    p.click("button:has-text('Pay now')")
    card(p, "4000000000000002")  # declined
    expect(p.locator("h1")).not_to_have_text("Form sent")
    first.close()  # the browser is closed: its session is gone

    later = browser.new_context(java_script_enabled=js)
    q = later.new_page()
    path = emailed_link(app)
    q.goto(demo_server(path))
    expect(q.locator("h1")).to_have_text("Pay to complete your request")
    expect(q.locator("main")).to_contain_text("£25.00")
    if js:
        assert_accessible(q, "payment link")
    q.click("button:has-text('Pay now')")
    card(q, "4242424242424242")
    expect(q.locator(".govuk-panel__title")).to_have_text("Form sent")
    q.goto(demo_server(path))
    expect(q.locator("h1")).to_have_text("This request is already paid")
    if js:
        assert_accessible(q, "payment link, already paid")
    q.goto(demo_server(path[:-4] + "AAAA"))
    expect(q.locator("h1")).to_have_text("This link does not work")
    if js:
        assert_accessible(q, "payment link, broken")
    later.close()
    with app.app_context():
        assert db.session.scalar(select(FormSubmission.status)) == "received"


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_request_page_with_answers_history_and_next_steps(
    app,
    demo_server,  # noqa: F811
    page,
    nojs_page,
    js,
):
    p = page if js else nojs_page
    p.goto(demo_server("/forms/report-missed-bin"))
    p.click("text=Start now")
    address(p, False)
    radio("Recycling")(p, False)
    radio("Yes")(p, False)
    day, month, year = recent_date()
    p.fill("#missed_on-day", day)
    p.fill("#missed_on-month", month)
    p.fill("#missed_on-year", year)
    p.click("button[name=continue]")
    fill(details="Behind the gate")(p, False)
    fill(name="Ada Resident")(p, False)
    p.click("button.govuk-button >> text=/Send/")
    reference = p.locator("#reference").inner_text()
    p.goto(demo_server(f"/forms/requests/{reference}"))
    expect(p.locator("h1")).to_have_text(f"Your request {reference}")
    expect(p.locator("#answers")).to_contain_text("Behind the gate")
    expect(p.locator("#timeline li").first).to_contain_text("Request sent")
    expect(p.locator("#timeline li").first).to_contain_text(re.compile(r"\d{4} at \d"))
    expect(p.locator("#next-steps")).to_contain_text("We will collect the bin")
    if js:
        assert_accessible(p, "request page")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_earlier_requests_offer_and_my_council_pay_now(app, demo_server, browser, js):  # noqa: F811
    # an unpaid request made without an account, then an account with the same address
    anonymous = browser.new_context(java_script_enabled=js)
    order_bin(anonymous.new_page(), demo_server, email="kim@example.com")
    anonymous.close()
    kim = make_user(app, "kim@example.com", name="Kim")
    context = browser.new_context(java_script_enabled=js)
    context.add_cookies(
        [{"name": "session", "value": signed_session_cookie(app, kim), "url": demo_server("/")}]
    )
    p = context.new_page()
    p.goto(demo_server("/my"))
    p.click("text=Add earlier requests to your account")
    expect(p.locator("h1")).to_have_text("Add earlier requests to your account")
    expect(p.locator("#found")).to_contain_text("Form requests: 1")
    if js:
        assert_accessible(p, "earlier requests offer")
    p.click("button:has-text('Continue')")
    expect(p.locator(".govuk-error-summary")).to_contain_text(
        "Select yes if you want to add these to your account"
    )
    if js:
        assert_accessible(p, "earlier requests error")
    p.get_by_label("Yes", exact=True).check()
    p.click("button:has-text('Continue')")
    expect(p.locator("h1")).to_have_text("My council")
    p.click("a:has-text('Pay now')")
    expect(p.locator("h1")).to_have_text("Pay to complete your request")
    context.close()
