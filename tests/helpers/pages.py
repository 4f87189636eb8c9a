"""Page checks applied to every HTML page the tests fetch."""

from __future__ import annotations

import re
from collections import Counter

import html5lib
from bs4 import BeautifulSoup
from flask import url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

NONCE_PATTERN = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")


def check_html(response: TestResponse) -> BeautifulSoup:
    """Assert the quality bars every page meets; returns the parsed page."""
    body = response.get_data(as_text=True)
    html5lib.HTMLParser(strict=True).parse(body)  # raises on any parse error
    soup = BeautifulSoup(body, "html.parser")
    assert len(soup.find_all("h1")) == 1, "a page has exactly one h1"
    assert soup.title and soup.title.get_text(strip=True), "a page has a title"
    for form in soup.find_all("form"):
        assert form.get("action") is not None, f"form without action: {str(form)[:120]}"
        assert form.get("method"), f"form without method: {str(form)[:120]}"
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    duplicates = [i for i, n in ids.items() if n > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"
    csp = response.headers.get("Content-Security-Policy", "")
    match = NONCE_PATTERN.search(csp)
    assert match, "the CSP carries a nonce"
    for script in soup.find_all("script"):
        assert script.get("nonce") == match.group(1), (
            f"script without the CSP nonce: {str(script)[:120]}"
        )
    for style in soup.find_all("style"):
        assert style.get("nonce") == match.group(1), "style without the CSP nonce"
    assert not soup.find_all(style=True), "inline style attributes are blocked by the CSP"
    return soup


def get_page(
    client: FlaskClient, endpoint: str, status: int = 200, **values: object
) -> BeautifulSoup:
    """Fetch a page by endpoint name and check it."""
    with client.application.test_request_context():
        url = url_for(endpoint, **values)
    response = client.get(url)
    assert response.status_code == status, f"{url} answered {response.status_code}"
    return check_html(response)


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token from the first form on a page (the session keeps it for later posts)."""
    response = client.get(url)
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no CSRF token on {url}"
    return str(field["value"])


def error_summary(soup: BeautifulSoup) -> list[str]:
    """The messages in a page's GOV.UK error summary."""
    box = soup.select_one(".govuk-error-summary")
    return [li.get_text(" ", strip=True) for li in box.select("li")] if box else []
