"""Bin day in a real browser: the lookup with JavaScript on and off, the page, the printable
calendar, reminder sign-up and the staff screen, each checked with axe."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import pytest
from playwright.sync_api import Page, expect

from portal.common.clock import uk_today
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.waste.demo import load_demo_waste
from tests.helpers.auth import make_user, sign_in
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def app(app):  # noqa: F811  (the suite's app with the demo addresses and rounds)
    with app.app_context():
        load_demo_gazetteer()
        load_demo_waste()
    return app


def _signed_in(page: Page, app, roles=()) -> None:  # noqa: ANN001
    user = make_user(app, roles=roles)
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies(
        [{"name": "session", "value": cookie.value, "domain": "127.0.0.1", "path": "/"}]
    )


def test_bin_day_without_javascript(live_server, nojs_page):
    page = nojs_page
    page.goto(live_server("/bin-collection"))
    page.get_by_label("Postcode").fill("ck1 1ab")
    page.get_by_role("button", name="Find address").click()
    page.wait_for_url("**uprn_find=1**")
    page.get_by_label("Select an address").select_option(label="1 Abbey Road, Castlebrook, CK1 1AB")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("1 Abbey Road, Castlebrook, CK1 1AB")
    expect(page.locator("#next-collections li")).to_have_count(3)
    expect(page.locator("#next-collections")).to_contain_text("Recycling:")
    page.get_by_role("link", name="Printable calendar").click()
    expect(page.locator("h1")).to_have_text("Bin collection calendar")
    page.emulate_media(media="print")
    expect(page.locator(".govuk-header")).to_be_hidden()
    expect(page.locator(".waste-calendar")).to_be_visible()


def test_bin_day_with_javascript_and_axe(live_server, page: Page):
    page.goto(live_server("/bin-collection"))
    page.wait_for_function("window.htmx !== undefined")
    assert_accessible(page, "bin day lookup")
    page.get_by_label("Postcode").fill("SW1A 1AA")
    page.get_by_role("button", name="Find address").click()
    expect(page.locator("#uprn-postcode-error")).to_contain_text("Enter a postcode in the")
    page.get_by_label("Postcode").fill("CK1 1AB")
    with page.expect_response("**/addresses/lookup**"):
        page.get_by_role("button", name="Find address").click()
    select = page.get_by_label("Select an address")
    select.wait_for()
    assert page.url == live_server("/bin-collection")  # htmx swapped the list in
    select.select_option(label="2 Abbey Road, Castlebrook, CK1 1AB")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("2 Abbey Road, Castlebrook, CK1 1AB")
    expect(page.locator(".waste-calendar tbody tr").first).to_be_visible()
    assert_accessible(page, "bin collections for an address")
    page.get_by_role("link", name="Printable calendar").click()
    assert_accessible(page, "printable calendar")


def _long_date(day: date, today: date) -> str:
    """A date as the bin-day pages write it ("Tuesday 8 December", the year if not this one)."""
    text = f"{day:%A} {day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"


def _table_collections(page: Page) -> set[tuple[str, str]]:
    """(collection day, bin) for every bin in the calendar table, as the page shows them."""
    found = set()
    for row in page.locator(".waste-calendar tbody tr").all():
        cells = row.locator("td")
        if cells.count() < 2:
            continue  # a week with no collections
        day = cells.nth(0).inner_text().strip()
        for name in cells.nth(1).locator(".waste-bin").all_inner_texts():
            found.add((day, name.split(" (")[0].strip()))
    return found


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_calendar_and_its_feed_agree(live_server, page: Page, nojs_page: Page, js: bool):
    p = page if js else nojs_page
    p.goto(live_server("/bin-collection/100090000001"))
    expect(p.locator("h1")).to_have_text("1 Abbey Road, Castlebrook, CK1 1AB")
    p.get_by_role("link", name="Printable calendar").click()
    expect(p.locator("h1")).to_have_text("Bin collection calendar")
    if js:
        assert_accessible(p, "printable calendar")
    shown = _table_collections(p)
    assert shown, "the calendar shows no collections"
    p.get_by_role("link", name="Back to your bin collections").click()
    href = p.get_by_role("link", name="Add your collections to your calendar").get_attribute("href")
    feed = p.request.get(live_server(href) if href.startswith("/") else href)
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.body())
    today = uk_today()
    monday = today - timedelta(days=today.weekday())
    last = monday + timedelta(weeks=8, days=-1)  # the table shows eight weeks from this Monday
    from_feed = set()
    for event in calendar.walk("VEVENT"):
        day = event.decoded("DTSTART")
        if today <= day <= last:
            from_feed.add((_long_date(day, today), str(event["SUMMARY"]).split(" (")[0]))
    assert from_feed == shown


def test_reminder_sign_up_in_the_browser(live_server, page: Page):
    page.goto(live_server("/bin-collection/100090000001"))
    page.get_by_role("link", name="Get an email reminder the evening before").click()
    assert_accessible(page, "reminder sign-up")
    page.get_by_label("Email address").fill("nope")
    page.get_by_role("button", name="Send confirmation email").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("correct format")
    assert_accessible(page, "reminder sign-up with an error")
    page.get_by_label("Email address").fill("resident@example.com")
    page.get_by_role("button", name="Send confirmation email").click()
    expect(page.locator("h1")).to_have_text("Check your email")


def test_staff_screen_adds_a_change_and_refuses_an_overlap(live_server, page: Page, app):
    _signed_in(page, app, roles=("officer",))
    page.goto(live_server("/staff/bins/"))
    assert_accessible(page, "bin collections staff screen")
    form = page.locator("form", has=page.get_by_role("button", name="Add change"))
    for prefix, (d, m, y) in (
        ("change-from", ("31", "12", "2026")),
        ("change-new", ("2", "1", "2027")),
    ):
        form.locator(f"#{prefix}-day").fill(d)
        form.locator(f"#{prefix}-month").fill(m)
        form.locator(f"#{prefix}-year").fill(y)
    form.get_by_label("Reason").fill("Snow")
    form.get_by_role("button", name="Add change").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("overlaps another change")
    assert_accessible(page, "staff screen with an error")
