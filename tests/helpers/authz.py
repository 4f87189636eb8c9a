"""The authorisation matrix: each object route × each kind of actor → the status expected.

A slice's test builds its objects and actors, lists AccessCase rows, and calls
`assert_access_matrix`. Actors are named by ACTORS; a redirect to sign-in is 302.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tests.helpers.auth import client_for

ACTORS = ("owner", "other_resident", "staff_with_role", "staff_without_role", "anonymous")


@dataclass
class AccessCase:
    method: str
    path: str
    expected: dict[str, int]
    data: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = set(ACTORS) - set(self.expected)
        assert not missing, f"{self.method} {self.path}: no expectation for {sorted(missing)}"


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    """A valid CSRF header for `client`'s session, as Flask-WTF would issue it."""
    with client.session_transaction() as flask_session:
        raw = flask_session.setdefault("csrf_token", secrets.token_hex(20))
    serializer = URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token")
    return {"X-CSRFToken": serializer.dumps(raw)}


def request_as(client: FlaskClient, case: AccessCase):  # noqa: ANN201
    if case.method == "GET":
        return client.get(case.path)
    return client.open(case.path, method=case.method, data=case.data, headers=csrf_headers(client))


def assert_access_matrix(app: Flask, actors: dict[str, object], cases: list[AccessCase]) -> None:
    """Every case answers each actor with the expected status; failures are listed together."""
    failures = []
    for case in cases:
        for actor in ACTORS:
            client = client_for(app, actors.get(actor))  # type: ignore[arg-type]
            status = request_as(client, case).status_code
            if status != case.expected[actor]:
                failures.append(
                    f"{case.method} {case.path} as {actor}: {status}, expected {case.expected[actor]}"
                )
    assert not failures, "\n".join(failures)
