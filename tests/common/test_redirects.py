"""The one safe-redirect check: known open-redirect bypasses are refused everywhere it is used."""

from __future__ import annotations

import pytest

from portal.common.redirects import is_safe_next, safe_next
from tests.accounts.helpers import PASSWORD, user_with_password
from tests.channels.helpers import enrol, kiosk_client
from tests.helpers.pages import csrf_token

BYPASSES = [
    "//evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r/evil.example/",
    "\t//evil.example/",
    " //evil.example/",
    " /",
    "/\\evil.example/",
    "\\/evil.example/",
    "\\\\evil.example/",
    "/\\/evil.example/",
    "/%09/evil.example/",
    "/%0a/evil.example/",
    "/%2f/evil.example/",
    "/%2F%2Fevil.example/",
    "%2F%2Fevil.example/",
    "/%5cevil.example/",
    "/%5Cevil.example/",
    "/%252f/evil.example/",
    "/%25%32%66/evil.example/",
    "https://evil.example/",
    "http:/evil.example/",
    "https:evil.example",
    "//user@evil.example/",
    "/@evil.example".replace("/", "//", 1),
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\u3000/evil.example/",
    "/\u00a0/evil.example/",
    "/\u2028/evil.example/",
    "\uff0f\uff0fevil.example/",
    "/\uff0fevil.example/",
    "/%E3%80%80/evil.example",
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "",
    None,
    "evil.example",
    "/" + "a" * 3000,
]

SAFE = ["/", "/kiosk", "/kiosk/help", "/my-council?tab=alerts", "/services/a%20b", "/a/@b"]


@pytest.mark.parametrize("target", BYPASSES)
def test_known_bypasses_are_refused(target):
    assert not is_safe_next(target)
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", SAFE)
def test_plain_paths_are_kept(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/\\evil.example", "/%09/evil.example/"])
def test_kiosk_next_goes_nowhere_else(app, target):
    _, cookie, _ = enrol(app)
    client = kiosk_client(app, cookie)
    token = csrf_token(client, "/kiosk")
    for url in ("/kiosk/still-here", "/kiosk/contrast"):
        response = client.post(url, data={"csrf_token": token, "next": target})
        assert response.status_code == 303
        assert response.headers["Location"] == "/kiosk"


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/%2f/evil.example", "/\\/evil"])
def test_sign_in_next_goes_nowhere_else(app, client, target):
    user = user_with_password(app)
    response = client.get("/sign-in", query_string={"next": target})
    assert target not in response.get_data(as_text=True)
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "/my"


def test_sign_in_keeps_a_plain_next(app, client):
    user = user_with_password(app)
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in?next=/my/data",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/my/data"
