"""The satisfaction survey after a payment and the service KPI pages, in Chromium with
JavaScript on and off, with axe on every state."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.council_services.demo import load_demo_catalogue
from portal.extensions import db
from portal.payments.demo import load_demo_bills
from portal.statistics.kpi_models import JourneyDaily, SatisfactionAnswer
from tests.browser.test_statistics_charts import OVERLAPS, TEXT_SPACING, cookie_for
from tests.helpers.auth import make_user
from tests.helpers.browser import assert_accessible as _assert_accessible

pytestmark = pytest.mark.browser

NO_JS_PAGES: dict[int, object] = {}
CT_REF = "400100010"


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


@pytest.fixture
def server(app, live_server):  # noqa: ANN001, ANN201
    with app.app_context():
        load_demo_bills()
        load_demo_catalogue()
        db.session.commit()
    return live_server


def _pay(page: Page, server) -> None:  # noqa: ANN001
    page.goto(server("/pay"))
    page.get_by_label("Council Tax").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/pay/council_tax")
    page.get_by_label("Council Tax reference").fill(CT_REF)
    page.get_by_label("Amount to pay").fill("125.50")
    page.get_by_label("Email address").fill("payer@example.com")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/payments/sandbox/**")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date").fill("12/39")
    page.get_by_label("Name on card").fill("A Payer")
    page.get_by_label("Card security code").fill("123")
    page.get_by_role("button", name="Pay £125.50").click()
    page.wait_for_selector("h1:has-text('Payment received')")


def _survey(page: Page, app, js: bool) -> None:  # noqa: ANN001
    survey = page.locator("#satisfaction-survey")
    expect(survey).to_contain_text("This is optional: you have finished")
    assert_accessible(page, "payment received, with the survey")
    confirmation_url = page.url
    survey.get_by_role("button", name="Send feedback").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select how you feel about the service you received today"
    )
    assert_accessible(page, "survey, error")
    if js:
        assert page.url == confirmation_url  # swapped in place: the confirmation is still there
        expect(page.locator("main")).to_contain_text("Payment received")
    page.locator(".govuk-error-summary").get_by_role("link").click()
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("How could we improve this service? (optional)").fill("Quick, thank you")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator("#satisfaction-survey-heading")).to_have_text("Thank you for your feedback")
    assert_accessible(page, "survey, thank you")
    if js:
        assert page.url == confirmation_url
        expect(page.locator("main")).to_contain_text("Payment received")
        expect(page.locator("#portal-status")).to_contain_text("Thank you for your feedback")
    else:
        expect(page.locator("h1")).to_have_text("Thank you for your feedback")
    with app.app_context():
        answers = db.session.scalars(select(SatisfactionAnswer)).all()
        assert [(a.channel, a.rating, a.comment) for a in answers] == [
            ("web", 4, "Quick, thank you")
        ]
        journeys = db.session.scalars(select(JourneyDaily)).all()
        assert [(j.started, j.completed) for j in journeys] == [(1, 1)]


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_survey_after_a_payment(app, server, page, nojs_page, browser, js):  # noqa: ANN001
    tab = page if js else nojs_page
    if not js:
        NO_JS_PAGES[id(tab)] = browser
    try:
        _pay(tab, server)
        _survey(tab, app, js)
    finally:
        NO_JS_PAGES.pop(id(tab), None)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_kpi_pages_from_where_people_start(app, server, page, nojs_page, browser, js):  # noqa: ANN001
    tab = page if js else nojs_page
    if not js:
        NO_JS_PAGES[id(tab)] = browser
    try:
        _pay(tab, server)
        tab.get_by_label("Very satisfied").check()
        tab.get_by_role("button", name="Send feedback").click()
        expect(tab.locator("#satisfaction-survey-heading")).to_have_text(
            "Thank you for your feedback"
        )
        # The public page, from /performance.
        tab.goto(server("/performance"))
        tab.get_by_role(
            "link",
            name="Digital take-up, completion rate, cost per transaction and user satisfaction "
            "for each service",
        ).click()
        expect(tab.locator("h1")).to_have_text("How well our services work")
        assert_accessible(tab, "public service KPIs")
        # The staff page, from the staff home.
        manager = make_user(app, email="performance@example.gov.uk", roles=("manager",))
        tab.context.add_cookies([cookie_for(app, manager, server)])
        tab.goto(server("/staff"))
        tab.get_by_role("link", name="Service performance").click()
        expect(tab.locator("h1")).to_have_text("Service performance")
        expect(tab.locator("#kpi-completion")).to_have_text("100.0%")
        expect(tab.locator("#kpi-satisfaction")).to_have_text("100.0%")
        chart = tab.locator("#chart-kpi-percent")
        expect(chart.locator("figcaption")).to_contain_text("Completion rate")
        expect(tab.locator("#table-kpis")).to_contain_text("100.0%")
        assert_accessible(tab, "staff service KPIs")
        if js:
            tab.evaluate(TEXT_SPACING)
            for svg in tab.locator("#chart-kpi-percent svg[role=img], #chart-kpi-cost svg").all():
                assert svg.evaluate(OVERLAPS) == []
        tab.get_by_label("Show a row for each").select_option(label="channel")
        tab.get_by_role("button", name="Show figures").click()
        expect(tab.locator("#table-kpis thead")).to_contain_text("Channel")
        expect(tab.locator("#table-kpis tbody")).to_contain_text("Online self-service (website)")
        tab.get_by_role("link", name="Read what residents wrote in the survey").click()
        expect(tab.locator("h1")).to_have_text("What residents wrote in the survey")
        assert_accessible(tab, "survey comments")
    finally:
        NO_JS_PAGES.pop(id(tab), None)
