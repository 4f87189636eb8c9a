"""Browser: planning staff add an application by finding the site's address by postcode, with
JavaScript on (htmx lists the addresses) and off (the form posts back); axe on each state."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.gazetteer.geography import ward_at
from portal.common.models import Address
from portal.extensions import db
from portal.planning import services
from tests.helpers.auth import make_user, sign_in
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        load_demo_gazetteer()
        db.session.commit()
    return app


def _site(app) -> tuple[str, str, str]:  # noqa: ANN001
    with app.app_context():
        for address in db.session.scalars(select(Address).order_by(Address.uprn)):
            if ward_at(address.latitude, address.longitude):
                return address.uprn, address.postcode, address.single_line
    raise AssertionError("no demo address inside the council area")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_add_an_application_by_postcode_and_address(request, app, live_server, js) -> None:
    page: Page = request.getfixturevalue("page" if js else "nojs_page")
    uprn, postcode, line = _site(app)
    user = make_user(app, roles=("planning",))
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies(
        [{"name": "session", "value": cookie.value, "domain": "127.0.0.1", "path": "/"}]
    )
    page.goto(live_server("/staff/planning/new"))
    page.get_by_label("Reference").fill("26/08888/FUL")
    page.get_by_label("Postcode", exact=True).fill(postcode.lower())
    page.get_by_role("button", name="Find address").click()
    expect(page.get_by_label("Select an address")).to_be_visible()
    expect(page.get_by_label("Reference")).to_have_value("26/08888/FUL")
    if js:
        assert_accessible(page, "site addresses listed")
    page.get_by_label("Select an address").select_option(uprn)
    page.get_by_label("Proposal").fill("Two-storey side extension")
    page.get_by_label("Application type").select_option("FUL")
    page.get_by_role("button", name="Add application").click()
    expect(page.locator("body")).to_contain_text("Application 26/08888/FUL added to the register")
    expect(page.get_by_label("Select an address")).to_have_value(uprn)
    if js:
        assert_accessible(page, "application added")
    with app.app_context():
        application = services.get_by_slug("26-08888-FUL")
        assert application.uprn == uprn and application.site_address == line


def test_site_with_no_address_and_missing_site_errors(page: Page, app, live_server) -> None:
    user = make_user(app, roles=("planning",))
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies(
        [{"name": "session", "value": cookie.value, "domain": "127.0.0.1", "path": "/"}]
    )
    page.goto(live_server("/staff/planning/new"))
    page.get_by_label("Reference").fill("26/08889/FUL")
    page.get_by_label("Proposal").fill("Barn conversion")
    page.get_by_label("Application type").select_option("FUL")
    page.get_by_role("button", name="Add application").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the site's postcode and find its address"
    )
    assert_accessible(page, "no site given")
    page.locator("summary", has_text="The site has no address").click()
    page.get_by_label("Site address on the register").fill("Land east of Mill Lane")
    page.get_by_label("Latitude").fill("52.95")
    page.get_by_label("Longitude").fill("-1.55")
    assert_accessible(page, "site with no address")
    page.get_by_role("button", name="Add application").click()
    expect(page.locator("body")).to_contain_text("added to the register")
    with app.app_context():
        application = services.get_by_slug("26-08889-FUL")
        assert application.uprn is None and application.ward
