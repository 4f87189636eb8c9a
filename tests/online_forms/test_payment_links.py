"""Finishing a payment later: an emailed, signed link that works in any browser for 7 days."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.common.models import OutboxEmail, utcnow
from portal.extensions import db
from portal.online_forms import services
from portal.online_forms.models import FormSubmission
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html
from tests.online_forms.conftest import ADDRESS
from tests.payments.journey import local, pay_with_card

pytest.importorskip("portal.payments.services")

DECLINE = "4000000000000002"
BASE = "http://portal.castlebrook.example"  # http: the test client sends no secure cookies


@pytest.fixture
def demo(make_app):
    """The demo forms on an app whose public address is not the test client's host."""
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.online_forms.demo import load_demo_forms

    app = make_app(base_url=BASE)
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    return app


def order_bin(runner, email="pat@example.com"):
    url = runner.start()
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"reason": "broken"})
    url = runner.answer(url, ADDRESS)
    runner.answer(url, {"name": "Pat Payer", "phone": ""})
    done = runner.submit({"email": email})
    return done.headers["Location"].rsplit("/", 1)[1]


def pay_from_confirmation(client, reference, number):
    """Pay now on the confirmation page, continue to the sandbox, enter the card, come back."""
    page = client.get(f"/forms/new-or-replacement-bin/done/{reference}")
    token = check_html(page).find("input", attrs={"name": "csrf_token"})["value"]
    start = client.post(
        f"/forms/new-or-replacement-bin/done/{reference}/pay", data={"csrf_token": token}
    )
    return through_gateway(client, local(start.headers["Location"]), number)


def through_gateway(client, start_url, number):
    page = client.get(start_url)
    token = check_html(page).find("input", attrs={"name": "csrf_token"})["value"]
    gateway = client.post(start_url, data={"csrf_token": token})
    assert gateway.status_code == 303, gateway.get_data(as_text=True)[:1000]
    card = pay_with_card(client, local(gateway.headers["Location"]), number)
    assert card.status_code == 303
    return client.get(local(card.headers["Location"]))


def link_emails(app, to="pat@example.com"):
    with app.app_context():
        return [
            e
            for e in db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == to))
            if e.subject.startswith("Finish paying")
        ]


def link_in(email) -> str:
    return re.search(r"https?://\S+/forms/pay/\S+", email.body_text).group(0)


def test_declined_payment_emails_a_link_that_finishes_in_a_new_browser(demo, runner_for):
    runner = runner_for("new-or-replacement-bin")
    reference = order_bin(runner)
    assert link_emails(demo) == []  # nothing yet: the resident is about to pay
    declined = pay_from_confirmation(runner.client, reference, DECLINE)
    assert declined.status_code == 302  # to the payment's outcome page
    emails = link_emails(demo)
    assert len(emails) == 1
    email = emails[0]
    assert reference in email.subject and "£25.00" in email.body_text
    link = link_in(email)
    assert link.startswith(BASE + "/forms/pay/")  # the configured address, not the Host header
    with demo.app_context():
        expires = services.uk_when(
            db.session.scalar(select(FormSubmission)).payment_link_sent_at + timedelta(days=7)
        )
    assert f"This link works for 7 days, until {expires}." in email.body_text

    # a second decline straight away does not send the same email again
    pay_from_confirmation(runner.client, reference, DECLINE)
    assert len(link_emails(demo)) == 1

    # later, in another browser with no session
    other = demo.test_client()
    path = local(link)
    page = other.get(path)
    assert page.status_code == 200
    soup = check_html(page)
    assert soup.h1.get_text() == "Pay to complete your request"
    assert reference in soup.get_text() and "£25.00" in soup.get_text()
    token = soup.find("input", attrs={"name": "csrf_token"})["value"]
    to_payment = other.post(path, data={"csrf_token": token})
    assert to_payment.status_code == 303
    paid = through_gateway(other, local(to_payment.headers["Location"]), "4242424242424242")
    assert paid.status_code == 302
    confirmation = other.get(local(paid.headers["Location"]))
    assert check_html(confirmation).select_one(".govuk-panel__title").get_text() == "Form sent"
    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert item.status == FormSubmission.RECEIVED

    # the link again, once paid, says so
    again = other.get(path)
    assert again.status_code == 200
    soup = check_html(again)
    assert soup.h1.get_text() == "This request is already paid"
    assert soup.select_one("#status").get_text() == "Received"
    fresh = demo.test_client().get(path)
    assert check_html(fresh).h1.get_text() == "This request is already paid"


def test_expired_and_tampered_links_get_a_clear_page(demo, runner_for, monkeypatch):
    runner = runner_for("new-or-replacement-bin")
    reference = order_bin(runner)
    pay_from_confirmation(runner.client, reference, DECLINE)
    path = local(link_in(link_emails(demo)[0]))
    client = demo.test_client()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 7 * 24 * 3600 + 60)  # 7 days later
    expired = client.get(path)
    monkeypatch.setattr(time, "time", real)
    assert expired.status_code == 410
    assert check_html(expired).h1.get_text() == "This link has expired"
    assert client.get(path).status_code == 200  # the same link a minute before: still works
    tampered = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 404
    assert check_html(tampered).h1.get_text() == "This link does not work"
    other_key = URLSafeTimedSerializer("not the key", salt=services.PAYMENT_LINK_SALT)
    forged = client.get("/forms/pay/" + other_key.dumps({"r": reference}))
    assert forged.status_code == 404
    assert check_html(forged).h1.get_text() == "This link does not work"


def test_abandoned_before_paying_gets_the_link_from_the_job(demo, runner_for):
    runner = runner_for("new-or-replacement-bin")
    order_bin(runner)
    with demo.app_context():
        assert services.remind_unpaid() == 0  # too soon: the resident may be paying now
        assert services.remind_unpaid(utcnow() + timedelta(minutes=91)) == 1
        assert services.remind_unpaid(utcnow() + timedelta(minutes=120)) == 0  # once only
    assert len(link_emails(demo)) == 1


def test_signed_in_resident_sees_pay_now_in_my_council_and_must_sign_in_to_use_the_link(
    demo, runner_for
):
    resident = make_user(demo, "owner@example.com")
    client = client_for(demo, resident)
    runner = runner_for("new-or-replacement-bin", client)
    reference = order_bin(runner, email="owner@example.com")
    my = check_html(client.get("/my"))
    pay_now = [a for a in my.select("a") if a.get_text(strip=True).startswith("Pay now")]
    assert len(pay_now) == 1
    assert pay_now[0]["href"] == f"/forms/new-or-replacement-bin/done/{reference}"
    assert client.get(pay_now[0]["href"]).status_code == 200
    pay_from_confirmation(client, reference, DECLINE)
    path = local(link_in(link_emails(demo, "owner@example.com")[0]))
    stranger = demo.test_client()
    page = stranger.get(path)
    soup = check_html(page)
    assert soup.h1.get_text() == "Sign in to pay for your request"
    assert stranger.post(path, data={}).status_code == 400  # no CSRF token: refused
    assert check_html(client.get(path)).h1.get_text() == "Pay to complete your request"
