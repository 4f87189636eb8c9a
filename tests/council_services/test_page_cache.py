"""The few-seconds cache of public pages: right nonce, never for signed-in users, emptied on change."""

from __future__ import annotations

import re

from portal.common.delivery import set_portal_delivery
from portal.council_services.models import Service
from portal.extensions import db
from tests.council_services.factories import make_service
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html


def test_cached_page_carries_this_requests_nonce(app, client) -> None:
    with app.app_context():
        make_service("Allotments", 510)
    first = client.get("/services/allotments")
    second = client.get("/services/allotments")
    check_html(first)
    check_html(second)  # every script carries the nonce in this response's CSP
    nonce = re.compile(r'nonce="([^"]+)"')
    assert (
        nonce.findall(first.get_data(as_text=True))[0]
        != nonce.findall(second.get_data(as_text=True))[0]
    )
    assert "__portal_csp_nonce__" not in second.get_data(as_text=True)


def test_changes_show_at_once(app, client) -> None:
    with app.app_context():
        service_id = make_service("Allotments", 510, [{"lgil": 0}]).id
    assert "Do it online" not in client.get("/services/allotments").get_data(as_text=True)
    with app.app_context():
        set_portal_delivery("form", "f1", 510, 0, "Apply for a plot", "/forms/plot")
        db.session.commit()
    assert "/forms/plot" in client.get("/services/allotments").get_data(as_text=True)
    with app.app_context():
        db.session.get(Service, service_id).summary = "New words"
        db.session.commit()
    assert "New words" in client.get("/services/allotments").get_data(as_text=True)
    with app.app_context():
        db.session.get(Service, service_id).published = False
        db.session.commit()
    assert client.get("/services/allotments").status_code == 404


def test_signed_in_visitors_are_not_served_from_the_cache(app, client) -> None:
    with app.app_context():
        make_service("Allotments", 510)
    client.get("/services")
    store = app.extensions["council_services_page_cache"]
    assert list(store) == [("/services?", "")]
    signed = client_for(app, make_user(app, "someone@example.com"))
    assert signed.get("/services?letter=A").status_code == 200
    assert signed.get("/services").status_code == 200
    assert list(store) == [("/services?", "")]  # neither read nor written for a signed-in user
    assert client.get("/services?letter=A").status_code == 200
    assert len(store) == 2
