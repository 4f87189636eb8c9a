"""Planning in a real browser: draw an alert area on the map, the same journey without JavaScript,
and axe on every planning page and state (axe needs JavaScript, so it runs in the JS-enabled
tests, which visit the same error states)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from portal.planning.models import PlanningAlert, PlanningApplication
from tests.helpers.auth import make_user, sign_in
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser

# Tiles from the portal itself, so the tests never reach the internet (the CSP allows 'self').
LOCAL_TILES = "/static/img/favicon.svg?z={z}&x={x}&y={y}"


@pytest.fixture
def app(make_app):
    app = make_app(map_tile_url=LOCAL_TILES)
    with app.app_context():
        load_demo_gazetteer()
        from tests.planning.conftest import make_application

        make_application()
        make_application((52.97, -1.45), app_type="HOU", status="decided", decision="Refused")
        db.session.commit()
    return app


def _signed_in(page: Page, app, roles=()) -> None:  # noqa: ANN001
    user = make_user(app, roles=roles)
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies(
        [{"name": "session", "value": cookie.value, "domain": "127.0.0.1", "path": "/"}]
    )


def test_draw_a_polygon_alert_with_the_map(page: Page, live_server, app):
    page.goto(live_server("/planning/alerts"))
    assert_accessible(page, "alerts form")
    page.get_by_role("button", name="Create alert").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose how you want to set the area"
    )
    assert_accessible(page, "alerts form with errors")
    page.get_by_label("Around an address or postcode").check()
    page.get_by_label("Postcode", exact=True).fill("SW1A 1AA")
    page.get_by_label("800 metres").check()
    page.get_by_role("button", name="Create alert").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a postcode in the Castlebrook"
    )
    assert_accessible(page, "alerts form, postcode outside the area")
    page.get_by_label("An area I draw on a map").check()
    draw_map = page.locator("#draw-map")
    expect(draw_map).to_be_visible()
    page.wait_for_timeout(200)
    box = draw_map.bounding_box()
    cx, cy = box["width"] / 2, box["height"] / 2
    for dx, dy in ((-60, -50), (60, -50), (60, 50), (-60, 50)):
        draw_map.click(position={"x": cx + dx, "y": cy + dy})
    expect(page.locator("#draw-status")).to_have_text("4 corners added.")
    # the keyboard alternative: Enter on the focused map adds a corner at the cross-hair
    draw_map.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#draw-status")).to_have_text("5 corners added.")
    page.get_by_role("button", name="Remove last corner").click()
    expect(page.locator("#draw-status")).to_have_text("4 corners added.")
    assert re.fullmatch(
        r"(-?\d+\.\d+,-?\d+\.\d+; ){3}-?\d+\.\d+,-?\d+\.\d+", page.locator("#polygon").input_value()
    )
    assert_accessible(page, "alerts form with a drawn area")
    page.get_by_label("Email address").fill("drawer@example.com")
    page.get_by_label("Daily digest").check()
    page.get_by_role("button", name="Create alert").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page, "check your email")
    with app.app_context():
        alert = db.session.scalars(select(PlanningAlert)).one()
        assert alert.kind == "polygon" and len(alert.polygon) == 4 and alert.frequency == "daily"
        token = alert.token
    page.goto(live_server(f"/planning/confirm/{token}"))
    assert_accessible(page, "confirm")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your alert is on")).to_be_visible()
    assert_accessible(page, "confirmed")
    page.goto(live_server(f"/planning/unsubscribe/{token}"))
    assert_accessible(page, "unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You have unsubscribed")).to_be_visible()
    assert_accessible(page, "unsubscribed")


def test_ward_alert_without_javascript(nojs_page: Page, live_server, app):
    page = nojs_page
    page.goto(live_server("/planning/alerts"))
    expect(page.locator("#draw-map")).to_be_hidden()
    page.get_by_role("button", name="Create alert").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose how you want to set the area"
    )
    page.get_by_label("One or more wards").check()
    page.get_by_label("Castle", exact=True).check()
    page.get_by_label("Riverside", exact=True).check()
    page.get_by_label("Email address").fill("nojs@example.com")
    page.get_by_label("Weekly digest").check()
    page.get_by_label("Householder").check()
    page.get_by_role("button", name="Create alert").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    with app.app_context():
        alerts = db.session.scalars(select(PlanningAlert).order_by(PlanningAlert.id)).all()
        assert [(a.ward, a.frequency, a.application_types) for a in alerts] == [
            ("Castle", "weekly", ["HOU"]),
            ("Riverside", "weekly", ["HOU"]),
        ]
        token = alerts[0].token
    page.goto(live_server(f"/planning/confirm/{token}"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your alert is on")).to_be_visible()


def test_postcode_and_radius_without_javascript(nojs_page: Page, live_server, app):
    page = nojs_page
    with app.app_context():
        from portal.common.models import Address

        postcode = db.session.scalars(select(Address.postcode)).first()
    page.goto(live_server("/planning/alerts"))
    page.get_by_label("Around an address or postcode").check()
    page.get_by_label("Postcode", exact=True).fill("SW1A 1AA")
    page.get_by_label("800 metres").check()
    page.get_by_label("Email address").fill("radius@example.com")
    page.get_by_label("As soon as they arrive").check()
    page.get_by_role("button", name="Create alert").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a postcode in the Castlebrook Council area"
    )
    page.get_by_label("Postcode", exact=True).fill(postcode)
    page.get_by_role("button", name="Create alert").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def test_register_map_and_pages_are_accessible(page: Page, live_server, app):
    page.goto(live_server("/planning"))
    expect(page.locator("#register-map")).to_be_visible()
    markers = page.locator("#register-map .leaflet-marker-icon")
    expect(markers).to_have_count(2)
    # a marker opens a link to the application; the list beside the map has the same links for
    # keyboard users, and the map itself pans and zooms from the keyboard
    markers.first.click()
    expect(page.locator(".leaflet-popup a.planning-popup-link")).to_be_visible()
    assert markers.first.get_attribute("tabindex") is None
    popup_href = page.locator(".leaflet-popup a.planning-popup-link").get_attribute("href")
    expect(page.locator(f"main a[href='{popup_href}']").first).to_be_attached()
    assert page.locator("#register-map").get_attribute("tabindex") == "0"
    assert_accessible(page, "register")
    page.goto(live_server("/planning?q=nothing-matches"))
    assert_accessible(page, "register, no results")
    page.goto(live_server("/planning?received_from=nonsense"))
    assert_accessible(page, "register, bad date")
    page.goto(live_server("/planning/weekly"))
    assert_accessible(page, "weekly list")
    page.goto(live_server("/planning/weekly?week=bad"))
    assert_accessible(page, "weekly list, bad week")
    with app.app_context():
        slug = db.session.scalars(select(PlanningApplication.slug)).first()
    page.goto(live_server(f"/planning/applications/{slug}"))
    assert_accessible(page, "application page")
    page.get_by_role("button", name="Track this application").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "track with no email")


def test_resident_and_staff_pages_are_accessible(page: Page, live_server, app):
    _signed_in(page, app, roles=("planning",))
    with app.app_context():
        slug = db.session.scalars(
            select(PlanningApplication.slug).where(PlanningApplication.status == "live")
        ).first()
    page.goto(live_server(f"/planning/applications/{slug}"))
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "comment errors")
    page.get_by_label("Object", exact=True).check()
    page.get_by_label("Your address").fill("2 Mill Lane")
    page.get_by_label("Your comment").fill("Too tall")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    assert_accessible(page, "comment sent")
    for path in (
        "/planning/alerts/mine",
        "/staff/planning",
        "/staff/planning/new",
        f"/staff/planning/applications/{slug}",
        "/staff/planning/comments",
        "/staff/planning/alerts",
    ):
        page.goto(live_server(path))
        assert_accessible(page, path)
    page.goto(live_server("/staff/planning/new"))
    page.get_by_role("button", name="Add application").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "staff new with errors")
