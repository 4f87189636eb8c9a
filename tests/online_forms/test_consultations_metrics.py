"""Consultations with published results, metrics per form, and the payment step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.common.clock import uk_today
from portal.extensions import db
from portal.online_forms.models import FormSubmission, OnlineForm
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token


def respond(runner, hours: str, sunday: str):
    url = runner.start()
    url = runner.answer(url, {"hours": hours})
    url = runner.answer(url, {"sunday": sunday})
    runner.answer(url, {"comments": ""})
    runner.submit()


def test_consultation_listed_then_results_published_after_closing(demo, runner_for):
    soup = check_html(demo.test_client().get("/consultations"))
    assert "Consultation: library opening hours" in soup.select_one("ul.govuk-list").get_text()
    respond(runner_for("library-opening-hours"), "evenings", "yes")
    respond(runner_for("library-opening-hours"), "evenings", "no")
    respond(runner_for("library-opening-hours"), "weekends", "yes")
    editor = client_for(demo, make_user(demo, roles=("editor",)))
    with demo.app_context():
        form = db.session.scalar(
            select(OnlineForm).where(OnlineForm.slug == "library-opening-hours")
        )
        form_id = form.id
    token = csrf_token(editor, f"/staff/forms/builder/{form_id}")
    # not yet closed: publishing is refused
    editor.post(
        f"/staff/forms/builder/{form_id}/summary", data={"csrf_token": token, "summary": "Too soon"}
    )
    with demo.app_context():
        form = db.session.get(OnlineForm, form_id)
        assert form.summary is None
        form.closes_on = uk_today() - timedelta(days=1)
        db.session.commit()
    # closed: the start page says so and the form takes no more answers
    assert "This form closed" in demo.test_client().get("/forms/library-opening-hours").get_data(
        as_text=True
    )
    editor.post(
        f"/staff/forms/builder/{form_id}/summary",
        data={"csrf_token": token, "summary": "Most people want **evening** opening."},
    )
    soup = check_html(demo.test_client().get("/consultations"))
    text = soup.get_text(" ", strip=True)
    assert "3 responses" in text
    table = soup.select("table")[0]
    counts = {
        r.th.get_text(strip=True): r.td.get_text(strip=True) for r in table.select("tbody tr")
    }
    assert counts == {"Early mornings": "0", "Evenings": "2", "Weekends": "1"}
    assert "<strong>evening</strong>" in str(soup)


def test_metrics_started_submitted_and_drop_off(demo, runner_for):
    respond(runner_for("library-opening-hours"), "evenings", "yes")
    runner = runner_for("library-opening-hours")
    url = runner.start()
    runner.answer(url, {"hours": "weekends"})  # then leaves
    runner_for("library-opening-hours").start()  # starts and leaves at once
    editor = client_for(demo, make_user(demo, roles=("editor",)))
    with demo.app_context():
        form_id = db.session.scalar(
            select(OnlineForm.id).where(OnlineForm.slug == "library-opening-hours")
        )
    soup = check_html(editor.get(f"/staff/forms/builder/{form_id}/metrics"))
    assert soup.select_one("#metric-started").get_text() == "3"
    assert soup.select_one("#metric-submitted").get_text() == "1"
    assert soup.select_one("#metric-rate").get_text() == "33.3%"
    rows = {
        r.th.get_text(strip=True): r.td.get_text(strip=True)
        for r in soup.select("table")[0].select("tbody tr")
    }
    assert rows == {
        "Which opening hours would suit you best?": "1",
        "Start page (no page answered)": "1",
    }
    assert "web: 1" in soup.get_text()


def test_a_form_with_a_payment_waits_for_it(demo, runner_for):
    runner = runner_for("bulky-waste-collection")
    url = runner.start()
    url = runner.answer(url, {"items": ["sofa", "mattress", "fridge-or-freezer"]})
    url = runner.answer(url, {"address_postcode": "CK1 1AB", "address": "100090000001"})
    url = runner.answer(
        url, {"preferred-day": "1", "preferred-month": "6", "preferred-year": "2027"}
    )
    runner.answer(url, {"name": "Bo Bulk", "phone": ""})
    check = check_html(runner.client.get("/forms/bulky-waste-collection/check"))
    assert "£36.00" in check.get_text()
    response = runner.submit({"email": "bulk@example.com"})
    done = check_html(runner.client.get(response.headers["Location"]))
    assert done.h1.get_text() == "Pay to complete your request"
    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert item.status == "awaiting_payment" and item.amount_pence == 3600


def test_payment_success_completes_the_submission(demo, runner_for):
    payments = pytest.importorskip("portal.payments.services")
    runner = runner_for("new-or-replacement-bin")
    url = runner.start()
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"reason": "broken"})
    url = runner.answer(url, {"address_postcode": "CK1 1AB", "address": "100090000001"})
    runner.answer(url, {"name": "Pay Er", "phone": ""})
    response = runner.submit({"email": "payer@example.com"})
    done_url = response.headers["Location"]
    token = csrf_token(runner.client, done_url)
    started = runner.client.post(done_url + "/pay", data={"csrf_token": token})
    assert started.status_code == 303
    from portal.common.models import OutboxEmail
    from portal.payments.models import Payment

    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert item.status == "awaiting_payment"
        assert started.headers["Location"].endswith(f"/payments/{item.payment_reference}/pay")
        payment = db.session.scalar(
            select(Payment).where(Payment.reference == item.payment_reference)
        )
        assert (payment.amount_pence, payment.purpose, payment.purpose_ref) == (
            2500,
            "form_submission",
            item.reference,
        )
        for state in ("started", "success"):
            payments.transition(payment, state, "test")
        db.session.commit()
        item = db.session.scalar(select(FormSubmission))
        assert item.status == "received"
        subjects = db.session.scalars(
            select(OutboxEmail.subject).where(OutboxEmail.to_address == "payer@example.com")
        ).all()
        assert any(item.reference in subject for subject in subjects)  # the form's own email
