"""The garden waste and find-your-nearest pages, in each state, pass the W3C Nu HTML Checker."""

from __future__ import annotations

import pytest

from portal.facilities.demo import load_demo_facilities
from tests.garden.conftest import UPRN, pay, subscribe
from tests.helpers.auth import client_for, make_user
from tests.helpers.walk import vnu_available, vnu_errors


def test_pages_pass_the_nu_html_checker(garden):
    reason = vnu_available()
    if reason:
        pytest.skip(reason)
    with garden.app_context():
        load_demo_facilities()
    client = garden.test_client()
    urls = [
        "/find-your-nearest",
        "/find-your-nearest?postcode=CK1+1AB",
        "/find-your-nearest?postcode=CK1+1AB&kind=kiosk",
        "/find-your-nearest?postcode=SW1A+1AA",
        "/garden-waste",
        "/garden-waste/address?uprn_postcode=CK1+1AB&uprn_find=1",
        "/garden-waste/address?uprn_postcode=&uprn_find=1",
        f"/garden-waste/subscribe/{UPRN}",
    ]
    pages = {url: client.get(url).get_data(as_text=True) for url in urls}
    pages["details with an error"] = subscribe(client, email="nope").get_data(as_text=True)
    page = pay(client, subscribe(client))
    pages["subscription complete"] = page.get_data(as_text=True)
    pages["already covered"] = client.get(f"/garden-waste/subscribe/{UPRN}").get_data(as_text=True)
    finance = client_for(garden, make_user(garden, roles=("finance", "editor")))
    for url in (
        "/staff/garden-waste/",
        "/staff/facilities/",
        "/staff/facilities/new",
        "/staff/facilities/1/edit",
    ):
        pages[url] = finance.get(url).get_data(as_text=True)
    reference = page.get_data(as_text=True).split("Your reference<br><strong>")[1].split("<")[0]
    pages["staff detail"] = finance.get(f"/staff/garden-waste/{reference}").get_data(as_text=True)
    assert vnu_errors(pages) == []
