"""Form details the audit found that axe does not: conditional reveals that say they expand
(WCAG 4.1.2), errors at the address lookup's own fields (1.3.1, 3.3.1) and autocomplete tokens
on personal fields (1.3.5)."""

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


def assert_conditionals_announced(page: Page) -> None:
    """Every conditional reveal on the page is controlled by an input that says it expands."""
    reveals = page.locator(".govuk-radios__conditional, .govuk-checkboxes__conditional")
    assert reveals.count(), "no conditional reveals on this page"
    for reveal_id in reveals.evaluate_all("(els) => els.map((e) => e.id)"):
        control = page.locator(f'input[aria-controls="{reveal_id}"]')
        expect(control).to_have_count(1)
        expanded = "true" if control.is_checked() else "false"
        expect(control).to_have_attribute("aria-expanded", expanded)


@pytest.fixture
def planning_app(make_app):
    app = make_app(map_tile_url=LOCAL_TILES)
    with app.app_context():
        load_demo_gazetteer()
        db.session.commit()
    return app


def test_alert_area_choices_say_they_reveal_more(planning_app, live_server, page: Page) -> None:
    page.goto(live_server("/planning/alerts"))
    assert_conditionals_announced(page)
    drawn = page.get_by_label("An area I draw on a map")
    expect(drawn).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#draw-map")).to_be_hidden()
    drawn.check()
    expect(drawn).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#draw-map")).to_be_visible()
    expect(page.get_by_label("One or more wards")).to_have_attribute("aria-expanded", "false")
    assert_conditionals_announced(page)
    assert_accessible(page, "alerts, map area chosen")
    page.get_by_label("One or more wards").check()
    expect(drawn).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#draw-map")).to_be_hidden()
    expect(page.locator("#conditional-ward")).to_be_visible()


def test_alert_area_choices_without_javascript(planning_app, live_server, nojs_page: Page):
    """Without JavaScript every area's questions are shown, so nothing needs announcing."""
    nojs_page.goto(live_server("/planning/alerts"))
    for reveal in ("#conditional-radius", "#conditional-ward", "#conditional-polygon"):
        expect(nojs_page.locator(reveal)).to_be_visible()


@pytest.fixture
def forms_server(app, live_server):
    from portal.online_forms.demo import load_demo_forms

    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    return live_server


def assert_error_at_field(page: Page, field_id: str, message: str) -> None:
    """The message sits in the field's own form group, the field is marked and described by it."""
    field = page.locator(f"#{field_id}")
    error = page.locator(f"#{field_id}-error")
    expect(error).to_contain_text(message)
    expect(error).to_be_visible()
    group = page.locator(".govuk-form-group", has=field).last
    expect(group.locator(f"#{field_id}-error")).to_have_count(1)
    expect(group).to_have_class(re.compile(r"govuk-form-group--error"))
    expect(field).to_have_class(re.compile(r"govuk-input--error"))
    described = (field.get_attribute("aria-describedby") or "").split()
    assert f"{field_id}-error" in described, f"#{field_id} is not described by its error"


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_address_question_errors_are_at_their_fields(forms_server, page, nojs_page, js):
    p = page if js else nojs_page
    p.goto(forms_server("/forms/report-missed-bin"))
    p.click("text=Start now")
    p.click("button[name=continue]")
    summary_link = p.locator('.govuk-error-summary a[href="#address-postcode"]')
    expect(summary_link).to_have_text("Enter a postcode")
    assert_error_at_field(p, "address-postcode", "Enter a postcode")
    # nothing is left at the bottom of the question, below "Enter the address manually"
    expect(p.locator(".govuk-details ~ .govuk-error-message")).to_have_count(0)
    if js:
        assert_accessible(p, "address question, no postcode")
        summary_link.click()
        expect(p.locator("#address-postcode")).to_be_focused()
    # a manual address with a postcode outside the council's area
    p.locator("summary", has_text="Enter the address manually").click()
    p.fill("#address-line1", "1 Elsewhere Road")
    p.fill("#address-town", "London")
    p.fill("#address-manual-postcode", "SW1A 1AA")
    p.click("button[name=continue]")
    area = "Enter a postcode in the Castlebrook Council area"
    expect(p.locator('.govuk-error-summary a[href="#address-manual-postcode"]')).to_have_text(area)
    assert_error_at_field(p, "address-manual-postcode", area)
    expect(p.locator("#address-manual-postcode")).to_be_visible()
    expect(p.locator("#address-postcode")).not_to_have_class(re.compile("error"))
    if js:
        assert_accessible(p, "address question, manual postcode outside the area")


def test_address_lookup_htmx_path(forms_server, page: Page) -> None:
    page.goto(forms_server("/forms/report-missed-bin"))
    page.click("text=Start now")

    def find(postcode: str):
        def act(p: Page) -> None:
            p.fill("#address-postcode", postcode)
            p.click("button[name=address_find]")

        return act

    area = "Enter a postcode in the Castlebrook Council area"
    check_htmx_path(
        page,
        "address lookup",
        "#address-results",
        [
            Step(find("SW1A 1AA"), error_field="address-postcode", error=area, summary=False),
            Step(find("CK1 1AB"), status=re.compile(r"^\d+ addresses found for CK1 1AB$")),
            Step(find(""), error_field="address-postcode", error="Enter a postcode", summary=False),
            Step(find("ck1 1ab"), status=re.compile(r"^\d+ addresses found for CK1 1AB$")),
        ],
    )
    page.select_option("select#address", "100090000001")
    page.click("button[name=continue]")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
