"""render_page: the whole page normally, only the named block for an htmx request."""

from __future__ import annotations

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import Address
from portal.extensions import db
from portal.rendering import render_page
from tests.helpers.pages import check_html


def test_render_page_gives_the_fragment_only_to_htmx(app):
    with app.app_context():
        load_demo_gazetteer()
        context = {"field": "uprn", "postcode": "CK1 1AB", "error": None}
        context["addresses"] = [db.session.get(Address, "100090000001")]
        with app.test_request_context("/", headers={"HX-Request": "true"}):
            fragment = render_page("gazetteer/lookup.html", fragment="address_results", **context)
        with app.test_request_context("/"):
            full = render_page("gazetteer/lookup.html", fragment="address_results", **context)
        with app.test_request_context("/", headers={"HX-Request": "true", "HX-Boosted": "true"}):
            boosted = render_page("gazetteer/lookup.html", fragment="address_results", **context)
    assert "<select" in fragment and "<html" not in fragment and "<h1" not in fragment
    assert full.startswith("<!DOCTYPE html>") and "<select" in full and "<h1" in full
    assert boosted.startswith("<!DOCTYPE html>")


def test_address_lookup_endpoint_answers_a_page_or_a_fragment(client, app):
    with app.app_context():
        load_demo_gazetteer()
    url = "/addresses/lookup?field=uprn&uprn_postcode=ck11ab"
    page = client.get(url)
    soup = check_html(page)
    assert len(soup.select("select#uprn option")) == 13  # the prompt and 12 houses
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and fragment.count("<option") == 13
    assert "1 Abbey Road, Castlebrook, CK1 1AB" in fragment
