"""Staff: access, search, timeline, refunds (never more than remains, once per click, one of two
concurrent), the daily report and phone payments."""

from __future__ import annotations

import csv
import io
import threading
import uuid

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.common.models import AuditEvent, ServiceTransaction
from portal.extensions import db
from portal.payments.models import Payment, Refund
from portal.payments.services import PaymentError, refund_payment
from tests.helpers.auth import client_for, make_user
from tests.helpers.authz import AccessCase, assert_access_matrix
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.payments.conftest import latest_payment
from tests.payments.journey import continue_to_gateway, full_sandbox_payment, local, pay_with_card


def _paid(app, owner=None, amount="100.00"):  # noqa: ANN001, ANN202
    client = client_for(app, owner) if owner else app.test_client()
    full_sandbox_payment(client, amount=amount)
    return latest_payment(app)


def test_access_matrix(bills):
    owner = make_user(bills)
    payment = _paid(bills, owner)
    actors = {
        "owner": owner,
        "other_resident": make_user(bills),
        "staff_with_role": make_user(bills, roles=("finance",)),
        "staff_without_role": make_user(bills, roles=("planning",)),
        "anonymous": None,
    }
    ref = payment.reference
    public = {
        "owner": 200,
        "other_resident": 404,
        "staff_with_role": 404,
        "staff_without_role": 404,
        "anonymous": 404,
    }
    staff = {
        "owner": 403,
        "other_resident": 403,
        "staff_with_role": 200,
        "staff_without_role": 403,
        "anonymous": 302,  # to sign-in
    }
    cases = [
        AccessCase("GET", f"/payments/{ref}", public),
        AccessCase("GET", f"/payments/{ref}/pay", {**public, "owner": 302}),
        AccessCase("GET", f"/payments/{ref}/return", {**public, "owner": 302}),
        AccessCase("POST", f"/payments/{ref}/retry", {**public, "owner": 302}),
        AccessCase("GET", "/staff/payments/", staff),
        AccessCase("GET", f"/staff/payments/{ref}", staff),
        AccessCase("GET", "/staff/payments/report", staff),
        AccessCase("GET", "/staff/payments/report.csv", staff),
        AccessCase("GET", "/staff/payments/phone", staff),
        AccessCase(
            "POST",
            f"/staff/payments/{ref}/refund",
            {**staff, "staff_with_role": 400},  # reaches the form: no amount given
        ),
        AccessCase("POST", f"/staff/payments/{ref}/check", {**staff, "staff_with_role": 303}),
    ]
    assert_access_matrix(bills, actors, cases)
    assert latest_payment(bills).refunded_pence == 0


def test_search_filters_and_timeline(bills):
    paid = _paid(bills)
    client = client_for(bills, make_user(bills, roles=("finance",)))
    soup = check_html(client.get("/staff/payments/"))
    assert paid.reference in soup.get_text()
    assert paid.reference in client.get("/staff/payments/?q=400100010").get_data(as_text=True)
    assert paid.reference not in client.get("/staff/payments/?q=nothing-like-it").get_data(
        as_text=True
    )
    assert paid.reference in client.get(
        "/staff/payments/?state=success&channel=web&fund=council_tax"
    ).get_data(as_text=True)
    assert paid.reference not in client.get("/staff/payments/?state=refunded").get_data(
        as_text=True
    )
    soup = check_html(client.get("/staff/payments/?from-day=30&from-month=2&from-year=2026"))
    assert error_summary(soup) == ["Created from must be a real date"]
    soup = check_html(client.get("/staff/payments/?from-day=1&from-month=11&fund=council_tax"))
    assert error_summary(soup) == ["Created from must include a year"]
    assert soup.find("input", id="from-month")["value"] == "11"
    fragment = client.get("/staff/payments/?q=PY", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    # htmx gets the search block (errors, form, results) and the title, not a whole page
    assert fragment.lstrip().startswith("<title>") and "<html" not in fragment
    assert '<div id="payments-search"' in fragment and '<div id="results">' in fragment
    soup = check_html(client.get(f"/staff/payments/{paid.reference}"))
    rows = [tr.get_text(" ", strip=True) for tr in soup.select("table tbody tr")]
    assert any("created → started" in r and "portal" in r for r in rows)
    assert any("started → success" in r and "return page" in r for r in rows)


def _refund_post(client, reference, amount, key=None, reason="Paid twice"):  # noqa: ANN001, ANN202
    url = f"/staff/payments/{reference}"
    page = client.get(url)
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    form = soup.find("form", action=f"{url}/refund")
    data = {
        "csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"],
        "request_key": key or form.find("input", attrs={"name": "request_key"})["value"],
        "amount": amount,
        "reason": reason,
    }
    return client.post(f"{url}/refund", data=data), data


def test_partial_then_full_refund_and_no_more_than_remains(bills):
    payment = _paid(bills)
    finance = make_user(bills, roles=("finance",))
    client = client_for(bills, finance)
    response, _ = _refund_post(client, payment.reference, "30.00")
    assert response.status_code == 303
    assert latest_payment(bills).state == "partially_refunded"
    response, _ = _refund_post(client, payment.reference, "70.01")
    assert response.status_code == 400
    soup = check_html(response)
    assert error_summary(soup) == [
        "The refund must be £70.00 or less (what remains of the payment)"
    ]
    for bad, message in (
        ("0", "more than £0"),
        ("-1", "more than £0"),
        ("abc", "pounds and pence"),
    ):
        response, _ = _refund_post(client, payment.reference, bad)
        assert any(message in e for e in error_summary(check_html(response))), bad
    response, _ = _refund_post(client, payment.reference, "70.00")
    assert response.status_code == 303
    final = latest_payment(bills)
    assert (final.state, final.refunded_pence) == ("refunded", 10000)
    assert [t.source for t in final.transitions][-2:] == ["staff", "staff"]
    soup = check_html(client.get(f"/staff/payments/{payment.reference}"))
    assert not soup.find("form", action=f"/staff/payments/{payment.reference}/refund")
    with bills.app_context():
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "payment.refund")
            )
            == 2
        )


def test_double_click_refunds_once(bills):
    payment = _paid(bills)
    client = client_for(bills, make_user(bills, roles=("finance",)))
    response, data = _refund_post(client, payment.reference, "10.00")
    assert response.status_code == 303
    second = client.post(f"/staff/payments/{payment.reference}/refund", data=data)
    assert second.status_code == 303
    with bills.app_context():
        assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert latest_payment(bills).refunded_pence == 1000


def test_concurrent_refunds_only_one_succeeds(bills):
    payment = _paid(bills)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        with bills.app_context():
            barrier.wait()
            try:
                refund_payment(payment.reference, 10000, "race", uuid.uuid4().hex, None)
                db.session.commit()
                results.append("ok")
            except PaymentError as exc:
                db.session.rollback()
                results.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count("ok") == 1, results
    final = latest_payment(bills)
    assert (final.state, final.refunded_pence) == ("refunded", 10000)
    with bills.app_context():
        assert db.session.scalar(select(func.count(Refund.id))) == 1


def test_refund_of_an_unpaid_payment_is_refused(bills):
    client = bills.test_client()
    from tests.payments.journey import submit_bill

    submit_bill(client)
    payment = latest_payment(bills)
    with bills.test_request_context():
        try:
            refund_payment(payment.reference, 100, "x", "k", None)
            raise AssertionError("refund accepted")
        except PaymentError as exc:
            assert "Only a paid payment" in str(exc)


def test_daily_report_and_csv(bills):
    _paid(bills, amount="100.00")
    paid = _paid(bills, amount="20.00")
    with bills.test_request_context():
        refund_payment(paid.reference, 500, "x", "k1", None)
        db.session.commit()
    from tests.payments.journey import submit_bill

    submit_bill(bills.test_client(), amount="3")  # created, never paid
    client = client_for(bills, make_user(bills, roles=("finance",)))
    soup = check_html(client.get("/staff/payments/report"))
    text = soup.get_text(" ", strip=True)
    row = "Council Tax (Collection Fund) Council tax annual notification (LGSL 57) 2 £120.00 £5.00 £115.00"
    assert row in text, text
    assert "council_tax" not in text
    response = client.get("/staff/payments/report.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    fund = next(r for r in rows if r["section"] == "by_fund")
    # the codes stay in their own columns for the ledger, with the names beside them
    assert (fund["fund_name"], fund["service"]) == (
        "Council Tax (Collection Fund)",
        "Council tax annual notification",
    )
    assert (
        fund["fund"],
        fund["lgsl"],
        fund["gross_pence"],
        fund["refunds_pence"],
        fund["net_pence"],
    ) == ("council_tax", "57", "12000", "500", "11500")
    states = {r["state"]: int(r["count"]) for r in rows if r["section"] == "by_state"}
    assert states == {"created": 1, "success": 1, "partially_refunded": 1}
    # the day is asked for the GOV.UK way (day, month, year) and read as a UK day
    bad = check_html(client.get("/staff/payments/report?date-day=31&date-month=2&date-year=2026"))
    assert error_summary(bad) == ["The date must be a real date, like 24 11 2026"]
    assert bad.select_one("a[href='#date-day']") is not None
    assert bad.find("input", attrs={"name": "date-day"})["value"] == "31"
    soup = check_html(client.get("/staff/payments/report?date-day=1&date-month=1&date-year=2001"))
    assert "No money taken" in soup.get_text()
    assert "Reconciliation report for 1 January 2001" in soup.h1.get_text()


def test_phone_payment_records_the_phone_channel(bills):
    finance = make_user(bills, roles=("finance",))
    client = client_for(bills, finance)
    check_html(client.get("/staff/payments/phone"))
    token = csrf_token(client, "/staff/payments/phone")
    response = client.post(
        "/staff/payments/phone",
        data={
            "csrf_token": token,
            "bill_type": "housing_rent",
            "reference": "HR5001001",
            "amount": "50",
        },
    )
    assert any("right format" in e for e in error_summary(check_html(response)))
    response = client.post(
        "/staff/payments/phone",
        data={
            "csrf_token": token,
            "bill_type": "housing_rent",
            "reference": "HR50010016",
            "amount": "50",
        },
    )
    assert response.status_code == 302
    payment = latest_payment(bills)
    assert (payment.channel, payment.staff_id, payment.user_id, payment.lgsl) == (
        "phone",
        finance.id,
        None,
        120,
    )
    response = continue_to_gateway(client, local(response.headers["Location"]))
    response = pay_with_card(client, local(response.headers["Location"]))
    response = client.get(local(response.headers["Location"]))
    assert response.headers["Location"].endswith(f"/staff/payments/{payment.reference}/done")
    with bills.app_context():
        row = db.session.scalar(select(ServiceTransaction))
        assert (row.channel, row.staff_id, row.user_id, row.lgsl, row.lgil) == (
            "phone",
            finance.id,
            None,
            120,
            2,
        )
        assert db.session.get(Payment, payment.id).state == "success"
