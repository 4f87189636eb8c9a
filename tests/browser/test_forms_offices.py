"""Staff in Chromium manage the receiving offices: list, add (with errors), change, retire; axe."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_forms_runner import assert_accessible
from tests.browser.test_forms_staff import signed_in


def test_editor_adds_changes_and_retires_an_office(app, live_server, page: Page):
    signed_in(app, page, live_server, ("editor",))
    page.goto(live_server("/staff/forms/builder"))
    page.click("text=Offices")
    expect(page.locator("h1")).to_have_text("Offices")
    expect(page.locator("tbody tr")).to_have_count(6)
    assert_accessible(page, "offices")
    page.click("text=Add an office")
    expect(page.locator("h1")).to_have_text("Add an office")
    assert_accessible(page, "add an office")
    page.click("button:has-text('Save office')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the office's name")
    expect(page.locator("#address-error")).to_contain_text("Enter the office's address")
    assert_accessible(page, "office errors")
    page.fill("#name", "Planning and building control")
    page.fill("#address", "Town Hall, Market Street, Castlebrook CK1 1AA")
    page.fill("#opening_hours", "Monday to Friday, 9am to 5pm")
    page.click("button:has-text('Save office')")
    expect(page.locator("main")).to_contain_text("Planning and building control saved.")
    expect(page.locator("tbody tr")).to_have_count(7)
    page.click("a:has-text('Change Planning and building control')")
    expect(page.locator("h1")).to_have_text("Change Planning and building control")
    assert_accessible(page, "change an office")
    page.fill("#opening_hours", "Monday to Thursday, 9am to 5pm")
    page.click("button:has-text('Save office')")
    expect(page.locator("tbody")).to_contain_text("Monday to Thursday, 9am to 5pm")
    page.click("button:has-text('Retire Libraries')")
    expect(page.locator("tbody tr").last).to_contain_text("Retired")
    expect(page.locator("tbody tr").last).to_contain_text("Libraries")
    assert_accessible(page, "offices with a retired one")
