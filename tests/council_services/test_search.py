"""Search: synonyms, stemming, typos, name over body, htmx = no-JS, misses logged for editors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.council_services.models import SearchMiss
from portal.council_services.services import search_services
from portal.extensions import db
from tests.council_services.factories import make_service
from tests.helpers.pages import check_html


@pytest.fixture
def catalogue(app):
    with app.app_context():
        make_service(
            "Household waste collection",
            524,
            synonyms="bin, bins, rubbish, wheelie bin",
            summary="Find your collection day.",
        )
        make_service("Recycling bags and containers", 533, summary="Order recycling containers.")
        make_service("Council tax", 57, summary="Pay your council tax.")
        make_service("Council tax discount", 59, summary="Single person discount.")
        make_service(
            "Parking permits",
            474,
            summary="Permits for residents.",
            body="You cannot use a permit to park next to a recycling centre.",
        )
        make_service("Secret draft", 9999, synonyms="bin", published=False)
    return app


def names(app, query: str) -> list[str]:
    with app.app_context():
        return [s.name for s in search_services(query).services]


def test_synonym_finds_the_service(catalogue) -> None:
    assert names(catalogue, "bin")[0] == "Household waste collection"
    assert "Secret draft" not in names(catalogue, "bin")  # drafts are never found


def test_stemming(catalogue) -> None:
    assert names(catalogue, "recycle")[0] == "Recycling bags and containers"
    assert names(catalogue, "collections")[0] == "Household waste collection"


def test_typo_tolerance(catalogue) -> None:
    with catalogue.app_context():
        result = search_services("recyclng")
    assert result.services[0].name == "Recycling bags and containers"
    assert result.corrected == "recycling"


def test_name_ranks_over_body(catalogue) -> None:
    found = names(catalogue, "recycling")
    assert found.index("Recycling bags and containers") < found.index("Parking permits")


def test_exact_name_first(catalogue) -> None:
    assert names(catalogue, "council tax")[:2] == ["Council tax", "Council tax discount"]


def _result_links(html: str) -> list[str]:
    return re.findall(r'font-weight-bold" href="(/services/[^"]+)"', html)


def test_htmx_results_are_the_no_js_results(catalogue) -> None:
    client = catalogue.test_client()
    page = client.get("/services/search?q=bin")
    soup = check_html(page)
    assert soup.find("input", attrs={"name": "q"})["value"] == "bin"
    fragment = client.get("/services/search?q=bin", headers={"HX-Request": "true"})
    frag = fragment.get_data(as_text=True)
    assert "<html" not in frag
    assert _result_links(frag) == _result_links(page.get_data(as_text=True))
    assert _result_links(frag)[0] == "/services/household-waste-collection"


def test_search_with_no_result_is_logged_for_editors(catalogue) -> None:
    client = catalogue.test_client()
    for _ in range(2):
        soup = check_html(client.get("/services/search?q=Zebra+Xylophone"))
        assert "No services found" in soup.get_text()
    client.get("/services/search?q=bin")
    with catalogue.app_context():
        rows = db.session.scalars(select(SearchMiss)).all()
        assert [(r.query, r.count) for r in rows] == [("zebra xylophone", 2)]


def test_empty_and_odd_queries_do_not_fail(catalogue) -> None:
    client = catalogue.test_client()
    for query in ["", "   ", '"', "AND OR NOT", "*", "a" * 300, "bin) OR (", "NEAR(x y)"]:
        response = client.get("/services/search", query_string={"q": query})
        assert response.status_code == 200, query
        check_html(response)
