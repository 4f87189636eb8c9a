"""Every public page renders in house style and passes the page checks."""

from __future__ import annotations

import pytest

from tests.helpers.pages import check_html, get_page

PUBLIC_PAGES = [
    "site.home",
    "site.accessibility",
    "site.privacy",
    "site.cookies",
    "site.contact",
    "gazetteer.your_area",
]


@pytest.mark.parametrize("endpoint", PUBLIC_PAGES)
def test_public_page_passes_page_checks(client, endpoint):
    soup = get_page(client, endpoint)
    assert "Castlebrook Council" in soup.title.get_text()
    assert soup.select_one("a.govuk-skip-link[href='#main-content']")
    assert soup.select_one(".govuk-phase-banner")
    footer_links = {a.get_text(strip=True) for a in soup.select("footer a")}
    assert {"Accessibility statement", "Privacy notice", "Cookies", "Contact us"} <= footer_links


def test_council_branding_has_no_crown_or_govuk_logotype(client):
    body = client.get("/").get_data(as_text=True)
    assert "govuk-crest" not in body and "GOV.UK" not in body


def test_brand_colour_comes_from_configuration(make_app):
    app = make_app(council_name="Elmstead Council", council_brand_colour="#8a1538")
    body = app.test_client().get("/").get_data(as_text=True)
    assert "Elmstead Council" in body
    assert "--govuk-brand-colour:#8a1538" in body


def test_stylesheet_has_no_govuk_typeface(client):
    soup = check_html(client.get("/"))
    href = soup.select_one("link[rel=stylesheet]")["href"]
    response = client.get(href)
    assert response.status_code == 200
    assert "GDS Transport" not in response.get_data(as_text=True)
    assert "immutable" in response.headers["Cache-Control"]


@pytest.mark.parametrize("status,path", [(404, "/no-such-page")])
def test_not_found_page_in_house_style(client, status, path):
    response = client.get(path)
    assert response.status_code == status
    soup = check_html(response)
    assert soup.h1.get_text(strip=True) == "Page not found"
