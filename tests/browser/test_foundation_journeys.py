"""The address lookup journey on "Find your ward", without and with JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.common.gazetteer.demo import load_demo_gazetteer
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def gazetteer_app(app):
    with app.app_context():
        load_demo_gazetteer()
    return app


def test_address_lookup_without_javascript(gazetteer_app, live_server, nojs_page):
    page = nojs_page
    page.goto(live_server("/your-area"))
    page.get_by_label("Postcode").fill("ck1 1ab")
    page.get_by_role("button", name="Find address").click()
    page.wait_for_url("**uprn_find=1**")  # a real form submission
    page.get_by_label("Select an address").select_option(label="3 Abbey Road, Castlebrook, CK1 1AB")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("3 Abbey Road, Castlebrook, CK1 1AB")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Northgate")


def test_address_lookup_with_javascript_swaps_the_list_in(gazetteer_app, live_server, page):
    page.goto(live_server("/your-area"))
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("Postcode").fill("CK1 1AD")
    with page.expect_response("**/addresses/lookup**") as lookup:
        page.get_by_role("button", name="Find address").click()
    assert lookup.value.status == 200
    select = page.get_by_label("Select an address")
    select.wait_for()
    assert page.url == live_server("/your-area")  # no page load: htmx swapped the list in
    expect(page.locator("#uprn option")).to_have_count(14)  # the prompt and 13 houses
    assert_accessible(page, "Find your ward after the htmx swap")
    select.select_option(label="13 Abbey Road, Castlebrook, CK1 1AD")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**uprn=**")
    expect(page.locator("h1")).to_have_text("13 Abbey Road, Castlebrook, CK1 1AD")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Northgate")


def test_address_lookup_with_javascript_shows_a_postcode_error(gazetteer_app, live_server, page):
    page.goto(live_server("/your-area"))
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("Postcode").fill("SW1A 1AA")
    page.get_by_role("button", name="Find address").click()
    # the error is at the postcode box (marked, and read with it), not below the button
    error = page.locator("#uprn-postcode-error")
    error.wait_for()
    expect(page.get_by_label("Postcode")).to_have_class(re.compile("govuk-input--error"))
    expect(error).to_contain_text("Enter a postcode in the Castlebrook Council area")
