"""Every slice writes exactly one take-up record per completed transaction, in the same database
transaction: driven through the real HTTP journeys, with replays, double submissions and
rolled-back attempts writing nothing more.

The call sites of `record_transaction` covered here: online forms (the runner and Open311),
payments (the state machine's success, reached by the return page, a Stripe webhook or a phone
payment), repairs (a report and a booking, by the tenant or by staff on the phone), planning (a
comment, a tracking sign-up, an alert confirmation) and channels (a recorded contact). Accounts
actions are not transactions with a service and write no record.

A repair report and a planning comment carry a single-use submission token
(`portal.common.submissions`): the same form sent twice, one after the other or at the same
moment, creates one repair or comment, and the second answer shows the first one's result.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.channels.models import ContactRecord
from portal.common import submissions
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import OutboxEmail, ServiceTransaction, SubmissionToken
from portal.extensions import db
from portal.online_forms.demo import load_demo_forms
from portal.online_forms.models import FormSubmission
from portal.payments.demo import load_demo_bills
from portal.planning.models import PlanningAlert, PlanningComment, PlanningTracker
from portal.repairs.models import Repair, Slot
from tests.accounts.helpers import (
    PASSWORD,
    emails_to,
    get_user,
    link_in,
    post_form,
    sign_in_with_form,
)
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.online_forms.conftest import ADDRESS, Runner
from tests.online_forms.test_open311 import issue_key
from tests.online_forms.test_runner import complete_missed_bin
from tests.payments.conftest import WEBHOOK_SECRET, event, latest_payment, post_event
from tests.payments.fake_stripe import FakeStripe
from tests.payments.journey import (
    continue_to_gateway,
    full_sandbox_payment,
    local,
    pay_with_card,
    submit_bill,
)
from tests.planning.test_alerts_web import _post_alert, _token_from_last_email
from tests.planning.test_applications_web import _add as add_application
from tests.repairs.conftest import World, add_slot, leaf, working_days_ahead
from tests.repairs.conftest import world as world  # noqa: PLC0414 (the repairs fixture)
from tests.repairs.test_booking import _post_book, make_repair
from tests.repairs.test_reporting import _details


@dataclass(frozen=True)
class Record:
    kind: str
    lgsl: int | None
    lgil: int
    channel: str
    user_id: int | None
    staff_id: int | None
    object_ref: str | None


def records(app) -> list[Record]:  # noqa: ANN001
    with app.app_context():
        rows = db.session.scalars(select(ServiceTransaction).order_by(ServiceTransaction.id))
        return [
            Record(r.kind, r.lgsl, r.lgil, r.channel, r.user_id, r.staff_id, r.object_ref)
            for r in rows
        ]


@pytest.fixture
def forms_app(app):  # noqa: ANN001, ANN201
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    return app


@pytest.fixture
def bills_app(app):  # noqa: ANN001, ANN201
    with app.app_context():
        load_demo_bills()
        db.session.commit()
    return app


def submission_token(client, url: str) -> tuple[str, str]:  # noqa: ANN001
    """The CSRF and submission tokens of the form on a page, as the browser would send them."""
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    field = page.find("input", attrs={"name": submissions.FIELD})
    assert field is not None, f"no submission token on {url}"
    csrf = page.find("input", attrs={"name": "csrf_token"})
    return str(csrf["value"]), str(field["value"])


def count(app, model) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def success_banner(client, location: str) -> str:  # noqa: ANN001
    """The text of the success banner on the page a POST redirected to."""
    soup = check_html(client.get(location))
    banner = soup.select_one(".govuk-notification-banner--success")
    return banner.get_text(" ", strip=True) if banner else ""


def simultaneously(*posts):  # noqa: ANN002, ANN201
    """Run the POSTs at the same moment, each on its own thread and client; their responses."""
    barrier = threading.Barrier(len(posts), timeout=30)
    responses: list = [None] * len(posts)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            responses[i] = posts[i]()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return responses


# ---------------------------------------------------------------------------------- online forms


def test_a_form_submission_writes_one_record_and_a_resend_adds_none(forms_app):
    resident = make_user(forms_app, email="ada@example.com")
    runner = Runner(client_for(forms_app, resident), "report-missed-bin")
    assert records(forms_app) == []
    response = complete_missed_bin(runner, email="ada@example.com")
    reference = response.headers["Location"].rsplit("/", 1)[1]
    assert records(forms_app) == [
        Record("form_submission", 524, 0, "web", resident.id, None, reference)
    ]
    # The same check-answers page sent again (a double click, a refresh that resends the POST).
    token = csrf_token(runner.client, "/forms/report-missed-bin")
    for _ in range(2):
        again = runner.client.post(
            "/forms/report-missed-bin/submit", data={"csrf_token": token, "token": runner.token}
        )
        assert again.status_code == 303 and again.headers["Location"].endswith(reference)
    assert len(records(forms_app)) == 1


def test_a_form_that_is_not_finished_writes_nothing(forms_app):
    runner = Runner(forms_app.test_client(), "report-missed-bin")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    # Missing answers: the check page is not reachable and a submit is sent back.
    assert runner.client.get("/forms/report-missed-bin/check").status_code == 302
    token = csrf_token(runner.client, "/forms/report-missed-bin")
    response = runner.client.post("/forms/report-missed-bin/submit", data={"csrf_token": token})
    assert response.status_code in (302, 303, 400)
    with forms_app.app_context():
        assert db.session.scalars(select(FormSubmission)).all() == []
    assert records(forms_app) == []


def test_a_form_with_a_fee_is_one_transaction_counted_once(forms_app):
    runner = Runner(forms_app.test_client(), "new-or-replacement-bin")
    url = runner.start()
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"reason": "broken"})
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"name": "Pat Payer", "phone": ""})
    assert url.endswith("/check")
    response = runner.submit({"email": "pat@example.com"})
    done_url = local(response.headers["Location"])
    reference = done_url.rsplit("/", 1)[1]
    assert records(forms_app) == [Record("form_submission", 533, 0, "web", None, None, reference)]
    # Paying the fee completes the same resident transaction: no second record.
    pay = runner.client.post(
        f"{done_url}/pay", data={"csrf_token": csrf_token(runner.client, done_url)}
    )
    assert pay.status_code == 303
    start_url = local(pay.headers["Location"])
    card_url = local(continue_to_gateway(runner.client, start_url).headers["Location"])
    return_url = local(pay_with_card(runner.client, card_url).headers["Location"])
    for _ in range(3):  # the return page, reloaded
        runner.client.get(return_url)
    payment = latest_payment(forms_app)
    assert payment.state == "success"
    assert records(forms_app) == [
        Record("form_submission", 533, 0, "web", None, None, reference),
    ]
    with forms_app.app_context():
        submission = db.session.scalar(select(FormSubmission))
        assert submission.status == FormSubmission.RECEIVED


def test_an_open311_request_writes_one_record_and_a_refused_one_none(forms_app):
    key = issue_key(forms_app)
    client = forms_app.test_client()
    form = {
        "api_key": key,
        "service_code": "report-fly-tipping",
        "lat": "52.95",
        "long": "-1.5",
        "attribute[waste]": ["furniture"],
        "attribute[size]": "",
        "description": "Sofa by the bus stop",
    }
    assert client.post("/open311/v2/requests.json", data=form).status_code == 400
    assert records(forms_app) == []
    created = client.post(
        "/open311/v2/requests.json", data={**form, "attribute[size]": "a-small-van-load"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    reference = created.get_json()[0]["service_request_id"]
    with forms_app.app_context():
        form_row = db.session.scalar(
            select(FormSubmission).where(FormSubmission.source == "open311")
        )
        lgsl, lgil = form_row.form.lgsl, form_row.form.lgil
    assert records(forms_app) == [
        Record("form_submission", lgsl, lgil, "web", None, None, reference)
    ]


# ---------------------------------------------------------------------------------- payments


def test_a_sandbox_payment_writes_one_record_however_often_the_payer_comes_back(bills_app):
    resident = make_user(bills_app, email="payer@example.com")
    client = client_for(bills_app, resident)
    response, start_url, card_url, return_url = full_sandbox_payment(client)
    assert response.status_code == 302
    payment = latest_payment(bills_app)
    expected = [Record("payment", 57, 2, "web", resident.id, None, payment.reference)]
    assert records(bills_app) == expected
    # The return page reloaded, the confirmation visited, the card page and its POST resent,
    # and "Continue to payment" pressed again: nothing more is counted.
    for _ in range(2):
        client.get(return_url)
    client.get(f"/payments/{payment.reference}")
    assert client.get(card_url).status_code == 302
    resent = client.post(
        card_url,
        data={
            "csrf_token": csrf_token(client, "/pay"),
            "card_number": "4242424242424242",
            "expiry": "12/39",
            "name": "A Payer",
            "cvc": "123",
            "action": "pay",
        },
    )
    assert resent.status_code == 302
    again = client.post(start_url, data={"csrf_token": csrf_token(client, "/pay")})
    assert again.status_code == 302
    assert records(bills_app) == expected
    # A second visit in another browser session (the account's own) changes nothing either.
    client_for(bills_app, resident).get(return_url)
    assert records(bills_app) == expected


def test_a_declined_card_and_bad_bill_details_write_nothing(bills_app):
    client = bills_app.test_client()
    bad = submit_bill(client, amount="0")
    assert bad.status_code == 200 and error_summary(check_html(bad))
    response, *_ = full_sandbox_payment(client, number="4000000000000002")
    assert latest_payment(bills_app).state == "failed"
    client.get(response.headers["Location"])
    assert records(bills_app) == []


def test_a_stripe_payment_counts_once_across_return_page_and_replayed_webhooks(make_app):
    fake = FakeStripe().start()
    try:
        app = make_app(
            stripe_secret_key="sk_test_portal",
            stripe_webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=fake.url,
        )
        with app.app_context():
            load_demo_bills()
            db.session.commit()
        client = app.test_client()
        response = submit_bill(client)
        continue_to_gateway(client, local(response.headers["Location"]))
        payment = latest_payment(app)
        session = fake.sessions[payment.gateway_session_id]
        paid = dict(fake.complete(session["id"]))
        webhook = app.test_client()
        completed = event("evt_once", "checkout.session.completed", paid)
        assert post_event(webhook, completed).get_json()["outcome"] == "moved to success"
        # The payer's return after the webhook, the same event replayed, and a second event
        # for the same payment: still one record.
        client.get(f"/payments/{payment.reference}/return?session_id={session['id']}")
        assert post_event(webhook, completed).get_json()["outcome"] == "duplicate"
        post_event(webhook, event("evt_twice", "checkout.session.completed", paid))
    finally:
        fake.stop()
    assert records(app) == [Record("payment", 57, 2, "web", None, None, payment.reference)]


def test_a_phone_payment_is_counted_once_on_the_phone_channel_for_the_officer(bills_app):
    finance = make_user(bills_app, roles=("finance",))
    client = client_for(bills_app, finance)
    token = csrf_token(client, "/staff/payments/phone")
    data = {"csrf_token": token, "bill_type": "council_tax", "reference": "400100010"}
    refused = client.post("/staff/payments/phone", data={**data, "amount": "0"})
    assert refused.status_code == 200 and error_summary(check_html(refused))
    response = client.post("/staff/payments/phone", data={**data, "amount": "20"})
    assert response.status_code == 302
    card_url = local(
        continue_to_gateway(client, local(response.headers["Location"])).headers["Location"]
    )
    return_url = local(pay_with_card(client, card_url).headers["Location"])
    client.get(return_url)
    client.get(return_url)
    payment = latest_payment(bills_app)
    assert records(bills_app) == [
        Record("payment", 57, 2, "phone", None, finance.id, payment.reference)
    ]


# ---------------------------------------------------------------------------------- repairs


def test_a_repair_report_writes_one_record_and_a_refused_one_none(app, world: World):
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    refused = _details(client, world.home_id, tap_id, description="")
    assert error_summary(check_html(refused)) == ["Describe the problem"]
    assert records(app) == []
    response = _details(client, world.home_id, tap_id)
    assert response.status_code == 302
    with app.app_context():
        reference = db.session.scalar(select(Repair.reference))
    assert records(app) == [
        Record("repair_report", 141, 0, "web", world.tenant.id, None, reference)
    ]


def test_a_repair_report_and_its_record_roll_back_together(app, world: World, monkeypatch):
    """The record is in the report's transaction: a failure after it was added leaves neither."""
    from portal.repairs import services

    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("mail queue unavailable")

    monkeypatch.setattr(services, "_email_tenant", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    assert _details(client, world.home_id, tap_id).status_code == 500
    with app.app_context():
        assert db.session.scalars(select(Repair)).all() == []
    assert records(app) == []


def test_a_repair_booking_writes_one_record_and_resending_it_none(app, world: World):
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        slot_id = add_slot("plumbing", working_days_ahead(3)).id
        full_id = add_slot("plumbing", working_days_ahead(2), capacity=0).id
        db.session.commit()
    before = records(app)
    assert [r.kind for r in before] == ["repair_report"]
    client = client_for(app, world.tenant)
    refused = _post_book(client, reference, full_id)
    assert refused.status_code == 200 and error_summary(check_html(refused))
    assert records(app) == before
    assert _post_book(client, reference, slot_id).status_code == 302
    # The same booking sent again is refused ("That is already your appointment").
    again = _post_book(client, reference, slot_id)
    assert "already your appointment" in " ".join(error_summary(check_html(again)))
    assert records(app) == [
        *before,
        Record("repair_booking", 141, 1, "web", world.tenant.id, None, reference),
    ]
    with app.app_context():
        assert db.session.get(Slot, slot_id).booked == 1


def test_a_booking_by_staff_on_the_phone_counts_for_the_tenant(app, world: World):
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        slot_id = add_slot("plumbing", working_days_ahead(3)).id
        db.session.commit()
    staff = client_for(app, world.housing)
    url = f"/staff/repairs/{reference}"
    response = staff.post(
        f"{url}/book", data={"csrf_token": csrf_token(staff, url), "slot": str(slot_id)}
    )
    assert response.status_code == 302
    bookings = [r for r in records(app) if r.kind == "repair_booking"]
    assert bookings == [
        Record("repair_booking", 141, 1, "phone", world.tenant.id, world.housing.id, reference)
    ]


DETAILS = "/repairs/report/details"


def _report_form(client, world: World, problem_id: int) -> tuple[str, dict]:  # noqa: ANN001
    url = f"{DETAILS}?property={world.home_id}&problem={problem_id}"
    csrf, token = submission_token(client, url)
    return token, {
        "csrf_token": csrf,
        submissions.FIELD: token,
        "property": str(world.home_id),
        "problem": str(problem_id),
        "description": "The kitchen tap drips all night.",
        "access_notes": "",
        "contact_preference": "email",
        "contact_phone": "",
    }


def test_a_repair_report_sent_twice_makes_one_repair_and_shows_the_first(app, world: World):
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    token, form = _report_form(client, world, tap_id)
    # An error first: the form comes back with the same token (nothing was reported yet).
    refused = client.post(DETAILS, data={**form, "description": ""})
    assert refused.status_code == 200
    page = check_html(refused)
    assert error_summary(page) == ["Describe the problem"]
    assert page.find("input", attrs={"name": submissions.FIELD})["value"] == token
    first = client.post(DETAILS, data=form)
    assert first.status_code == 302
    with app.app_context():
        reference = db.session.scalar(select(Repair.reference))
    assert first.location.endswith(f"/repairs/{reference}")
    assert reference in success_banner(client, first.location)
    # Pressed again, resent after a slow answer, back and resend (even with the text changed):
    # the first report's page, with its reference, and nothing more.
    for description in ("The kitchen tap drips all night.", "Tap still dripping"):
        again = client.post(DETAILS, data={**form, "description": description})
        assert again.status_code == 302 and again.location == first.location
        assert f"Your reference is {reference}" in success_banner(client, again.location)
    assert count(app, Repair) == 1
    assert records(app) == [
        Record("repair_report", 141, 0, "web", world.tenant.id, None, reference)
    ]
    assert len(emails_to(app, world.tenant.email)) == 1
    # A new form is a new report.
    _, form = _report_form(client, world, tap_id)
    assert client.post(DETAILS, data=form).status_code == 302
    assert count(app, Repair) == 2 and len(records(app)) == 2


def test_a_repair_report_sent_twice_at_the_same_moment_makes_one(app, world: World):
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    clients = [client_for(app, world.tenant), client_for(app, world.tenant)]
    _, form = _report_form(clients[0], world, tap_id)
    url = f"{DETAILS}?property={world.home_id}&problem={tap_id}"
    sent = [{**form, "csrf_token": csrf_token(c, url)} for c in clients]
    first, second = simultaneously(
        *(
            lambda c=c, data=data: c.post(DETAILS, data=data)
            for c, data in zip(clients, sent, strict=True)
        )
    )
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    with app.app_context():
        reference = db.session.scalar(select(Repair.reference))
    assert first.location.endswith(f"/repairs/{reference}")
    assert count(app, Repair) == 1
    assert [r.object_ref for r in records(app)] == [reference]
    assert count(app, SubmissionToken) == 1


def test_a_repair_report_that_loses_the_race_rolls_back_and_shows_the_first(
    app, world: World, monkeypatch
):
    """Two POSTs that both found the token unused (two nodes on PostgreSQL): the unique token
    lets one commit; the other's repair, record and email roll back and it answers with the
    first repair."""
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    _, form = _report_form(client, world, tap_id)
    first = client.post(DETAILS, data=form)
    assert first.status_code == 302
    real = submissions.first_result
    calls: list[str] = []

    def not_yet_committed(purpose, token):  # noqa: ANN001, ANN202
        calls.append(purpose)
        return None if len(calls) == 1 else real(purpose, token)

    monkeypatch.setattr(submissions, "first_result", not_yet_committed)
    late = client.post(DETAILS, data=form)
    assert calls == ["repair_report", "repair_report"]  # checked, created, lost, looked again
    assert late.status_code == 302 and late.location == first.location
    assert count(app, Repair) == 1
    assert len(records(app)) == 1
    assert len(emails_to(app, world.tenant.email)) == 1


# ---------------------------------------------------------------------------------- planning

COMMENT = {"name": "Rosa Resident", "address": "3 Mill Lane", "stance": "object", "text": "Too big"}


def test_a_planning_comment_writes_one_record_and_a_refused_one_none(app):
    slug = add_application(app)
    resident = make_user(app, email="rosa@example.com")
    client = client_for(app, resident)
    url = f"/planning/applications/{slug}"
    token = csrf_token(client, url)
    refused = client.post(f"{url}/comments", data={"csrf_token": token, **COMMENT, "stance": ""})
    assert refused.status_code == 400
    assert records(app) == []
    assert client.post(f"{url}/comments", data={"csrf_token": token, **COMMENT}).status_code == 302
    reference = slug.replace("-", "/")
    assert records(app) == [Record("planning_comment", 487, 3, "web", resident.id, None, reference)]
    with app.app_context():
        assert len(db.session.scalars(select(PlanningComment)).all()) == 1


def test_a_comment_after_the_deadline_writes_nothing(app):
    from datetime import date, timedelta

    slug = add_application(app, consultation_end=date.today() - timedelta(days=1))
    client = client_for(app, make_user(app))
    url = f"/planning/applications/{slug}"
    response = client.post(
        f"{url}/comments", data={"csrf_token": csrf_token(client, url), **COMMENT}
    )
    assert response.status_code == 400
    assert records(app) == []


RECEIVED = "Thank you. Your comment has been received"


def test_a_planning_comment_sent_twice_makes_one_comment_and_shows_the_first(app):
    slug = add_application(app)
    resident = make_user(app, email="rosa@example.com")
    client = client_for(app, resident)
    url = f"/planning/applications/{slug}"
    csrf, token = submission_token(client, url)
    data = {"csrf_token": csrf, submissions.FIELD: token, **COMMENT}
    refused = client.post(f"{url}/comments", data={**data, "text": ""})
    assert refused.status_code == 400
    page = check_html(refused)
    assert error_summary(page) == ["Enter your comment"]
    assert page.find("input", attrs={"name": submissions.FIELD})["value"] == token
    first = client.post(f"{url}/comments", data=data)
    assert first.status_code == 302 and first.location.endswith(url)
    assert RECEIVED in success_banner(client, first.location)
    for text in ("Too big", "Far too big"):
        again = client.post(f"{url}/comments", data={**data, "text": text})
        assert again.status_code == 302 and again.location == first.location
        assert RECEIVED in success_banner(client, again.location)
    reference = slug.replace("-", "/")
    assert records(app) == [Record("planning_comment", 487, 3, "web", resident.id, None, reference)]
    assert count(app, PlanningComment) == 1
    assert count(app, OutboxEmail) == 1  # the case officer is told once
    # The page after the comment has a new form: a second comment is a new one.
    csrf, token = submission_token(client, url)
    second = client.post(
        f"{url}/comments", data={"csrf_token": csrf, submissions.FIELD: token, **COMMENT}
    )
    assert second.status_code == 302
    assert count(app, PlanningComment) == 2 and len(records(app)) == 2


def test_a_planning_comment_sent_twice_at_the_same_moment_makes_one(app):
    slug = add_application(app)
    resident = make_user(app, email="rosa@example.com")
    url = f"/planning/applications/{slug}"
    clients = [client_for(app, resident), client_for(app, resident)]
    _, token = submission_token(clients[0], url)
    sent = [
        {"csrf_token": csrf_token(c, url), submissions.FIELD: token, **COMMENT} for c in clients
    ]
    first, second = simultaneously(
        *(lambda c=c, data=data: c.post(f"{url}/comments", data=data)
          for c, data in zip(clients, sent, strict=True))
    )  # fmt: skip
    assert first.status_code == second.status_code == 302
    assert count(app, PlanningComment) == 1
    assert len(records(app)) == 1
    assert count(app, OutboxEmail) == 1


def test_another_persons_comment_token_is_refused(app):
    slug = add_application(app)
    url = f"/planning/applications/{slug}"
    owner = client_for(app, make_user(app, email="rosa@example.com"))
    csrf, token = submission_token(owner, url)
    data = {submissions.FIELD: token, **COMMENT}
    assert owner.post(f"{url}/comments", data={"csrf_token": csrf, **data}).status_code == 302
    other = client_for(app, make_user(app, email="sam@example.com"))
    copied = other.post(f"{url}/comments", data={"csrf_token": csrf_token(other, url), **data})
    assert copied.status_code == 400
    assert count(app, PlanningComment) == 1 and len(records(app)) == 1


def test_tracking_by_a_signed_in_resident_counts_at_once_and_once(app):
    slug = add_application(app)
    resident = make_user(app, email="tracker@example.com")
    client = client_for(app, resident)
    url = f"/planning/applications/{slug}"
    for _ in range(2):  # asking twice keeps the one tracker
        assert (
            client.post(f"{url}/track", data={"csrf_token": csrf_token(client, url)}).status_code
            == 302
        )
    with app.app_context():
        tracker = db.session.scalars(select(PlanningTracker)).one()
        assert tracker.confirmed_at is not None
        tracker_id = tracker.id
    assert records(app) == [
        Record("planning_tracking", 487, 8, "web", resident.id, None, f"tracker-{tracker_id}")
    ]


def test_tracking_by_email_counts_when_confirmed_and_only_once(app):
    slug = add_application(app)
    client = app.test_client()
    url = f"/planning/applications/{slug}"
    bad = client.post(f"{url}/track", data={"csrf_token": csrf_token(client, url), "email": "no"})
    assert bad.status_code == 400
    data = {"csrf_token": csrf_token(client, url), "email": "anon@example.com"}
    assert client.post(f"{url}/track", data=data).status_code == 302
    assert records(app) == []  # not until the address is confirmed
    with app.app_context():
        tracker = db.session.scalars(select(PlanningTracker)).one()
        token, tracker_id = tracker.token, tracker.id
    confirm = f"/planning/confirm/{token}"
    assert client.get(confirm).status_code == 200
    assert records(app) == []  # the link's page changes nothing
    token = csrf_token(client, confirm)
    for _ in range(2):
        assert client.post(confirm, data={"csrf_token": token}).status_code == 200
    assert records(app) == [
        Record("planning_tracking", 487, 8, "web", None, None, f"tracker-{tracker_id}")
    ]


def test_an_alert_counts_when_confirmed_and_only_once(app):
    with app.app_context():
        load_demo_gazetteer()
    client = app.test_client()
    assert _post_alert(client, area="radius", postcode="", radius="800").status_code == 400
    response = _post_alert(client, area="ward", wards=["Millbrook"])
    assert response.status_code == 302
    assert records(app) == []
    token = _token_from_last_email(app, "me@example.com")
    confirm = f"/planning/confirm/{token}"
    token = csrf_token(client, confirm)
    for _ in range(3):  # pressed again, and the emailed link used a second time
        assert client.post(confirm, data={"csrf_token": token}).status_code == 200
    with app.app_context():
        alert = db.session.scalars(select(PlanningAlert)).one()
        assert alert.active
        alert_id = alert.id
    assert records(app) == [
        Record("planning_alert", 487, 8, "web", None, None, f"alert-{alert_id}")
    ]


# ---------------------------------------------------------------------------------- channels


def test_a_recorded_contact_writes_one_record_and_a_refused_one_none(app):
    officer = make_user(app, roles=("officer",))
    resident = make_user(app, email="ada@example.com", name="Ada Lovelace")
    client = client_for(app, officer)
    token = csrf_token(client, "/staff/contacts/new")
    data = {
        "csrf_token": token,
        "resident": str(resident.id),
        "service": "57",
        "channel": "phone",
        "summary": "Council tax bands",
    }
    refused = client.post("/staff/contacts/new", data={**data, "summary": ""})
    assert refused.status_code == 400
    assert records(app) == []
    response = client.post("/staff/contacts/new", data=data)
    assert response.status_code == 303
    with app.app_context():
        reference = db.session.scalar(select(ContactRecord.reference))
    assert records(app) == [Record("contact", 57, 8, "phone", resident.id, officer.id, reference)]
    # The receipt reloaded is only a page.
    client.get(response.headers["Location"])
    client.get(response.headers["Location"])
    assert len(records(app)) == 1


def test_a_contact_form_sent_twice_is_recorded_once(app):
    officer = make_user(app, roles=("officer",))
    resident = make_user(app, email="ada@example.com", name="Ada Lovelace")
    client = client_for(app, officer)
    page = check_html(client.get("/staff/contacts/new", query_string={"q": "ada"}))
    data = {
        "csrf_token": csrf_token(client, "/staff/contacts/new"),
        "submission_token": page.select_one("input[name=submission_token]")["value"],
        "resident": str(resident.id),
        "service": "57",
        "channel": "phone",
        "summary": "Council tax bands",
    }
    first = client.post("/staff/contacts/new", data=data)
    again = client.post("/staff/contacts/new", data={**data, "summary": "Bands, again"})
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert db.session.scalars(select(ContactRecord.summary)).all() == ["Council tax bands"]
    assert len(records(app)) == 1
    # A new form is a new contact.
    page = check_html(client.get("/staff/contacts/new"))
    data["submission_token"] = page.select_one("input[name=submission_token]")["value"]
    assert client.post("/staff/contacts/new", data=data).status_code == 303
    assert len(records(app)) == 2


def test_account_actions_write_no_record(app):
    """Registering, confirming and signing in are not transactions with a service."""
    client = app.test_client()
    details = {"display_name": "Pat Lee", "email": "pat@example.com", "password": PASSWORD}
    assert post_form(client, "/register", details).status_code == 302
    (email,) = emails_to(app, "pat@example.com")
    assert post_form(client, link_in(email), {}).status_code == 302
    assert get_user(app, "pat@example.com").email_confirmed_at is not None
    assert sign_in_with_form(client, "pat@example.com").status_code == 302
    assert records(app) == []
