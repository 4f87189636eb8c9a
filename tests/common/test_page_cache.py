"""The anonymous-visitor page cache beyond the A–Z: information pages and the planning register."""

from __future__ import annotations

import re

from portal.council_services.models import SiteAlert
from portal.extensions import db
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html
from tests.planning.conftest import make_application

NONCE = re.compile(r'nonce="([^"]+)"')


def test_an_information_page_is_cached_with_each_visitors_own_nonce(app, client) -> None:
    first = client.get("/contact")
    second = client.get("/contact")
    assert list(app.extensions["site_page_cache"]) == [("/contact?", "")]
    check_html(second)  # every script carries the nonce of this response's CSP
    assert (
        NONCE.findall(first.get_data(as_text=True))[0]
        != NONCE.findall(second.get_data(as_text=True))[0]
    )
    assert "__portal_csp_nonce__" not in second.get_data(as_text=True)


def test_a_new_site_alert_shows_on_cached_pages_at_once(app, client) -> None:
    assert "Roads closed by flooding" not in client.get("/").get_data(as_text=True)
    assert len(app.extensions["site_page_cache"]) == 1
    with app.app_context():
        db.session.add(SiteAlert(title="Roads closed by flooding", message="Avoid the A1."))
        db.session.commit()
    assert len(app.extensions["site_page_cache"]) == 0
    assert "Roads closed by flooding" in client.get("/").get_data(as_text=True)


def test_the_register_shows_a_new_application_at_once(app, client) -> None:
    with app.app_context():
        make_application()
        db.session.commit()
    assert "1 application found" in client.get("/planning").get_data(as_text=True)
    assert list(app.extensions["planning_page_cache"]) == [("/planning?", "")]
    with app.app_context():
        make_application()
        db.session.commit()
    assert "2 applications found" in client.get("/planning").get_data(as_text=True)


def test_signed_in_visitors_get_their_own_page(app, client) -> None:
    signed = client_for(app, make_user(app, "someone@example.com"))
    assert signed.get("/planning").status_code == 200
    assert signed.get("/").status_code == 200
    assert "planning_page_cache" not in app.extensions or not app.extensions["planning_page_cache"]
    assert "site_page_cache" not in app.extensions or not app.extensions["site_page_cache"]


def test_a_postcode_lookup_is_cached_until_an_address_changes(app, client) -> None:
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.common.models import Address

    with app.app_context():
        load_demo_gazetteer()
        db.session.commit()
    url = "/addresses/lookup?postcode=CK1+1AB"
    assert "1 Abbey Road" in client.get(url).get_data(as_text=True)
    assert list(app.extensions["gazetteer_page_cache"]) == [
        ("/addresses/lookup?postcode=CK1+1AB", "")
    ]
    with app.app_context():
        db.session.get(Address, "100090000001").line1 = "1 Abbey Court"
        db.session.commit()
    assert "1 Abbey Court" in client.get(url).get_data(as_text=True)
