"""The BVPI 157 forecast chart in Chromium: the public page and the staff pages, with JavaScript
on (checked with axe) and off (the same journeys work, the chart and its table are there)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.common.clock import govuk_date, uk_today
from portal.council_services.demo import load_demo_catalogue
from portal.extensions import db
from tests.helpers.auth import make_user, sign_in
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(app):
    with app.app_context():
        load_demo_catalogue()
    return app


def signed_in(context: BrowserContext, app, live_server, user) -> Page:  # noqa: ANN001
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


def check_chart(page: Page) -> None:
    chart = page.locator("svg[aria-labelledby='forecast-title forecast-desc']")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(2)
    expect(page.locator(".council-forecast-legend")).to_contain_text("Actual figure (solid line)")
    expect(page.locator(".council-forecast-legend")).to_contain_text("Our target: 90% by")
    table = page.locator("#forecast-table")
    expect(table.locator("caption")).to_have_text("BVPI 157 actual and forecast")
    expect(table.locator("tbody tr").filter(has_text="Target")).to_contain_text("90%")


def test_forecast_on_the_public_page_and_staff_pages(demo_app, live_server, context) -> None:
    page = context.new_page()
    page.goto(live_server("/performance"))
    page.get_by_role("heading", name="Forecast from our work plans").scroll_into_view_if_needed()
    check_chart(page)
    assert_accessible(page, "/performance with the forecast")

    editor = make_user(demo_app, roles=("editor",))
    page = signed_in(context, demo_app, live_server, editor)
    page.goto(live_server("/staff/"))
    page.get_by_role("link", name="BVPI 157 forecast").click()
    expect(page.locator("h1")).to_have_text("BVPI 157 forecast")
    check_chart(page)
    assert_accessible(page, "staff forecast")
    # a bad target shows the GOV.UK errors, then a good one moves the diamond and the table
    page.fill("#percent", "150")
    page.get_by_role("button", name="Save target").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("from 1 to 100")
    assert_accessible(page, "staff forecast with errors")
    due = uk_today().replace(year=uk_today().year + 2, month=3, day=31)
    page.fill("#percent", "95")
    page.fill("#due-day", "31")
    page.fill("#due-month", "3")
    page.fill("#due-year", str(due.year))
    page.get_by_role("button", name="Save target").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Target saved: 95% by {govuk_date(due)}"
    )
    row = page.locator("#forecast-table tbody tr").filter(has_text="Target")
    expect(row).to_contain_text(govuk_date(due))
    page.get_by_role("link", name="Targets you own and overdue targets").click()
    expect(page.locator("h1")).to_have_text("E-enablement targets")
    assert_accessible(page, "targets")
    page.locator("table").first.get_by_role("link").first.click()
    expect(page.locator("h1")).to_have_text("Change the target date")
    assert_accessible(page, "change a target date")
    page.get_by_role("button", name="Save the new date").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why")
    assert_accessible(page, "change a target date with errors")

    # marking an interaction "not yet" asks for its owner and target date
    page.goto(live_server("/staff/services"))
    page.get_by_role("link", name="Council tax", exact=True).click()
    page.get_by_role("link", name="Interactions and e-enablement").click()
    page.check("#lgil-5-state-applicable")
    page.check("#lgil-5-enabled-no")
    page.get_by_role("button", name="Save interactions").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the target date for procurement")
    expect(summary).to_contain_text("Choose who owns procurement")
    assert_accessible(page, "interactions without an owner or target date")
    summary.get_by_role("link", name="Choose who owns procurement").click()
    expect(page.locator("#lgil-5-owner")).to_be_focused()


def test_owner_moves_a_target_without_javascript(demo_app, live_server, nojs_context) -> None:
    # the demo editor owns the targets of departments without a named officer
    with demo_app.app_context():
        owner = db.session.scalars(
            select(User).where(User.email == "editor@castlebrook.example")
        ).one()
        db.session.expunge(owner)
    page = signed_in(nojs_context, demo_app, live_server, owner)
    page.goto(live_server("/performance"))
    check_chart(page)
    page.goto(live_server("/staff/"))
    page.get_by_role("link", name="BVPI 157 forecast").click()
    check_chart(page)
    page.get_by_role("link", name="Targets you own and overdue targets").click()
    expect(page.locator("h1")).to_have_text("E-enablement targets")
    mine = page.locator("table").first
    service = mine.locator("tbody tr").first.locator("td").first.inner_text()
    mine.get_by_role("link").first.click()
    expect(page.locator("h1")).to_have_text("Change the target date")
    page.get_by_role("button", name="Save the new date").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter why the target date is changing"
    )
    later = uk_today() + timedelta(days=500)
    page.fill("#target-day", str(later.day))
    page.fill("#target-month", str(later.month))
    page.fill("#target-year", str(later.year))
    page.fill("#reason", "Waiting for the new payments contract")
    page.get_by_role("button", name="Save the new date").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"({service}) changed"
    )
    row = page.locator("table").first.locator("tbody tr").filter(has_text=service)
    expect(row.first).to_contain_text(govuk_date(later))
