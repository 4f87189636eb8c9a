"""The rulebook's staff pages in Chromium (docs/bvpi157.md): the mismatch list and its consent
button, deleting a draft service, and the figures that follow, with JavaScript on (axe) and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, expect

from portal.common.delivery import set_portal_delivery
from portal.extensions import db
from tests.browser.test_services_pages import nojs_context as nojs_context  # noqa: PLC0414
from tests.browser.test_services_pages import signed_in
from tests.council_services.factories import make_service
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False])
def test_an_editor_fixes_a_mismatch_and_deletes_a_draft(
    app, live_server, context: BrowserContext, nojs_context: BrowserContext, javascript
):
    with app.app_context():
        make_service("Flytipping", 587, [{"lgil": 9, "e_enabled": True, "channels": ["web"]}])
        make_service("Library facilities", 437, [{"lgil": 1}], published=False)
        set_portal_delivery("form", "fly", 587, 0, "Report fly-tipping", "/forms/fly")
        db.session.commit()
    page = signed_in(context if javascript else nojs_context, app, live_server)

    def check(label: str) -> None:
        if javascript:
            assert_accessible(page, label)

    page.goto(live_server("/staff/services"))
    expect(page.locator("#bvpi-coming")).to_contain_text("draft services hold 1 more interaction")
    expect(page.locator("main")).to_contain_text("Live BVPI 157: 100.0% (1 of 1)")
    page.get_by_role("link", name="Portal services that match no register interaction (1)").click()
    expect(page.locator("#table-mismatches")).to_contain_text(
        "Flytipping (LGSL 587) has no “Applications for service” (LGIL 0) interaction"
    )
    check("mismatches")
    page.get_by_role(
        "button", name=re.compile(r"^Add to the register\W+Report fly-tipping$")
    ).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Applications for service added to the register for LGSL 587"
    )
    expect(page.locator("#mismatches-none")).to_be_visible()
    check("mismatches, none")
    page.get_by_role("link", name="All services").click()
    expect(page.locator("main")).to_contain_text("Live BVPI 157: 100.0% (2 of 2)")

    page.get_by_role("link", name="Library facilities").click()
    page.get_by_role("link", name="Delete this draft service").click()
    expect(page.locator("h1")).to_have_text("Are you sure you want to delete Library facilities?")
    check("delete a draft")
    page.get_by_role("button", name="Delete the service").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Library facilities deleted")
    expect(page.locator("#bvpi-coming")).to_contain_text("draft services hold 0 more interactions")
    expect(page.locator("main")).to_contain_text("Live BVPI 157: 100.0% (2 of 2)")
