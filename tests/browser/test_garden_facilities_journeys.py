"""Find your nearest (map with JavaScript, list without) and the garden waste subscription
paid in the sandbox, started from the A–Z, with JavaScript on and off; axe on each state."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.council_services.demo import load_demo_catalogue
from portal.extensions import db
from portal.facilities.demo import load_demo_facilities
from portal.garden.demo import load_demo_garden
from portal.garden.models import GardenSubscription
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app, live_server):  # noqa: ANN001, ANN201
    with app.app_context():
        load_demo_gazetteer()
        load_demo_catalogue()
        load_demo_facilities()
        load_demo_garden()
        db.session.commit()
    return live_server


def keep_to(page, origin: str) -> None:  # noqa: ANN001
    """Map tiles come from another origin, which the test machine cannot reach."""
    page.context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort(),
    )


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_find_your_nearest(demo, page, nojs_page, js):  # noqa: ANN001
    p = page if js else nojs_page
    if js:
        keep_to(p, demo.url)
    p.goto(demo("/garden-waste"))
    p.get_by_role("link", name="find your nearest recycling centre").click()
    expect(p.locator("h1")).to_have_text("Find your nearest")
    if js:
        assert_accessible(p, "find your nearest, empty")
    p.get_by_label("Postcode").fill("ZZ1 1ZZ")
    p.get_by_role("button", name="Find places").click()
    expect(p.locator(".govuk-error-summary")).to_contain_text(
        "Enter a postcode in the Castlebrook Council area"
    )
    if js:
        assert_accessible(p, "find your nearest, error")
    p.get_by_label("Postcode").fill("CK1 1AB")
    p.get_by_role("button", name="Find places").click()
    expect(p.locator("#results-heading")).to_have_text("2 nearest to CK1 1AB")
    items = p.locator(".facilities-item h3")
    expect(items).to_have_text(
        ["Castlebrook Household Recycling Centre", "Eastfield Household Recycling Centre"]
    )
    saturday = p.locator(".facilities-item").first.get_by_role("row", name="Saturday")
    expect(saturday).to_have_text("Saturday8am to 6pm")
    region = p.get_by_role("region", name="Map of the 2 places listed below")
    if js:
        expect(region).to_be_visible()
        expect(p.locator(".leaflet-marker-icon")).to_have_count(2)
        expect(p.get_by_role("button", name="+ Zoom in")).to_be_visible()
        assert_accessible(p, "find your nearest, results with map")
    else:
        expect(p.locator("#facilities-map")).to_be_hidden()
        expect(p.locator(".facilities-map-help")).to_be_hidden()
    # every kind of place, nearest first
    p.get_by_label("Household recycling centre").uncheck()
    p.get_by_role("button", name="Find places").click()
    expect(p.locator("#results-heading")).to_have_text("5 nearest to CK1 1AB")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_garden_waste_subscription_paid_in_the_sandbox(app, demo, page, nojs_page, js):  # noqa: ANN001
    p = page if js else nojs_page
    p.goto(demo("/services"))
    p.get_by_role("link", name="Services beginning with H").click()
    p.get_by_role("link", name="Household garden waste").click()
    p.get_by_role("button", name="Subscribe to garden waste collection").click()
    expect(p.locator("h1")).to_have_text("Garden waste collection")
    if js:
        assert_accessible(p, "garden waste service page")
    p.get_by_role("button", name="Start now").click()
    p.get_by_role("button", name="Continue").click()
    expect(p.locator(".govuk-error-summary")).to_contain_text("Enter a postcode")
    if js:
        assert_accessible(p, "garden address error")
    p.fill("#uprn-postcode", "CK1 1AB")
    p.click("button[name=uprn_find]")
    p.select_option("select#uprn", "100090000001")
    p.get_by_role("button", name="Continue").click()
    expect(p.locator("h1")).to_have_text("Check and pay")
    p.get_by_label("Email address").fill("")
    p.get_by_role("button", name="Continue to payment").click()
    expect(p.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    if js:
        assert_accessible(p, "garden details error")
    p.get_by_label("Email address").fill("gardener@example.com")
    p.get_by_role("button", name="Continue to payment").click()
    p.get_by_role("button", name="Continue to payment").click()
    p.get_by_label("Card number").fill("4242424242424242")
    p.get_by_label("Expiry date").fill("12/39")
    p.get_by_label("Name on card").fill("Pat Gardener")
    p.get_by_label("Card security code").fill("123")
    p.get_by_role("button", name="Pay £55.00").click()
    expect(p.locator("h1")).to_have_text("Subscription complete")
    if js:
        assert_accessible(p, "garden subscription complete")
    with app.app_context():
        item = db.session.scalar(select(GardenSubscription))
        assert item.status == "active" and item.payment_reference.startswith("PY-")
        expect(p.locator(".govuk-panel__body")).to_contain_text(item.reference)


def test_staff_add_a_place_and_see_subscribers(app, demo, page):  # noqa: ANN001
    from tests.helpers.auth import make_user, signed_session_cookie

    user = make_user(app, roles=("editor", "finance"), name="Sam Staff")
    page.context.add_cookies(
        [
            {
                "name": app.config["SESSION_COOKIE_NAME"],
                "value": signed_session_cookie(app, user),
                "url": demo.url,
            }
        ]
    )
    page.goto(demo("/staff/"))
    page.get_by_role("link", name="Places to visit").click()
    expect(page.locator("h1")).to_have_text("Places to visit")
    assert_accessible(page, "staff places list")
    page.get_by_role("link", name="Add a place").click()
    page.get_by_role("button", name="Save place").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the name of the place")
    assert_accessible(page, "staff place form with errors")
    page.get_by_label("Name", exact=True).fill("Southgate Library")
    page.get_by_label("Library", exact=True).check()
    page.get_by_label("Address").fill("3 South Road, Castlebrook")
    page.get_by_label("Postcode").fill("CK2 9SR")
    page.get_by_label("Latitude").fill("52.91")
    page.get_by_label("Longitude").fill("-1.55")
    page.get_by_label("Opens on Monday").fill("09:00")
    page.get_by_label("Closes on Monday").fill("17:00")
    page.get_by_role("button", name="Save place").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Southgate Library saved.")
    page.goto(demo("/staff/"))
    page.get_by_role("link", name="Garden waste subscribers").click()
    expect(page.locator("h1")).to_have_text("Garden waste subscribers")
    assert_accessible(page, "garden subscribers, none yet")
