"""Every htmx path in the portal, in Chromium with JavaScript on: bad input then good input, and
a second search, each checked with `check_htmx_path` (errors at their fields and announced, the
result read out by the status region that was there before the swap, the title, axe)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from tests.helpers.browser import assert_accessible
from tests.helpers.htmx_paths import Step, check_htmx_path

pytestmark = pytest.mark.browser

LOCAL_TILES = "/static/img/favicon.svg?z={z}&x={x}&y={y}"


@pytest.fixture
def planning_app(make_app):
    app = make_app(map_tile_url=LOCAL_TILES)
    with app.app_context():
        load_demo_gazetteer()
        from tests.planning.conftest import make_application

        make_application()
        make_application((52.97, -1.45), app_type="HOU", status="decided", decision="Refused")
        db.session.commit()
    return app


def _search(page: Page) -> None:
    page.get_by_role("button", name="Search", exact=True).click()


def test_planning_search(planning_app, live_server, page: Page) -> None:
    page.goto(live_server("/planning"))
    expect(page).to_have_title(re.compile(r"^Planning applications – "))

    def bad_date(p: Page) -> None:
        p.fill("#received_from", "31/02/2026")
        _search(p)

    def good_date(p: Page) -> None:
        p.fill("#received_from", "")
        _search(p)

    def decided_only(p: Page) -> None:
        p.select_option("#status", "decided")
        _search(p)

    message = "Enter the 'received from' date as a real date, like 2026-03-27"
    check_htmx_path(
        page,
        "planning search",
        "main",
        [
            Step(
                bad_date,
                title=re.compile(r"^Error: Planning applications – "),
                error_field="received_from",
                error=message,
            ),
            Step(
                good_date,
                status="2 applications found",
                title=re.compile(r"^2 applications found – Planning applications – "),
            ),
            Step(
                decided_only,
                status="1 application found",
                title=re.compile(r"^1 application found – Planning applications – "),
            ),
        ],
    )
    # the results and their map are back after the error
    expect(page.locator("#planning-results")).to_contain_text("1 application found")
    expect(page.locator("#register-map")).to_be_visible()
    assert "status=decided" in page.url


def test_planning_search_without_javascript(planning_app, live_server, nojs_page: Page) -> None:
    nojs_page.goto(live_server("/planning?received_from=31%2F02%2F2026"))
    expect(nojs_page).to_have_title(re.compile(r"^Error: Planning applications – "))
    expect(nojs_page.locator(".govuk-error-summary a[href='#received_from']")).to_be_visible()
    expect(nojs_page.locator("#received_from-error")).to_contain_text("as a real date")
    nojs_page.goto(live_server("/planning?status=decided"))
    expect(nojs_page).to_have_title(re.compile(r"^1 application found – Planning applications – "))


@pytest.fixture
def services_app(app):
    from portal.council_services.demo import load_demo_catalogue

    with app.app_context():
        load_demo_catalogue()
        db.session.commit()
    return app


def test_services_live_search(services_app, live_server, page: Page) -> None:
    page.goto(live_server("/services/search"))
    results = page.locator("#search-results")
    # the list itself is not a live region: only the short count is read out
    expect(results).not_to_have_attribute("aria-live", re.compile("."))
    expect(page.locator("main [aria-live]")).to_have_count(0)
    history = page.evaluate("history.length")

    def typing(text: str):
        return lambda p: p.fill("#q", text)

    def submitted(p: Page) -> None:
        p.fill("#q", "bin")
        p.get_by_role("button", name="Search", exact=True).click()

    check_htmx_path(
        page,
        "services live search",
        "#search-results",
        [
            Step(
                typing("qwertyuiop"),
                status="No services found for “qwertyuiop”",
                title=re.compile("^No services found for “qwertyuiop” – Search services – "),
            ),
            Step(
                typing("bin"),
                status=re.compile(r"^\d+ services? found for “bin”$"),
                title=re.compile(r"^\d+ services? found for “bin” – Search services – "),
            ),
            Step(
                typing("recyclng"),
                status=re.compile(r"^\d+ services? found for “recyclng”$"),
            ),
            Step(submitted, status=re.compile(r"^\d+ services? found for “bin”$")),
        ],
    )
    count = page.locator("#search-results .council-services-list li").count()
    expect(page.locator("#portal-status")).to_have_text(f"{count} services found for “bin”")
    assert len(page.locator("#portal-status").inner_text()) < 40
    # each search replaces the address instead of adding a history entry
    assert page.evaluate("history.length") == history
    assert page.url.endswith("/services/search?q=bin")


def test_services_search_from_the_a_to_z_with_javascript(services_app, live_server, page: Page):
    """The A to Z has the same search box but no results area: it submits as a plain form."""
    page.goto(live_server("/services"))
    page.fill("#q", "bin")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_title(re.compile(r"^\d+ services? found for “bin” – Search services – "))
    expect(page.locator("h1")).to_have_text("Search services")
    assert_accessible(page, "search from the A to Z")


def test_staff_status_notice(services_app, live_server, context) -> None:  # noqa: ANN001
    from tests.helpers.auth import make_user, sign_in

    user = make_user(services_app, roles=("editor",))
    client = services_app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie(services_app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server("/")}])
    page = context.new_page()
    page.goto(live_server("/staff/services/1/edit"))

    def save(text: str):
        def act(p: Page) -> None:
            p.fill("#status_notice-notice", text)
            p.get_by_role("button", name="Save notice").click()

        return act

    check_htmx_path(
        page,
        "staff status notice",
        "#notice-editor",
        [
            Step(
                save("x" * 301),
                error_field="status_notice-notice",
                error="Status notice must be 300 characters or fewer",
            ),
            Step(save("Offices closed today"), status="Status notice saved"),
            Step(save("Offices open again"), status="Status notice saved"),
        ],
    )
    expect(page.locator("#status_notice-notice")).to_have_value("Offices open again")
