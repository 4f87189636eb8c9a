"""Kiosk journeys in Chromium: enrolment, idle warning and reset, assisted access, statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.accounts.models import UserSession
from portal.channels.kiosk import DEVICE_COOKIE
from portal.channels.models import KioskSession
from portal.common.browser_sessions import stored_data
from portal.common.clock import uk_day_start, uk_today
from portal.common.models import ServiceTransaction
from portal.common.transactions import SELF_SERVICE_DIGITAL
from portal.extensions import db
from tests.channels.helpers import enrol, library_staff
from tests.helpers.auth import make_user, signed_session_cookie
from tests.helpers.browser import assert_accessible, serve

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def session_cookie(app, user) -> dict:  # noqa: ANN001
    """A browser cookie carrying a valid server-side session for `user`."""
    value = signed_session_cookie(app, user)
    return {"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": ""}


def add_cookie(page, server, cookie: dict) -> None:  # noqa: ANN001
    page.context.add_cookies([{**cookie, "url": server.url}])


def axe(tab, label: str, javascript: bool = True) -> None:  # noqa: ANN001
    """axe runs inside the page, so only with JavaScript on (the same pages are checked there)."""
    if javascript:
        assert_accessible(tab, label)


def device_cookie(value: str) -> dict:
    return {"name": DEVICE_COOKIE, "value": value, "url": ""}


@pytest.mark.parametrize("javascript", [True, False])
def test_a_library_kiosk_is_enrolled(app, page, nojs_page, javascript):
    tab = page if javascript else nojs_page
    staff = make_user(app, roles=("library",), name="Tom Bright")
    with serve(app) as server:
        add_cookie(tab, server, session_cookie(app, staff))
        tab.goto(server("/staff/kiosks"))
        axe(tab, "kiosks, empty", javascript)
        tab.get_by_role("button", name="Enrol this computer").click()
        expect(tab.locator(".govuk-error-summary")).to_be_visible()
        axe(tab, "kiosks, errors", javascript)
        tab.get_by_label("Library").fill("Castlebrook Central Library")
        tab.get_by_label("Name of this computer").fill("Terminal 1")
        tab.get_by_role("button", name="Enrol this computer").click()
        expect(tab.locator(".govuk-panel")).to_contain_text("Castlebrook Central Library")
        expect(tab.locator("#assist-code")).to_have_count(0)  # never on the public screen
        axe(tab, "enrolled", javascript)
        tab.get_by_role("button", name="Go to the kiosk start page").click()
        expect(tab.locator("html.portal-kiosk")).to_have_count(1)
        expect(tab.get_by_role("button", name="Start again")).to_be_visible()
        expect(tab.get_by_role("link", name="Ask for help").first).to_be_visible()
        axe(tab, "kiosk start", javascript)
        cookies = {c["name"]: c for c in tab.context.cookies()}
        assert cookies[DEVICE_COOKIE]["value"].startswith("castlebrook-central-library.")
        assert (
            cookies[DEVICE_COOKIE]["expires"]
            > (datetime.now(UTC) + timedelta(days=300)).timestamp()
        )
        assert cookies[DEVICE_COOKIE]["httpOnly"]
        tab.get_by_role("button", name="High contrast").click()
        expect(tab.locator("html.portal-kiosk--contrast")).to_have_count(1)
        axe(tab, "kiosk start, high contrast", javascript)
        tab.get_by_role("link", name="Ask for help").first.click()
        tab.wait_for_url("**/kiosk/help**")
        axe(tab, "kiosk help", javascript)


def test_an_idle_session_is_warned_extended_then_reset_with_nothing_left(make_app, page):
    app = make_app(kiosk_idle_seconds=2, kiosk_warning_seconds=4, kiosk_touch_seconds=0)
    _, cookie, _ = enrol(app)
    resident = make_user(app, name="Ada Resident")
    with serve(app) as server:
        add_cookie(page, server, device_cookie(cookie))
        add_cookie(page, server, session_cookie(app, resident))
        page.goto(server("/kiosk"))
        page.goto(server("/kiosk/help"))
        expect(page.locator("body")).to_contain_text("Signed in as Ada Resident")
        page.evaluate("localStorage.setItem('draft', 'Ada'); sessionStorage.setItem('step', '2')")

        warning = page.locator("#kiosk-idle-warning")
        warning.wait_for(state="visible", timeout=5000)
        assert page.evaluate("document.activeElement.id") == "kiosk-idle-warning"
        expect(page.locator("#kiosk-live")).to_contain_text("Are you still there?")
        expect(page.get_by_role("alertdialog")).to_be_visible()
        assert_accessible(page, "kiosk idle warning")
        page.get_by_role("button", name="I need more time").click()
        warning.wait_for(state="hidden")
        assert "/kiosk/help" in page.url  # the visit carries on

        warning.wait_for(state="visible", timeout=5000)
        page.wait_for_url("**/kiosk?ended=idle", timeout=10_000)
        expect(page.locator("#kiosk-ended")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("Ada Resident")
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        names = {c["name"] for c in page.context.cookies()}
        assert names <= {DEVICE_COOKIE, app.config["SESSION_COOKIE_NAME"]}
        for c in page.context.cookies():
            if c["name"] == app.config["SESSION_COOKIE_NAME"]:
                data = stored_data(app, c["value"])
                assert "sid" not in data
                assert c["expires"] == -1  # a browser-session cookie, never persistent
        page.go_back()
        page.wait_for_load_state()
        expect(page.locator("body")).not_to_contain_text("Ada Resident")
        assert_accessible(page, "kiosk start after reset")
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is not None
        reasons = set(db.session.scalars(select(KioskSession.end_reason)))
        assert "idle" in reasons


@pytest.mark.parametrize("javascript", [True, False])
def test_an_assisted_contact_is_counted_as_kiosk_assisted(app, page, nojs_page, javascript):
    tab = page if javascript else nojs_page
    _, cookie, code = enrol(app)
    staff = library_staff(app, PASSWORD, name="Tom Bright")
    with serve(app) as server:
        add_cookie(tab, server, device_cookie(cookie))
        tab.goto(server("/kiosk"))
        tab.get_by_role("link", name="Ask for help").first.click()
        tab.get_by_role("button", name="Start helping this resident").click()
        expect(tab.get_by_label("Assistance code")).to_be_visible()
        axe(tab, "assist sign-in", javascript)
        tab.get_by_label("Staff email address").fill(staff.email)
        tab.get_by_label("Password").fill("not the password")
        tab.get_by_label("Assistance code").fill(code)
        tab.get_by_role("button", name="Sign in to help").click()
        assert (
            "The email address, password or code is not right"
            in tab.locator(".govuk-error-summary").inner_text()
        )
        axe(tab, "assist sign-in, error", javascript)
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_label("Assistance code").fill(code)
        tab.get_by_role("button", name="Sign in to help").click()
        expect(tab.locator("h1")).to_have_text("Do you want help from Tom Bright?")
        axe(tab, "consent", javascript)
        tab.get_by_label("Yes, I want their help").check()
        tab.get_by_role("button", name="Continue").click()
        expect(tab.locator("#kiosk-assisted")).to_contain_text("Assisted by Tom Bright")
        axe(tab, "kiosk start, assisted", javascript)
        tab.get_by_role("link", name="Record an enquiry you answered for this resident").click()
        expect(tab.locator("#kiosk-assisted")).to_contain_text("Assisted by Tom Bright")
        axe(tab, "record contact, assisted", javascript)
        tab.get_by_role("button", name="Record contact").click()
        expect(tab.locator(".govuk-error-summary")).to_be_visible()
        axe(tab, "record contact, assisted, errors", javascript)
        tab.get_by_label("Service the enquiry was about").select_option(label="Allotments")
        tab.get_by_label("What was the enquiry about?").fill("Waiting list for allotments")
        tab.get_by_role("button", name="Record contact").click()
        expect(tab.locator("#contact-channel")).to_have_text("Library kiosk with staff help")
        axe(tab, "contact receipt", javascript)
        tab.get_by_role("button", name="Hand back").click()
        expect(tab.locator("#kiosk-assisted")).to_have_count(0)
    with app.app_context():
        rows = db.session.execute(
            select(ServiceTransaction.channel, ServiceTransaction.staff_id, ServiceTransaction.lgsl)
        ).all()
    assert [tuple(r) for r in rows] == [("kiosk_assisted", staff.id, 510)]


@pytest.mark.parametrize("javascript", [True, False])
def test_a_phone_contact_and_the_statistics_equal_the_records(app, page, nojs_page, javascript):
    tab = page if javascript else nojs_page
    from portal.channels.demo import load_demo_take_up

    with app.app_context():
        load_demo_take_up()
    officer = make_user(app, roles=("officer",), name="Priya Shah")
    manager = make_user(app, roles=("manager",))
    make_user(app, email="ada@example.com", name="Ada Lovelace")
    with serve(app) as server:
        add_cookie(tab, server, session_cookie(app, officer))
        tab.goto(server("/staff/contacts/new"))
        axe(tab, "record contact", javascript)
        tab.get_by_label("Find the resident by name, email or address").fill("lovelace")
        tab.get_by_role("button", name="Search").click()
        tab.get_by_label("Ada Lovelace, ada@example.com").check()
        tab.get_by_label("Service the enquiry was about").select_option(
            label="Council tax account enquiries"
        )
        tab.get_by_label("Phone").check()
        tab.get_by_label("What was the enquiry about?").fill("Asked about council tax bands")
        tab.get_by_role("button", name="Record contact").click()
        expect(tab.locator("#contact-channel")).to_have_text("Phone")
        axe(tab, "contact receipt", javascript)

        tab.context.clear_cookies()
        add_cookie(tab, server, session_cookie(app, manager))
        tab.goto(server("/staff/statistics?period=quarter"))
        axe(tab, "statistics", javascript)
        with app.app_context():
            from portal.statistics.services import period_for

            quarter = period_for("quarter", uk_today())
            start = uk_day_start(quarter.start)
            end = uk_day_start(quarter.end + timedelta(days=1))
            in_period = (ServiceTransaction.occurred_at >= start) & (
                ServiceTransaction.occurred_at < end
            )
            total = db.session.scalar(select(func.count()).where(in_period))
            digital = db.session.scalar(
                select(func.count()).where(
                    in_period, ServiceTransaction.channel.in_(SELF_SERVICE_DIGITAL)
                )
            )
            phone = db.session.scalar(
                select(func.count()).where(in_period, ServiceTransaction.channel == "phone")
            )
        expect(tab.locator("#stat-total")).to_have_text(f"{total:,}")
        expect(tab.locator("#stat-digital")).to_have_text(f"{round(100 * digital / total, 1)}%")
        phone_row = tab.locator("#table-channel tr[data-channel=phone] td").first
        expect(phone_row).to_have_text(f"{phone:,}")
        tab.get_by_label("Custom dates").first.check()
        tab.locator("summary", has_text="Custom dates").click()
        tab.locator("#from-day").fill("10")
        tab.locator("#from-month").fill("6")
        tab.locator("#from-year").fill("2026")
        tab.locator("#to-day").fill("1")
        tab.locator("#to-month").fill("6")
        tab.locator("#to-year").fill("2026")
        tab.get_by_role("button", name="Show statistics").click()
        assert (
            "The end date must be the same as or after the start date"
            in tab.locator(".govuk-error-summary").inner_text()
        )
        axe(tab, "statistics, error", javascript)
        tab.goto(server("/performance/take-up"))
        axe(tab, "public take-up", javascript)


# The fields autofill fills: every input but these, every select and textarea.
FIELDS_JS = """() => [...document.querySelectorAll('form, input, select, textarea')]
  .filter(el => !(el.tagName === 'INPUT' &&
    ['hidden', 'checkbox', 'radio', 'file', 'submit', 'image', 'reset', 'button'].includes(el.type)))
  .map(el => ({tag: el.tagName, name: el.name || el.id, autocomplete: el.getAttribute('autocomplete'),
               value: el.tagName === 'FORM' ? '' : el.value, autofilled: el.matches(':autofill')}))"""


# Browsers hide which links are visited from scripts and headless Chromium draws none as visited,
# so the check reads the colour the GOV.UK styles give a visited link (--govuk-link-visited-colour,
# used by .govuk-link:visited) and compares it with the colour of the link as drawn.
VISITED_JS = """(name) => {
  const link = [...document.querySelectorAll('a')].find(a => a.textContent.trim() === name);
  const probe = document.createElement('span');
  probe.style.color = getComputedStyle(link).getPropertyValue('--govuk-link-visited-colour');
  link.appendChild(probe);
  const result = [getComputedStyle(probe).color, getComputedStyle(link).color];
  probe.remove();
  return result;
}"""


@pytest.mark.parametrize("javascript", [True, False])
def test_the_next_visitor_is_offered_nothing_the_last_one_typed(app, page, nojs_page, javascript):
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.online_forms.demo import load_demo_forms

    tab = page if javascript else nojs_page
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    _, cookie, _ = enrol(app)
    pages = ["/sign-in", "/register", "/forgotten-password", "/planning/alerts", "/pay", "/kiosk"]
    with serve(app) as server:
        add_cookie(tab, server, device_cookie(cookie))
        # The first visitor types their details into several forms.
        tab.goto(server("/sign-in"))
        tab.get_by_label("Email address").fill("first.visitor@example.com")
        tab.locator("#password").fill("not their password")
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.locator(".govuk-error-summary")).to_be_visible()
        tab.goto(server("/planning/alerts"))
        tab.get_by_label("Around an address or postcode").check()
        tab.locator("#postcode").fill("CK1 1AB")
        tab.locator("#email").fill("first.visitor@example.com")
        tab.goto(server("/forms/report-missed-bin"))
        tab.get_by_role("button", name="Start now").click()
        tab.fill("#address-postcode", "CK1 1AB")
        tab.click("button[name=address_find]")
        expect(tab.locator("select#address")).to_be_visible()
        tab.goto(server("/kiosk"))
        tab.get_by_role("link", name="Find a council service").click()
        tab.wait_for_url("**/services")
        tab.get_by_role("button", name="Start again").click()
        tab.wait_for_url("**/kiosk?ended=start_again")

        # The next visitor: every field says autocomplete="off" and nothing is filled in.
        for url in pages:
            tab.goto(server(url))
            fields = tab.evaluate(FIELDS_JS)
            assert fields, url
            offered = [f for f in fields if f["autocomplete"] != "off"]
            assert not offered, (url, offered)
            filled = [f for f in fields if f["value"] or f["autofilled"]]
            assert not filled, (url, filled)
        tab.goto(server("/forms/report-missed-bin"))
        tab.get_by_role("button", name="Start now").click()
        expect(tab.locator("#address-postcode")).to_be_visible()  # the first page has loaded
        fields = tab.evaluate(FIELDS_JS)
        assert [f for f in fields if f["name"] == "address_postcode"]
        assert all(f["autocomplete"] == "off" and not f["value"] for f in fields), fields

        # Links the first visitor followed look like the others.
        tab.goto(server("/kiosk"))
        axe(tab, "kiosk start after a visit", javascript)
        if javascript:  # the same stylesheet either way; reading it needs a script
            visited, unvisited = tab.evaluate(VISITED_JS, "Find a council service")
            assert visited == unvisited, (visited, unvisited)
