"""Fixtures for the garden waste tests: the demo gazetteer and register, signal recorders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from portal.garden import services
from portal.garden.demo import load_demo_garden
from tests.helpers.pages import csrf_token
from tests.payments.journey import continue_to_gateway, local, pay_with_card

UPRN = "100090000001"


@pytest.fixture
def garden(app: Flask) -> Flask:
    from portal.council_services.demo import load_demo_catalogue

    with app.app_context():
        load_demo_gazetteer()
        load_demo_catalogue()
        load_demo_garden()
        db.session.commit()
    return app


@pytest.fixture
def signals() -> Iterator[dict[str, list[str]]]:
    """What each garden signal was sent for, by subscription reference."""
    seen: dict[str, list[str]] = {"started": [], "ended": []}

    def started(sender, **_):  # noqa: ANN001, ANN003
        seen["started"].append(sender.reference)

    def ended(sender, **_):  # noqa: ANN001, ANN003
        seen["ended"].append(sender.reference)

    services.subscription_started.connect(started)
    services.subscription_ended.connect(ended)
    yield seen
    services.subscription_started.disconnect(started)
    services.subscription_ended.disconnect(ended)


def subscribe(client, uprn: str = UPRN, email: str = "gardener@example.com", token: str = ""):  # noqa: ANN001, ANN201
    """Post the details page; returns the response (a redirect to payment when accepted)."""
    url = f"/garden-waste/subscribe/{uprn}"
    return client.post(url, data={"csrf_token": token or csrf_token(client, url), "email": email})


def pay(client, response, number: str = "4242424242424242"):  # noqa: ANN001, ANN201
    """From the redirect to payments.start, pay in the sandbox; returns the final page."""
    start_url = local(response.headers["Location"])
    response = continue_to_gateway(client, start_url)
    assert response.status_code == 303
    response = pay_with_card(client, local(response.headers["Location"]), number)
    assert response.status_code == 303
    response = client.get(local(response.headers["Location"]))
    while response.status_code in (302, 303):
        response = client.get(local(response.headers["Location"]))
    return response
