"""Security headers on every response, and CSRF on every state-changing request."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from tests.helpers.authz import csrf_headers
from tests.helpers.pages import check_html


def directives(response) -> dict[str, str]:  # noqa: ANN001
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize("path", ["/", "/healthz", "/no-such-page", "/your-area"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = directives(response)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_\-]{16,}'", csp["script-src"])
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_\-]{16,}'", csp["style-src"])
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


def test_nonce_is_new_on_every_request_and_on_every_script(client):
    nonces = set()
    for _ in range(3):
        response = client.get("/")
        check_html(response)  # every script and style carries this response's nonce
        nonces.add(re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1])
    assert len(nonces) == 3


def test_hsts_when_served_over_https(client):
    response = client.get("/", base_url="https://portal.example")
    hsts = response.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts)[1])
    assert max_age >= 365 * 24 * 3600
    assert "includeSubDomains" in hsts


def test_hsts_and_secure_cookies_when_the_public_url_is_https(make_app):
    app = make_app(base_url="https://portal.example")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/", base_url="https://portal.example")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


@pytest.fixture
def csrf_app(app):
    @app.post("/_test/change")
    def _change():
        return "changed"

    return app


def test_post_without_a_csrf_token_is_rejected(csrf_app):
    client = csrf_app.test_client()
    client.get("/")
    response = client.post("/_test/change", data={"name": "x"})
    assert response.status_code == 400
    soup = check_html(response)
    assert "could not be sent" in soup.get_text()
    response = client.post("/_test/change", data={"csrf_token": "forged"})
    assert response.status_code == 400
    response = client.post("/_test/change", headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400


def test_post_with_a_token_from_another_session_is_rejected(csrf_app):
    other = csrf_app.test_client()
    token = csrf_headers(other)
    response = csrf_app.test_client().post("/_test/change", headers=token)
    assert response.status_code == 400


def test_htmx_sends_the_token_from_the_page_in_a_header(csrf_app):
    client = csrf_app.test_client()
    soup = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    headers = json.loads(soup.body["data-hx-headers"])
    assert set(headers) == {"X-CSRFToken"}
    response = client.post("/_test/change", headers={**headers, "HX-Request": "true"})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "changed"


def test_forwarded_headers_are_believed_only_from_trusted_proxies(make_app):
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    direct = make_app().test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" not in direct.headers  # a client cannot claim HTTPS
    proxied = make_app(trusted_proxies=1)

    @proxied.get("/_test/addr")
    def _addr():
        from flask import request

        return request.remote_addr or ""

    response = proxied.test_client().get("/_test/addr", headers=forwarded)
    assert response.get_data(as_text=True) == "203.0.113.9"
    assert "includeSubDomains" in response.headers["Strict-Transport-Security"]
