"""axe-core on every public page of the URL map, and on the foundation's error states.

The walk reads `app.url_map`, so every slice's public GET pages are checked here as soon as the
slice is merged: routes that need no argument and no sign-in and answer HTML.
"""

from __future__ import annotations

import pytest
from flask import Flask, abort
from playwright.sync_api import expect
from werkzeug.routing import Rule

from portal.demo import load_all
from tests.helpers.browser import assert_accessible, axe_violations, serve

pytestmark = pytest.mark.browser

SKIPPED_ENDPOINTS = {"static", "assets.asset"}


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    with app.app_context():
        load_all()
    return app


def _needs_no_argument(rule: Rule) -> bool:
    return not (rule.arguments - set(rule.defaults or {}))


def public_html_pages(app: Flask) -> tuple[list[str], list[str]]:
    """Paths of GET routes needing no argument that answer an anonymous visitor with HTML.

    Returns (pages, problems): problems are routes that answered a server error.
    """
    client = app.test_client()
    with app.test_request_context():
        from flask import url_for

        try:
            sign_in = url_for("accounts.sign_in")
        except Exception:
            sign_in = "/sign-in"
    pages, problems = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIPPED_ENDPOINTS or "GET" not in (rule.methods or set()):
            continue
        if not _needs_no_argument(rule) or rule.rule.startswith(("/assets/", "/static/")):
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **(rule.defaults or {}))
        response = client.get(path)
        if response.status_code >= 500:
            problems.append(f"{path} answered {response.status_code}")
            continue
        if 300 <= response.status_code < 400:
            if sign_in in response.headers.get("Location", ""):
                continue  # needs a signed-in person
            pages.append(path)  # the browser follows it to a page that gets checked
            continue
        if response.mimetype == "text/html":
            pages.append(path)
    return pages, problems


def test_every_public_page_has_no_axe_violations(demo_app, page):
    pages, problems = public_html_pages(demo_app)
    assert not problems, problems
    assert {"/", "/accessibility", "/privacy", "/cookies", "/contact", "/your-area"} <= set(pages)
    failures = []
    with serve(demo_app) as server:
        for path in pages:
            page.goto(server(path))
            violations = axe_violations(page)
            if violations:
                failures.append(f"{path}:\n  " + "\n  ".join(violations))
    assert not failures, "axe violations:\n" + "\n".join(failures)


def test_the_walk_finds_a_new_slice_page_and_skips_the_rest(app):
    from flask import Response, redirect

    @app.get("/_test/new-public-page")
    def _new_page():
        return "<!DOCTYPE html><html lang='en'><title>t</title><h1>t</h1></html>"

    @app.get("/_test/private")
    def _private():
        return redirect("/sign-in?next=/_test/private")

    @app.get("/_test/data.json")
    def _json():
        return Response("{}", mimetype="application/json")

    @app.get("/_test/thing/<int:thing_id>")
    def _thing(thing_id: int):
        return "thing"

    pages, problems = public_html_pages(app)
    assert "/_test/new-public-page" in pages
    assert not {"/_test/private", "/_test/data.json"} & set(pages)
    assert not any(p.startswith("/_test/thing") for p in pages)
    assert not problems


@pytest.mark.parametrize("status", [400, 403, 404, 429, 500])
def test_error_pages_have_no_axe_violations(app, page, status):
    @app.get("/_test/fail")
    def _fail():
        if status == 500:
            raise RuntimeError("boom")
        abort(status)

    with serve(app) as server:
        page.goto(server("/_test/fail"))
        expect(page.locator("h1")).to_have_count(1)
        assert_accessible(page, f"the {status} page")
        page.goto(server("/no-such-page"))
        expect(page.locator("h1")).to_have_text("Page not found")


def test_find_your_ward_states_have_no_axe_violations(demo_app, page):
    with serve(demo_app) as server:
        page.goto(server("/your-area?uprn_postcode=SW1A+1AA&uprn_find=1"))
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert_accessible(page, "Find your ward: postcode outside the area")
        page.goto(server("/your-area?uprn_postcode=CK1+1AB&uprn="))
        expect(page.locator(".govuk-error-summary")).to_contain_text("Select an address")
        assert_accessible(page, "Find your ward: no address chosen")
        page.goto(server("/your-area?uprn_postcode=CK1+1AB&uprn_find=1"))
        expect(page.locator("#uprn option")).to_have_count(13)
        assert_accessible(page, "Find your ward: results")
        page.goto(server("/your-area?uprn_postcode=CK1+1AB&uprn=100090000001"))
        expect(page.locator(".govuk-summary-list")).to_contain_text("Northgate")
        assert_accessible(page, "Find your ward: chosen address")
