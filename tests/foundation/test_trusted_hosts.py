"""Production answers only to its own host names (PORTAL_BASE_URL, PORTAL_TRUSTED_HOSTS)."""

from __future__ import annotations

import pytest

BASE = "https://www.castlebrook.example"


@pytest.fixture
def production(make_app):
    return make_app(env="production", base_url=BASE, trusted_hosts="portal.internal, .cdn.example")


@pytest.mark.parametrize(
    "host",
    ["www.castlebrook.example", "portal.internal:8000", "edge.cdn.example"],
)
def test_our_hosts_are_served(production, host):
    response = production.test_client().get("/", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "castlebrook.example.evil.example", "localhost"])
def test_other_hosts_are_refused(production, host):
    client = production.test_client()
    for path in ("/", "/services", "/api/v1/openapi.json", "/sign-in"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, (host, path)
    assert client.post("/sign-in", headers={"Host": host}).status_code == 400


def test_forwarded_host_is_checked_too(make_app):
    app = make_app(env="production", base_url=BASE, trusted_proxies=1)
    client = app.test_client()
    headers = {"Host": "www.castlebrook.example", "X-Forwarded-Host": "evil.example"}
    assert client.get("/", headers=headers).status_code == 400
    headers["X-Forwarded-Host"] = "www.castlebrook.example"
    assert client.get("/", headers=headers).status_code == 200


def test_health_probes_answer_on_loopback_only(production):
    client = production.test_client()
    for path in ("/healthz", "/readyz"):
        assert client.get(path, headers={"Host": "127.0.0.1:5000"}).status_code in {200, 503}
        assert client.get(path, headers={"Host": "localhost"}).status_code in {200, 503}
        assert client.get(path, headers={"Host": "evil.example"}).status_code == 400


def test_any_host_outside_production(make_app):
    app = make_app(base_url=BASE)
    assert app.test_client().get("/", headers={"Host": "localhost:5100"}).status_code == 200
