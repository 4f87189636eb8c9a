"""Garden waste: subscribe and pay in the sandbox, activation once, take-up, renewals, refunds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.common.clock import frozen_at
from portal.common.models import AuditEvent, OutboxEmail, PortalDelivery, ServiceTransaction
from portal.council_services.models import Interaction, Service
from portal.extensions import db
from portal.garden import services
from portal.garden.models import GardenSubscription
from portal.payments.models import Payment
from tests.garden.conftest import UPRN, pay, subscribe
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_email_text, check_html, csrf_token, error_summary

NOON = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)  # 10 June 2026, midday in the UK


def only_subscription(app) -> GardenSubscription:  # noqa: ANN001
    with app.app_context():
        item = db.session.scalar(select(GardenSubscription))
        db.session.expunge(item)
        return item


def test_reached_from_the_a_to_z_and_paid_in_the_sandbox(garden, signals):
    client = garden.test_client()
    with garden.app_context():
        slug = db.session.scalar(select(Service.slug).where(Service.lgsl == 530))
    soup = check_html(client.get(f"/services/{slug}"))
    button = soup.find("a", string="Subscribe to garden waste collection")
    assert button is not None and button["href"] == "/garden-waste"
    soup = check_html(client.get("/garden-waste"))
    assert "£55.00" in soup.get_text()
    start = soup.find("a", class_="govuk-button--start")["href"]
    soup = check_html(
        client.get(start, query_string={"uprn_postcode": "CK1 1AB", "uprn_find": "1"})
    )
    assert soup.select("select#uprn option[value='100090000001']")
    response = client.get(start, query_string={"uprn_postcode": "CK1 1AB", "uprn": UPRN})
    assert response.status_code == 302
    soup = check_html(client.get(response.headers["Location"]))
    assert soup.h1.get_text(strip=True) == "Check and pay"
    with frozen_at(NOON):
        response = subscribe(client)
        assert response.status_code == 303
        assert "/payments/" in response.headers["Location"]
        assert only_subscription(garden).status == "awaiting_payment"
        assert signals["started"] == []
        page = pay(client, response)
    soup = check_html(page)
    assert soup.h1.get_text(strip=True) == "Subscription complete"
    text = soup.get_text(" ", strip=True)
    assert "run from 10 June 2026 to 9 June 2027" in text
    item = only_subscription(garden)
    assert item.status == "active"
    assert (item.starts_on, item.ends_on) == (date(2026, 6, 10), date(2027, 6, 9))
    assert signals["started"] == [item.reference] and signals["ended"] == []
    with garden.app_context():
        payment = db.session.scalar(
            select(Payment).where(Payment.reference == item.payment_reference)
        )
        assert payment.state == "success" and payment.amount_pence == 5500
        assert (payment.lgsl, payment.lgil, payment.purpose) == (530, 4, "garden_waste")
        # one take-up record for the subscription, on an interaction the register has
        takes = db.session.scalars(
            select(ServiceTransaction).where(ServiceTransaction.lgsl == 530)
        ).all()
        assert [(t.lgil, t.object_ref, t.channel) for t in takes] == [(4, payment.reference, "web")]
        assert db.session.scalar(
            select(Interaction.id).join(Service).where(Service.lgsl == 530, Interaction.lgil == 4)
        )
        delivery = db.session.scalar(select(PortalDelivery).where(PortalDelivery.kind == "garden"))
        assert (delivery.lgsl, delivery.lgil, delivery.live) == (530, 4, True)
        emails = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == "gardener@example.com")
        ).all()
        subjects = sorted(e.subject for e in emails)
        assert subjects == sorted(
            [
                f"Payment received: {payment.reference}",
                f"Your garden waste subscription: {item.reference}",
            ]
        )
        for email in emails:
            check_email_text(email.body_text)
        # settling again (a late webhook, the reconciler, the return page twice) changes nothing
        services.on_payment_success(payment)
        db.session.commit()
    assert signals["started"] == [item.reference]
    with frozen_at(NOON):  # the same visit: a session idle since June has ended by now
        assert client.get(f"/garden-waste/subscriptions/{item.reference}").status_code == 200
    assert (
        garden.test_client().get(f"/garden-waste/subscriptions/{item.reference}").status_code == 404
    )


def test_an_address_already_covered_is_refused_until_renewal_is_due(garden, signals):
    client = garden.test_client()
    token = csrf_token(client, f"/garden-waste/subscribe/{UPRN}")
    with frozen_at(NOON):
        pay(client, subscribe(client))
        soup = check_html(client.get(f"/garden-waste/subscribe/{UPRN}"))
        assert soup.h1.get_text(strip=True) == "You already have garden waste collections"
        assert "until 9 June 2027. You can renew from 12 May 2027" in soup.get_text(" ", strip=True)
        assert soup.select_one("form[action*=subscribe]") is None
        response = subscribe(client, token=token)
        assert response.status_code == 200
        with garden.app_context():
            assert db.session.scalar(select(func.count()).select_from(GardenSubscription)) == 1
    first = only_subscription(garden)
    with frozen_at(datetime(2027, 5, 20, 11, 0, tzinfo=UTC)):
        soup = check_html(client.get(f"/garden-waste/subscribe/{UPRN}"))
        assert soup.h1.get_text(strip=True) == "Check and pay"
        assert "This renews your subscription" in soup.get_text()
        pay(client, subscribe(client))
    with garden.app_context():
        renewal = db.session.scalar(
            select(GardenSubscription).where(GardenSubscription.id != first.id)
        )
        assert (renewal.status, renewal.starts_on, renewal.ends_on) == (
            "active",
            date(2027, 6, 10),
            date(2028, 6, 9),
        )
        assert signals["started"] == [first.reference, renewal.reference]


def test_a_second_payment_for_a_covered_address_is_refunded(garden, signals):
    """Two tabs: both subscriptions are created before either is paid."""
    client = garden.test_client()
    with frozen_at(NOON):
        first = subscribe(client)
        second = subscribe(client)
        pay(client, first)
        pay(client, second)
    with garden.app_context():
        states = db.session.scalars(select(Payment.state).order_by(Payment.id)).all()
        assert states == ["success", "refunded"]
        active = db.session.scalars(
            select(GardenSubscription.status).order_by(GardenSubscription.id)
        ).all()
        assert active == ["active", "awaiting_payment"]
        assert db.session.scalar(select(func.count()).select_from(ServiceTransaction)) == 1
    assert len(signals["started"]) == 1


def test_bad_input_on_the_subscription_pages(garden):
    client = garden.test_client()
    response = client.get(
        "/garden-waste/address", query_string={"uprn_postcode": "", "uprn_find": "1"}
    )
    assert response.status_code == 400
    assert error_summary(check_html(response)) == ["Enter a postcode"]
    response = client.get(
        "/garden-waste/address", query_string={"uprn_postcode": "SW1A 1AA", "uprn_find": "1"}
    )
    assert error_summary(check_html(response)) == [
        "Enter a postcode in the Castlebrook Council area"
    ]
    response = client.get(
        "/garden-waste/address", query_string={"uprn_postcode": "CK1 1AB", "uprn": ""}
    )
    assert error_summary(check_html(response)) == ["Select an address"]
    assert client.get("/garden-waste/subscribe/999999999999").status_code == 404
    for email, message in (
        ("", "Enter your email address"),
        ("not-an-email", "Enter an email address in the correct format, like name@example.com"),
    ):
        response = subscribe(client, email=email)
        assert response.status_code == 400
        soup = check_html(response)
        assert error_summary(soup) == [message]
        assert soup.select_one("#email")["value"] == email
    with garden.app_context():
        assert db.session.scalar(select(func.count()).select_from(GardenSubscription)) == 0
    # a declined card leaves the subscription unpaid, and a retry that succeeds activates it
    with frozen_at(NOON):
        page = pay(client, subscribe(client), number="4000000000000002")
    assert only_subscription(garden).status == "unpaid"
    assert page.status_code == 200


def test_renewal_reminders_go_once_and_expiry_ends_once(garden, signals):
    client = garden.test_client()
    with frozen_at(NOON):
        pay(client, subscribe(client))
    item = only_subscription(garden)

    def reminders() -> int:
        with garden.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.subject == "Renew your garden waste subscription")
            )

    with garden.app_context():
        # too early: nothing
        assert services.send_renewal_reminders(date(2027, 5, 1)) == 0
        # a run that dies before its commit sends nothing and claims nothing
        assert services.send_renewal_reminders(date(2027, 5, 20)) == 1
        db.session.rollback()
    assert reminders() == 0
    with garden.app_context():
        assert services.send_renewal_reminders(date(2027, 5, 20)) == 1
        db.session.commit()
        # the next day's run, a retried job and a second worker find it claimed
        assert services.send_renewal_reminders(date(2027, 5, 21)) == 0
        assert services.send_renewal_reminders(date(2027, 5, 20)) == 0
        db.session.commit()
        email = db.session.scalar(
            select(OutboxEmail).where(OutboxEmail.subject == "Renew your garden waste subscription")
        )
        assert "end on 9 June 2027" in email.body_text and "/garden-waste" in email.body_text
        check_email_text(email.body_text)
    assert reminders() == 1
    with garden.app_context():
        assert services.end_expired(date(2027, 6, 9)) == 0  # its last day
        assert services.end_expired(date(2027, 6, 10)) == 1
        db.session.commit()
        assert services.end_expired(date(2027, 6, 11)) == 0
        db.session.commit()
    assert only_subscription(garden).status == "expired"
    assert signals["ended"] == [item.reference]


def test_two_workers_claiming_the_same_reminder_send_it_once(garden):
    """Both read the due subscription before either claims it; only one claim succeeds.

    On SQLite a job's write transaction begins IMMEDIATE, so two workers never interleave; the
    race exists on PostgreSQL, where the conditional UPDATE re-reads the committed row.
    """
    if garden.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): the race needs PostgreSQL")
    client = garden.test_client()
    with frozen_at(NOON):
        pay(client, subscribe(client))
    with garden.app_context():
        due = date(2027, 5, 20)
        original = services._renewed
        calls: list[int] = []

        def racing(subscription):  # noqa: ANN001, ANN202
            # the other worker claims and commits between this worker's read and its claim
            if not calls:
                calls.append(1)
                from portal.extensions import db as shared

                engine = shared.engine
                with engine.begin() as other:
                    other.execute(
                        GardenSubscription.__table__.update()
                        .where(GardenSubscription.__table__.c.id == subscription.id)
                        .values(renewal_reminder_sent_at=datetime(2027, 5, 20, tzinfo=UTC))
                    )
            return original(subscription)

        services._renewed = racing
        try:
            assert services.send_renewal_reminders(due) == 0
        finally:
            services._renewed = original
        db.session.commit()
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.subject == "Renew your garden waste subscription")
            )
            == 0
        )


def test_staff_see_export_and_finance_refunds(garden, signals):
    client = garden.test_client()
    with frozen_at(NOON):
        pay(client, subscribe(client, email="=cmd@example.com"))
    item = only_subscription(garden)
    officer = client_for(garden, make_user(garden, roles=("officer",)))
    soup = check_html(officer.get("/staff/garden-waste/"))
    assert item.reference in soup.get_text()
    csv_response = officer.get("/staff/garden-waste/?format=csv&status=active")
    assert csv_response.mimetype == "text/csv"
    lines = csv_response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("reference,uprn,address,email,status,starts_on,ends_on")
    assert len(lines) == 2 and item.reference in lines[1]
    assert "'=cmd@example.com" in lines[1] and "2026-06-10,2027-06-09,55.00" in lines[1]
    url = f"/staff/garden-waste/{item.reference}"
    soup = check_html(officer.get(url))
    assert soup.select_one("form#refund") is None  # only finance refunds
    assert (
        officer.post(url, data={"csrf_token": csrf_token(officer, url), "reason": "x"}).status_code
        == 403
    )
    assert client_for(garden, make_user(garden)).get("/staff/garden-waste/").status_code == 403
    finance = client_for(garden, make_user(garden, roles=("finance",)))
    token = csrf_token(finance, url)
    response = finance.post(url, data={"csrf_token": token, "reason": ""})
    assert error_summary(check_html(response)) == [
        "Enter why the subscription is cancelled and refunded"
    ]
    response = finance.post(url, data={"csrf_token": token, "reason": "Moved away"})
    assert response.status_code == 303
    soup = check_html(finance.get(url))
    assert "Cancelled and refunded" in soup.get_text()
    with garden.app_context():
        payment = db.session.scalar(select(Payment))
        assert payment.state == "refunded" and payment.refunded_pence == 5500
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "garden.cancelled")
        )
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "payment.refund"))
    assert signals["ended"] == [item.reference]
    # a second click changes nothing
    response = finance.post(url, data={"csrf_token": token, "reason": "Moved away"})
    assert response.status_code == 400
    assert error_summary(check_html(response)) == [
        "Only an active, paid subscription can be cancelled and refunded"
    ]
    assert signals["ended"] == [item.reference]


def test_a_signed_in_resident_sees_it_in_my_council(garden):
    resident = make_user(garden, email="robin@example.com")
    client = client_for(garden, resident)
    soup = check_html(client.get(f"/garden-waste/subscribe/{UPRN}"))
    assert soup.select_one("#email")["value"] == "robin@example.com"
    with frozen_at(NOON):
        pay(client, subscribe(client, email="robin@example.com"))
        soup = check_html(client.get("/my"))
    text = soup.get_text(" ", strip=True)
    item = only_subscription(garden)
    assert item.user_id == resident.id
    assert "Garden waste collection at" in text
    assert f"10 June 2026 to 9 June 2027, reference {item.reference}" in text
    with frozen_at(NOON):  # the same visit: a session idle since June has ended by now
        assert client.get(f"/garden-waste/subscriptions/{item.reference}").status_code == 200
    other = client_for(garden, make_user(garden))
    assert other.get(f"/garden-waste/subscriptions/{item.reference}").status_code == 404


def test_the_daily_job_ends_and_reminds(garden, signals):
    from portal.garden.jobs import garden_waste_daily

    client = garden.test_client()
    with frozen_at(NOON):
        pay(client, subscribe(client))
    item = only_subscription(garden)
    with frozen_at(datetime(2027, 5, 20, 5, 30, tzinfo=UTC)), garden.app_context():
        assert garden_waste_daily.call_local() == 1  # the reminder
        assert garden_waste_daily.call_local() == 0  # run again: nothing more
    with frozen_at(datetime(2027, 6, 10, 5, 30, tzinfo=UTC)), garden.app_context():
        assert garden_waste_daily.call_local() == 1  # ended
    assert only_subscription(garden).status == "expired"
    assert signals["ended"] == [item.reference]
