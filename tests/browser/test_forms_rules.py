"""Answer rules in Chromium: a date outside the allowed range and a wrong registration number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.common.clock import uk_today
from tests.browser.test_forms_runner import (  # noqa: F401
    address,
    assert_accessible,
    demo_server,
    radio,
)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_missed_bin_date_must_be_recent_and_not_in_the_future(demo_server, page, nojs_page, js):  # noqa: F811
    p = page if js else nojs_page
    p.goto(demo_server("/forms/report-missed-bin"))
    p.click("text=Start now")
    address(p, False)
    radio("Recycling")(p, False)
    radio("Yes")(p, False)
    tomorrow = uk_today() + timedelta(days=1)
    p.fill("#missed_on-day", str(tomorrow.day))
    p.fill("#missed_on-month", str(tomorrow.month))
    p.fill("#missed_on-year", str(tomorrow.year))
    p.click("button[name=continue]")
    summary = p.locator(".govuk-error-summary")
    expect(summary).to_contain_text(
        "The date of the missed collection must be today or in the past"
    )
    expect(p.locator("#missed_on-error")).to_contain_text("must be today or in the past")
    expect(p.locator("#missed_on-day")).to_have_value(str(tomorrow.day))
    if js:
        assert_accessible(p, "date in the future")
    old = uk_today() - timedelta(days=30)
    p.fill("#missed_on-day", str(old.day))
    p.fill("#missed_on-month", str(old.month))
    p.fill("#missed_on-year", str(old.year))
    p.click("button[name=continue]")
    expect(summary).to_contain_text(
        "The date of the missed collection must be within the last 14 days"
    )
    if js:
        assert_accessible(p, "date too long ago")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_permit_registration_number_is_checked(demo_server, page, nojs_page, js):  # noqa: F811
    p = page if js else nojs_page
    p.goto(demo_server("/forms/resident-parking-permit"))
    p.click("text=Start now")
    address(p, False)
    p.fill("#registration", "HELLO")
    p.click("button[name=continue]")
    expect(p.locator(".govuk-error-summary")).to_contain_text(
        "Enter the vehicle's registration number in the correct format"
    )
    expect(p.locator("#registration")).to_have_value("HELLO")
    if js:
        assert_accessible(p, "registration error")
    p.fill("#registration", "ck21abc")
    p.click("button[name=continue]")
    expect(p.locator("h1")).to_contain_text("proof of your address")
