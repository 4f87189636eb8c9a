"""Staff in Chromium: build a branching form and publish it; work the inbox; axe everywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import PortalDelivery
from portal.extensions import db
from portal.online_forms.demo import load_demo_forms
from portal.online_forms.models import FormSubmission, OfficeMember
from portal.online_forms.services import load_demo_offices
from tests.browser.test_forms_runner import address, assert_accessible, fill, radio, recent_date
from tests.helpers.auth import make_user, sign_in


@pytest.fixture
def demo_server(app, live_server):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    return live_server


def signed_in(app, page: Page, server, roles, offices=()):
    user = make_user(app, roles=roles, name="Sam Staff")
    with app.app_context():
        load_demo_offices()
        for office in offices:
            db.session.add(OfficeMember(user_id=user.id, office=office))
        db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": server("/")}])
    return user


def test_editor_builds_a_branching_form_and_publishes_it(app, live_server, page):
    from tests.council_services.factories import make_service

    with app.app_context():  # a form goes live onto its register interaction (docs/bvpi157.md)
        make_service("Street lighting", 564, [{"lgil": 0}])
    signed_in(app, page, live_server, ("editor",))
    page.goto(live_server("/staff/forms/builder"))
    assert_accessible(page, "builder, empty")
    page.click("text=Create a form")
    page.click("button:has-text('Save settings')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the form's title")
    assert_accessible(page, "settings errors")
    page.fill("#title", "Report a broken street light")
    page.fill("#slug", "broken-street-light")
    page.fill("#lgsl", "564")
    page.select_option("#lgil", "0")
    page.select_option("#office", "Customer services")
    page.fill("#response_days", "5")
    page.fill("#what_happens_next", "We fix most lights within 5 working days.")
    page.click("button:has-text('Save settings')")
    expect(page.locator("h1")).to_have_text("Report a broken street light")
    assert_accessible(page, "overview, no pages")
    # page 1: a yes/no question
    page.click("button:has-text('Add a page')")
    expect(page.locator("h1")).to_have_text("Add a question")
    assert_accessible(page, "add a question")
    page.click("button:has-text('Save question')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the question")
    assert_accessible(page, "question errors")
    page.get_by_label("Yes or no", exact=True).check()
    page.fill("#label", "Is the light leaning or damaged?")
    page.click("button:has-text('Save question')")
    # page 2: a short text question
    page.click("button:has-text('Add a page')")
    page.get_by_label("Short text", exact=True).check()
    page.fill("#label", "Which column number is on the light?")
    page.click("button:has-text('Save question')")
    # an exit page
    page.click("button:has-text('Add an exit page')")
    assert_accessible(page, "exit page editor")
    page.fill("#title", "Call us now")
    page.fill("#guidance", "A damaged column is dangerous. Call **01632 960 999**.")
    page.click("button:has-text('Save page')")
    # branching: "Yes" goes to the exit page
    page.click("a:has-text('Branching')")
    assert_accessible(page, "branching")
    page.select_option("#goto-yes", label="Exit page: Call us now")
    page.click("button:has-text('Save branching')")
    expect(page.locator("main")).to_contain_text("If ‘Yes’, go to Call us now")
    assert_accessible(page, "overview with pages")
    with app.app_context():
        assert db.session.scalar(select(PortalDelivery)) is None
    page.click("button:has-text('Publish version 1')")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Version 1 is live")
    with app.app_context():
        delivery = db.session.scalar(select(PortalDelivery))
        assert (delivery.lgsl, delivery.lgil, delivery.live) == (564, 0, True)
    # a resident follows the branch to the exit page
    page.context.clear_cookies()
    page.goto(live_server("/forms/broken-street-light"))
    page.click("text=Start now")
    radio("Yes")(page, True)
    expect(page.locator("h1")).to_have_text("Call us now")
    assert_accessible(page, "built exit page")
    page.click("a.govuk-back-link")
    radio("No")(page, False)
    fill(**{_text_field(page): "A12"})(page, True)
    page.click("button.govuk-button >> text=/Send/")
    expect(page.locator("h1")).to_have_text("Form sent")


def _text_field(page: Page) -> str:
    return page.locator("input.govuk-input").first.get_attribute("id")


def test_officer_works_the_inbox_and_exports_csv(app, demo_server, page, browser):
    resident = browser.new_context()
    r = resident.new_page()
    r.goto(demo_server("/forms/report-missed-bin"))
    r.click("text=Start now")
    address(r, False)
    radio("Recycling")(r, False)
    radio("Yes")(r, False)
    day, month, year = recent_date()
    r.fill("#missed_on-day", day)
    r.fill("#missed_on-month", month)
    r.fill("#missed_on-year", year)
    r.click("button[name=continue]")
    fill(details="")(r, False)
    fill(name="Ada")(r, False)
    r.fill("#email", "ada@example.com")
    r.click("button.govuk-button >> text=/Send/")
    reference = r.locator("#reference").inner_text()
    resident.close()

    signed_in(demo_server.app, page, demo_server, ("officer",), ("Waste services",))
    page.goto(demo_server("/staff/forms"))
    assert_accessible(page, "inbox")
    page.select_option("#filter-status", "resolved")
    page.click("button:has-text('Filter')")
    expect(page.locator("#results")).to_contain_text("No submissions match")
    assert_accessible(page, "inbox, empty filter")
    page.select_option("#filter-status", "")
    page.click("button:has-text('Filter')")
    page.click(f"text={reference}")
    expect(page.locator("h1")).to_have_text(reference)
    assert_accessible(page, "submission")
    page.select_option("#status-select", "rejected")
    page.click("button:has-text('Change status')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a note")
    assert_accessible(page, "submission error")
    page.select_option("#status-select", "in_progress")
    page.fill("#note", "Crew booked.")
    page.click("button:has-text('Change status')")
    expect(page.locator("#status")).to_have_text("In progress")
    with app.app_context():
        form_id = db.session.scalar(select(FormSubmission)).form_id
    with page.expect_download() as info:
        page.evaluate(f"window.location.href = '/staff/forms/export/{form_id}.csv?version=1'")
    with open(info.value.path(), encoding="utf-8") as handle:
        text = handle.read()
    assert reference in text and "In progress" in text


@pytest.mark.parametrize("path", ["/consultations"])
def test_public_form_pages_are_accessible(demo_server, page, path):
    page.goto(demo_server(path))
    assert_accessible(page, path)


def test_axe_on_the_remaining_pages_and_states(app, demo_server, page, browser):
    from datetime import date, timedelta

    from portal.online_forms import services
    from portal.online_forms.models import OnlineForm

    # a resident tells us they moved, so there is a progress page with parts
    resident = browser.new_context()
    r = resident.new_page()
    r.goto(demo_server("/forms/library-opening-hours"))
    r.click("text=Start now")
    radio("Evenings")(r, False)
    radio("Yes")(r, False)
    fill(comments="")(r, False)
    r.click("button.govuk-button >> text=/Send/")
    r.goto(demo_server("/forms/report-missed-bin/resume/not-a-real-token"))
    expect(r.locator("h1")).to_have_text("This link has expired")
    assert_accessible(r, "expired link")
    resident.close()
    with app.app_context():
        form = db.session.scalar(
            select(OnlineForm).where(OnlineForm.slug == "library-opening-hours")
        )
        form.closes_on = date.today() - timedelta(days=1)
        with app.test_request_context():
            services.publish_summary(form, "Most people chose **evenings**.")
        db.session.commit()
        form_id = form.id
    page.goto(demo_server("/consultations"))
    expect(page.locator("main")).to_contain_text("1 responses")
    assert_accessible(page, "consultations with results")
    signed_in(app, page, demo_server, ("editor", "admin", "officer"), ("Libraries",))
    for path in (
        f"/staff/forms/builder/{form_id}/metrics",
        "/staff/forms/builder",
        "/staff/forms/open311-keys",
        "/staff/forms/offices",
        "/staff/forms",
    ):
        page.goto(demo_server(path))
        assert_accessible(page, path)
    page.goto(demo_server("/staff/forms/open311-keys"))
    page.click("button:has-text('Issue a key')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter who the key is for")
    assert_accessible(page, "keys error")
    page.fill("#name", "Street app")
    page.click("button:has-text('Issue a key')")
    expect(page.locator("#new-key")).to_be_visible()
    assert_accessible(page, "key issued")


def test_axe_on_tell_us_once_progress(app, demo_server, page):
    page.goto(demo_server("/forms/i-have-moved"))
    page.click("text=Start now")
    address(page, False, "old_address")
    address(page, False, "new_address")
    page.fill("#moved_on-day", "1")
    page.fill("#moved_on-month", "10")
    page.fill("#moved_on-year", "2026")
    page.click("button[name=continue]")
    fill(name="Mo", email_address="mo@example.com")(page, False)
    page.check("#declaration")
    page.click("button.govuk-button >> text=/Send/")
    page.click("text=Follow the progress of each part")
    expect(page.locator("table")).to_contain_text("Electoral services")
    assert_accessible(page, "progress")
