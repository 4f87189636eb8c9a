"""Form details the audit found that axe does not: conditional reveals that say they expand
(WCAG 4.1.2), errors at the address lookup's own fields (1.3.1, 3.3.1) and autocomplete tokens
on personal fields (1.3.5)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from tests.helpers.browser import assert_accessible

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
