"""The resident's journey through the sandbox gateway, and bad input on the bill pages."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.common.models import OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.payments.models import Bill, Payment
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_email_text, check_html, error_summary, get_page
from tests.payments.conftest import CT_REF, PCN_REF, latest_payment
from tests.payments.journey import (
    continue_to_gateway,
    full_sandbox_payment,
    local,
    pay_with_card,
    submit_bill,
)


def test_pay_pages_render(bills):
    client = bills.test_client()
    soup = get_page(client, "payments.pay_start")
    assert "Council Tax" in soup.get_text()
    for code in (
        "council_tax",
        "business_rates",
        "housing_rent",
        "parking_penalty",
        "sundry_invoice",
    ):
        get_page(client, "payments.pay_bill", bill_type=code)
    get_page(client, "payments.pay_bill", status=404, bill_type="dog_licence")


def test_choose_nothing_gives_error(bills):
    client = bills.test_client()
    from tests.helpers.pages import csrf_token

    token = csrf_token(client, "/pay")
    response = client.post("/pay", data={"csrf_token": token})
    assert error_summary(check_html(response)) == ["Select what you want to pay"]
    response = client.post("/pay", data={"csrf_token": token, "bill_type": "council_tax"})
    assert response.headers["Location"].endswith("/pay/council_tax")


def test_council_tax_paid_through_sandbox(bills):
    client = bills.test_client()
    response, start_url, card_url, _ = full_sandbox_payment(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    soup = check_html(page)
    payment = latest_payment(bills)
    assert payment.state == "success"
    assert payment.amount_pence == 12550
    assert payment.lgsl == 57 and payment.lgil == 2 and payment.channel == "web"
    assert "Payment received" in soup.h1.get_text()
    assert payment.reference in soup.get_text()
    assert [(t.from_state, t.to_state, t.source) for t in payment.transitions] == [
        ("", "created", "portal"),
        ("created", "started", "portal"),
        ("started", "success", "return_page"),
    ]
    with bills.app_context():
        rows = db.session.scalars(select(ServiceTransaction)).all()
        assert [(r.kind, r.lgsl, r.lgil, r.channel, r.object_ref) for r in rows] == [
            ("payment", 57, 2, "web", payment.reference)
        ]
        emails = db.session.scalars(select(OutboxEmail)).all()
        assert len(emails) == 1 and emails[0].to_address == "payer@example.com"
        assert payment.reference in emails[0].body_text and "£125.50" in emails[0].body_text
        check_email_text(emails[0].body_text)  # the receipt's date reads in UK time, no "UTC"
        bill = db.session.scalar(select(Bill).where(Bill.reference == CT_REF))
        assert bill.balance_pence == 145_000 - 12550
    # Coming back to the return page again changes nothing.
    client.get(f"/payments/{payment.reference}/return")
    with bills.app_context():
        assert db.session.scalar(select(func.count(ServiceTransaction.id))) == 1
    # The start and card pages now lead to the outcome, not a second payment.
    assert client.get(start_url).status_code == 302
    assert client.get(card_url).status_code == 302


def test_declined_card_says_so_and_retry_keeps_everything(bills):
    client = bills.test_client()
    response, *_ = full_sandbox_payment(client, number="4000000000000002")
    soup = check_html(client.get(response.headers["Location"]))
    assert "declined" in soup.h1.get_text()
    first = latest_payment(bills)
    assert first.state == "failed"
    retry_form = soup.find("form", action=f"/payments/{first.reference}/retry")
    token = retry_form.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(f"/payments/{first.reference}/retry", data={"csrf_token": token})
    second = latest_payment(bills)
    assert second.reference != first.reference
    assert (second.amount_pence, second.purpose_ref, second.email) == (
        first.amount_pence,
        first.purpose_ref,
        first.email,
    )
    assert response.headers["Location"] == f"/payments/{second.reference}/pay"
    response = continue_to_gateway(client, f"/payments/{second.reference}/pay")
    response = pay_with_card(client, local(response.headers["Location"]))
    response = client.get(local(response.headers["Location"]))
    assert latest_payment(bills).state == "success"
    with bills.app_context():
        assert db.session.scalar(select(func.count(ServiceTransaction.id))) == 1


def test_cancel_on_the_card_page(bills):
    client = bills.test_client()
    response = submit_bill(client)
    response = continue_to_gateway(client, local(response.headers["Location"]))
    card_url = local(response.headers["Location"])
    soup = check_html(client.get(card_url))
    token = soup.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(card_url, data={"csrf_token": token, "action": "cancel"})
    response = client.get(local(response.headers["Location"]))
    soup = check_html(client.get(response.headers["Location"]))
    assert "You cancelled your payment" in soup.h1.get_text()
    assert soup.find("button", string=lambda s: s and "Try the payment again" in s)
    assert latest_payment(bills).state == "cancelled"


def test_three_d_secure_confirm_and_fail(bills):
    for decision, state in (("confirm", "success"), ("fail", "failed")):
        client = bills.test_client()
        response = submit_bill(client)
        response = continue_to_gateway(client, local(response.headers["Location"]))
        response = pay_with_card(client, local(response.headers["Location"]), "4000002500003155")
        confirm_url = local(response.headers["Location"])
        soup = check_html(client.get(confirm_url))
        token = soup.find("input", attrs={"name": "csrf_token"})["value"]
        response = client.post(confirm_url, data={"csrf_token": token})
        assert "Select whether to confirm" in response.get_data(as_text=True)
        response = client.post(confirm_url, data={"csrf_token": token, "decision": decision})
        client.get(local(response.headers["Location"]))
        assert latest_payment(bills).state == state


def test_return_page_asks_the_gateway_not_the_url(bills):
    client = bills.test_client()
    response = submit_bill(client)
    start_url = local(response.headers["Location"])
    soup = check_html(client.get(start_url))
    assert soup.h1.get_text() == "Check your payment" and "£125.50" in soup.get_text()
    response = continue_to_gateway(client, start_url)
    payment = latest_payment(bills)
    # The payer (or anyone) loads the return URL with made-up "success" parameters before paying.
    response = client.get(f"/payments/{payment.reference}/return?status=success&session_id=x")
    assert response.status_code == 200
    assert "We are checking your payment" in check_html(response).h1.get_text()
    assert latest_payment(bills).state == "started"


def test_card_page_errors(bills):
    client = bills.test_client()
    response = submit_bill(client)
    response = continue_to_gateway(client, local(response.headers["Location"]))
    card_url = local(response.headers["Location"])
    soup = check_html(client.get(card_url))
    assert "Test payment page" in soup.get_text() and "No real money" in soup.get_text()
    token = soup.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(
        card_url,
        data={
            "csrf_token": token,
            "card_number": "1234",
            "expiry": "13/20",
            "cvc": "x",
            "action": "pay",
        },
    )
    errors = error_summary(check_html(response))
    assert "Enter a card number of 16 digits" in errors
    assert "Enter the expiry date like 04/30" in errors
    assert "Enter the name on the card" in errors
    response = pay_with_card(client, card_url, "5555555555554444")
    assert "use one of the test card numbers" in response.get_data(as_text=True)


def test_bad_references(bills):
    client = bills.test_client()
    cases = [
        ("council_tax", "", "Enter your reference"),
        ("council_tax", "12AB", "in the right format"),
        ("council_tax", "400100011", "not a valid reference"),  # check digit wrong
        ("council_tax", "123456789", "We cannot find a council tax"),  # valid, not ours
        ("business_rates", "7001002002", "in the right format"),
        ("housing_rent", "HR50010017", "not a valid reference"),
        ("parking_penalty", "CK10000001B", "not a valid reference"),
        ("sundry_invoice", "INV20010011", "not a valid reference"),
    ]
    for bill_type, reference, message in cases:
        response = submit_bill(client, bill_type=bill_type, reference=reference, amount="10")
        assert response.status_code == 200
        soup = check_html(response)
        errors = error_summary(soup)
        assert any(message in e for e in errors), (bill_type, reference, errors)
        assert soup.title.get_text().startswith("Error:")
        # The other answers are kept.
        assert soup.find("input", attrs={"name": "email"})["value"] == "payer@example.com"
    # Lower case, spaces and hyphens are accepted.
    response = submit_bill(client, bill_type="housing_rent", reference="hr 5001-0016", amount="10")
    assert response.status_code == 302


def test_bad_amounts(bills):
    client = bills.test_client()
    cases = [
        ("", "Enter the amount you want to pay"),
        ("0", "must be more than £0"),
        ("0.00", "must be more than £0"),
        ("-5", "must be more than £0"),
        ("ten pounds", "in pounds and pence"),
        ("12.345", "in pounds and pence"),
        ("1e3", "in pounds and pence"),
        ("5000.01", "must be £5,000.00 or less"),
    ]
    for amount, message in cases:
        response = submit_bill(client, amount=amount)
        assert response.status_code == 200, amount
        soup = check_html(response)
        assert any(message in e for e in error_summary(soup)), (amount, error_summary(soup))
        assert soup.find("input", attrs={"name": "reference"})["value"] == CT_REF
    with bills.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert submit_bill(client, amount="£1,234.50").status_code == 302
    assert latest_payment(bills).amount_pence == 123450


def test_penalty_charge_amount_comes_from_the_reference(bills):
    client = bills.test_client()
    response = submit_bill(client, bill_type="parking_penalty", reference=PCN_REF, amount="0.01")
    assert response.status_code == 302
    payment = latest_payment(bills)
    assert payment.amount_pence == 7000 and payment.lgsl == 471
    # Tampering on the "check and pay" form is ignored too: the amount is ours.
    response = continue_to_gateway(
        client, f"/payments/{payment.reference}/pay", amount="1", amount_pence="1"
    )
    card = client.get(local(response.headers["Location"]))
    assert "£70.00" in card.get_data(as_text=True)
    pay_with_card(client, local(response.headers["Location"]))
    client.get(f"/payments/{payment.reference}/return")
    assert latest_payment(bills).state == "success"
    # A penalty charge that is paid cannot be paid again.
    response = submit_bill(client, bill_type="parking_penalty", reference=PCN_REF)
    assert any("already been paid" in e for e in error_summary(check_html(response)))


def test_signed_in_payer_sees_payments_in_my_council_and_export(bills):
    user = make_user(bills, email="resident@example.com")
    client = client_for(bills, user)
    form = check_html(client.get("/pay/council_tax"))
    assert form.find("input", attrs={"name": "email"})["value"] == "resident@example.com"
    full_sandbox_payment(client, email="resident@example.com")
    payment = latest_payment(bills)
    assert payment.user_id == user.id
    with bills.test_request_context():
        (_order, title, provider) = next(
            s for s in bills.extensions["portal_my_council_sections"] if s[1] == "Your payments"
        )
        from portal.accounts.models import User

        db_user = db.session.get(User, user.id)
        rows = provider(db_user)
        assert rows[0]["status"] == "Paid" and payment.reference in rows[0]["href"]
        exporter = dict(bills.extensions["portal_personal_data"])["payments"]
        data = exporter(db_user)
        assert data[0]["reference"] == payment.reference and data[0]["state"] == "success"
        import json

        json.dumps(data)
    # Another resident cannot see it; nor can someone with only the link.
    other = client_for(bills, make_user(bills))
    assert other.get(f"/payments/{payment.reference}").status_code == 404
    assert bills.test_client().get(f"/payments/{payment.reference}").status_code == 404
