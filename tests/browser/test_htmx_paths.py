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
from tests.repairs.conftest import world  # noqa: F401  (the world fixture)

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
        p.fill("#received_from-day", "31")
        p.fill("#received_from-month", "2")
        p.fill("#received_from-year", "2026")
        _search(p)

    def good_date(p: Page) -> None:
        for part in ("day", "month", "year"):
            p.fill(f"#received_from-{part}", "")
        _search(p)

    def decided_only(p: Page) -> None:
        p.select_option("#status", "decided")
        _search(p)

    message = "Received from must be a real date"
    check_htmx_path(
        page,
        "planning search",
        "main",
        [
            Step(
                bad_date,
                title=re.compile(r"^Error: Planning applications – "),
                error_field="received_from-day",
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
    nojs_page.goto(
        live_server("/planning?received_from-day=31&received_from-month=2&received_from-year=2026")
    )
    expect(nojs_page).to_have_title(re.compile(r"^Error: Planning applications – "))
    expect(nojs_page.locator(".govuk-error-summary a[href='#received_from-day']")).to_be_visible()
    expect(nojs_page.locator("#received_from-error")).to_contain_text("must be a real date")
    # the boxes keep what was typed
    expect(nojs_page.locator("#received_from-day")).to_have_value("31")
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


def test_find_your_ward_address_lookup(planning_app, live_server, page: Page) -> None:
    page.goto(live_server("/your-area"))

    def find(postcode: str):
        def act(p: Page) -> None:
            p.get_by_label("Postcode").fill(postcode)
            p.get_by_role("button", name="Find address").click()

        return act

    area = "Enter a postcode in the Castlebrook Council area"
    check_htmx_path(
        page,
        "find your ward",
        "#uprn-lookup",
        [
            Step(find("SW1A 1AA"), error_field="uprn-postcode", error=area, summary=False),
            Step(find("CK1 1AD"), status="13 addresses found for CK1 1AD"),
            Step(find("CK1 1AB"), status=re.compile(r"^\d+ addresses found for CK1 1AB$")),
        ],
    )


def _signed_in(app, page: Page, live_server, roles, offices=()) -> None:  # noqa: ANN001
    from portal.online_forms.models import OfficeMember
    from tests.helpers.auth import make_user, sign_in

    user = make_user(app, roles=roles, name="Sam Staff")
    with app.app_context():
        for office in offices:
            db.session.add(OfficeMember(user_id=user.id, office=office))
        db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server("/")}])


def _filter(button: str, **values: str):
    def act(p: Page) -> None:
        for field, value in values.items():
            if p.locator(f"select#{field}").count():
                p.select_option(f"#{field}", value)
            else:
                p.fill(f"#{field}", value)
        p.get_by_role("button", name=button, exact=True).click()

    return act


def test_form_submissions_inbox(app, live_server, page: Page) -> None:
    _signed_in(app, page, live_server, ("officer",), ("Waste services",))
    page.goto(live_server("/staff/forms"))
    check_htmx_path(
        page,
        "form submissions inbox",
        "#results",
        [
            Step(
                _filter("Filter", **{"from-day": "31", "from-month": "2", "from-year": "2026"}),
                error_field="from-day",
                error="Sent from must be a real date",
                title=re.compile("^Error: Form submissions – "),
            ),
            Step(
                _filter("Filter", **{"from-day": "1"}),
                status="0 submissions found",
                title=re.compile("^0 submissions found – Form submissions – "),
            ),
            Step(_filter("Filter", **{"filter-status": "resolved"}), status="0 submissions found"),
        ],
    )
    assert "status=resolved" in page.url


def test_staff_payments_search(app, live_server, page: Page) -> None:
    _signed_in(app, page, live_server, ("finance",))
    page.goto(live_server("/staff/payments/"))
    check_htmx_path(
        page,
        "staff payments search",
        "#results",
        [
            Step(
                _filter("Search", **{"to-day": "24", "to-month": "11"}),
                error_field="to-year",
                error="Created to must include a year",
                title=re.compile("^Error: Payments – "),
            ),
            Step(
                _filter("Search", **{"to-year": "2026"}),
                status="0 payments found",
                title=re.compile("^0 payments found – Payments – "),
            ),
            Step(
                _filter("Search", **{"from-day": "25", "from-month": "11", "from-year": "2026"}),
                error_field="to-day",
                error="Created to must be the same as or after 25 November 2026",
            ),
            Step(
                _filter("Search", **{"from-day": "", "from-month": "", "from-year": ""}),
                status="0 payments found",
            ),
            Step(_filter("Search", q="no such payment"), status="0 payments found"),
        ],
    )
    expect(page.locator("#results")).to_contain_text("No payments match your search.")


def test_repairs_triage_board(app, world, live_server, page: Page) -> None:  # noqa: F811
    """The board's filters have no input that can be wrong: good input, twice, and a view link."""
    from tests.browser.test_repairs_journey import sign_in_page
    from tests.repairs.test_booking import make_repair

    make_repair(app, world.tenant, world.home_id)
    sign_in_page(page, app, world.housing)
    page.goto(live_server("/staff/repairs"))

    def view_link(name: str):
        return lambda p: p.get_by_role("link", name=name, exact=True).click()

    check_htmx_path(
        page,
        "repairs triage board",
        "#board-results",
        [
            Step(
                _filter("Filter", q="no such repair"),
                status="New: 0 repairs",
                title=re.compile("^New: 0 repairs – Repairs triage board – "),
            ),
            Step(_filter("Filter", q=""), status=re.compile(r"^New: \d+ repairs?$")),
            Step(
                view_link("All"),
                status="All: 1 repair",
                title=re.compile("^All: 1 repair – Repairs triage board – "),
            ),
        ],
    )
