"""Date filters on staff lists, in Chromium with JavaScript on and off: the GOV.UK day, month and
year boxes filter the list, and a bad date gives "There is a problem" whose links reach the box
in error (the summary takes focus when scripts run; each link moves focus to its field)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from tests.helpers.auth import make_user, sign_in
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser

LOCAL_TILES = "/static/img/favicon.svg?z={z}&x={x}&y={y}"


@pytest.fixture
def planning_app(make_app):
    app = make_app(map_tile_url=LOCAL_TILES)
    with app.app_context():
        load_demo_gazetteer()
        from tests.planning.conftest import make_application

        make_application(site_address="1 March Road, Castlebrook", received_date=date(2026, 3, 2))
        make_application(site_address="2 May Road, Castlebrook", received_date=date(2026, 5, 20))
        db.session.commit()
    return app


def _officer_on_the_planning_list(app, page: Page, server) -> None:  # noqa: ANN001
    """A planning officer signed in opens the staff area and follows its Planning link."""
    user = make_user(app, roles=("planning",), name="Pat Planner")
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": server("/")}])
    page.goto(server("/staff"))
    page.locator("main").get_by_role("link", name="Planning", exact=True).click()
    expect(page.locator("h1")).to_have_text("Planning applications")


def _type_date(page: Page, legend: str, day: str, month: str, year: str) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def _check_axe(page: Page, label: str, scripts: str) -> None:
    """axe on the page. axe needs scripts, so a page seen without them is checked as served
    again at the same address (every filtered list is a plain GET) in a context with scripts."""
    if scripts == "on":
        assert_accessible(page, label)
        return
    twin = page.context.browser.new_context()
    try:
        twin.add_cookies(page.context.cookies())
        other = twin.new_page()
        other.goto(page.url)
        assert_accessible(other, label + " (as served to a browser without scripts)")
    finally:
        twin.close()


def _rows(page: Page) -> list[str]:
    return page.locator("table.govuk-table tbody tr").all_inner_texts()


@pytest.mark.parametrize("scripts", ["on", "off"])
def test_filtering_a_staff_list_by_dates(planning_app, live_server, browser, scripts) -> None:  # noqa: ANN001
    context = browser.new_context(java_script_enabled=scripts == "on")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _officer_on_the_planning_list(planning_app, page, live_server)
        assert len(_rows(page)) == 2
        _check_axe(page, f"planning staff list, scripts {scripts}", scripts)

        # Received in March 2026: only the March application.
        _type_date(page, "Received from", "1", "3", "2026")
        _type_date(page, "Received to", "31", "3", "2026")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("table caption")).to_have_text("1 applications")
        rows = _rows(page)
        assert len(rows) == 1 and "1 March Road" in rows[0] and "2 March 2026" in rows[0]
        # The filtered list is an address a person can bookmark, and the boxes keep the dates.
        assert "received_from-day=1" in page.url and "received_to-month=3" in page.url
        expect(page.get_by_role("group", name="Received to").get_by_label("Day")).to_have_value(
            "31"
        )
        _check_axe(page, f"filtered by dates, scripts {scripts}", scripts)

        # An impossible date: the error summary, its link reaches the day box.
        _type_date(page, "Received to", "31", "2", "2026")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_title(re.compile(r"^Error: Planning"))
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("There is a problem")
        expect(summary.get_by_role("link")).to_have_text(["Received to must be a real date"])
        if scripts == "on":
            expect(summary).to_be_focused()
        expect(page.locator("#received_to-error")).to_contain_text(
            "Received to must be a real date"
        )
        # what was typed stays, in this box and the other filter
        expect(page.locator("#received_to-day")).to_have_value("31")
        expect(page.locator("#received_from-month")).to_have_value("3")
        _check_axe(page, f"impossible date, scripts {scripts}", scripts)
        summary.get_by_role("link", name="Received to must be a real date").click()
        expect(page.locator("#received_to-day")).to_be_focused()

        # A 'to' date before the 'from' date, and a box left empty.
        _type_date(page, "Received to", "28", "2", "2026")
        page.get_by_role("group", name="Received from").get_by_label("Year").fill("")
        page.get_by_role("button", name="Search").click()
        links = page.locator(".govuk-error-summary").get_by_role("link")
        expect(links).to_have_text(["Received from must include a year"])
        links.first.click()
        expect(page.locator("#received_from-year")).to_be_focused()
        page.locator("#received_from-year").fill("2026")
        page.get_by_role("button", name="Search").click()
        links = page.locator(".govuk-error-summary").get_by_role("link")
        expect(links).to_have_text(["Received to must be the same as or after 1 March 2026"])
        if scripts == "on":
            expect(page.locator(".govuk-error-summary")).to_be_focused()
        links.first.click()
        expect(page.locator("#received_to-day")).to_be_focused()
        _check_axe(page, f"to before from, scripts {scripts}", scripts)
    finally:
        context.close()
