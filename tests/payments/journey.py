"""Helpers that walk the payment journey through the test client."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask.testing import FlaskClient

from tests.helpers.pages import csrf_token
from tests.payments.conftest import CT_REF


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def submit_bill(
    client: FlaskClient,
    bill_type: str = "council_tax",
    reference: str = CT_REF,
    amount: str = "125.50",
    email: str = "payer@example.com",
    **extra: str,
):  # noqa: ANN201
    url = f"/pay/{bill_type}"
    token = csrf_token(client, url)
    data = {"csrf_token": token, "reference": reference, "amount": amount, "email": email}
    data.update(extra)
    return client.post(url, data=data)


def continue_to_gateway(client: FlaskClient, start_url: str, **extra: str):  # noqa: ANN201
    token = csrf_token(client, start_url)
    return client.post(start_url, data={"csrf_token": token, **extra})


def pay_with_card(client: FlaskClient, card_url: str, number: str = "4242424242424242"):  # noqa: ANN201
    token = csrf_token(client, card_url)
    return client.post(
        card_url,
        data={
            "csrf_token": token,
            "card_number": number,
            "expiry": "12/39",
            "name": "A Payer",
            "cvc": "123",
            "action": "pay",
        },
    )


def full_sandbox_payment(client: FlaskClient, number: str = "4242424242424242", **bill):  # noqa: ANN003, ANN201
    """Pay a council tax bill through the sandbox; returns the final response and the URLs."""
    response = submit_bill(client, **bill)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    start_url = local(response.headers["Location"])
    response = continue_to_gateway(client, start_url)
    assert response.status_code == 303
    card_url = local(response.headers["Location"])
    response = pay_with_card(client, card_url, number)
    assert response.status_code == 303
    return_url = local(response.headers["Location"])
    return client.get(return_url), start_url, card_url, return_url
