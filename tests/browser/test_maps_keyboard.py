"""Maps by keyboard (WCAG 4.1.2, 2.1.1, 2.5.3, 3.3.2): the form's point map and the planning maps.

The form map is a named application region: the arrow keys move it, Enter puts the point at
the centre, and the chosen point is announced in a live region. Leaflet's zoom buttons carry
their visible "+"/"−" in their names.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.online_forms.demo import load_demo_forms
from portal.planning.demo import load_demo_planning
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


def keep_to(page, origin: str) -> None:  # noqa: ANN001
    """Map tiles come from another origin, which the test machine cannot reach."""
    page.context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort(),
    )


def test_the_form_map_places_a_point_by_keyboard_and_says_so(app, live_server, page):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    keep_to(page, live_server.url)
    page.goto(live_server("/forms/report-fly-tipping"))
    page.click("text=Start now")
    page.locator("summary", has_text="Or give a point on a map").click()
    region = page.get_by_role("application", name="Map for choosing the point")
    expect(region).to_be_visible()
    assert region.get_attribute("aria-roledescription") == "map"
    help_id = region.get_attribute("aria-describedby")
    expect(page.locator(f"#{help_id}")).to_contain_text("Enter to put the point")
    expect(page.get_by_role("button", name="+ Zoom in")).to_be_visible()
    expect(page.get_by_role("button", name="− Zoom out")).to_be_visible()
    assert_accessible(page, "form map")

    region.focus()
    start = page.evaluate("[document.getElementById('location-lat').value]")[0]
    assert start == ""
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(400)  # Leaflet pans by keyboard with a short animation
    page.keyboard.press("Enter")
    lat = page.input_value("#location-lat")
    lng = page.input_value("#location-lng")
    assert lat and lng
    assert float(lat) > 52.96 and float(lng) > -1.51, "the point is the moved centre"
    expect(page.locator("#location-map-status")).to_have_text(
        f"Point chosen: latitude {lat}, longitude {lng}."
    )
    assert page.locator("#location-map-status").get_attribute("aria-live") == "polite"
    expect(page.locator("#location-map .leaflet-marker-icon")).to_have_count(1)
    assert page.evaluate("document.activeElement.id") == "location-map"
    assert_accessible(page, "form map with a point")


def test_the_planning_maps_say_what_they_show(app, live_server, page):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_planning()
    keep_to(page, live_server.url)
    page.goto(live_server("/planning"))
    help_text = page.locator(".planning-map-help")
    expect(help_text).to_be_visible()
    expect(help_text).not_to_contain_text("Tab to reach")
    # What the help promises holds: no marker is in the tab order, the list links to each.
    assert page.locator(".planning-map .leaflet-marker-icon[tabindex='0']").count() == 0
    expect(page.get_by_role("button", name="+ Zoom in")).to_be_visible()
    link = page.locator("main a[href^='/planning/applications/']").first
    href = link.get_attribute("href")
    page.goto(live_server(href))
    region = page.locator("#application-map")
    expect(region).to_be_visible()
    label = region.get_attribute("aria-label")
    assert "applications listed" not in label
    assert label.startswith("Map of the site of ")
    assert_accessible(page, "application map")
