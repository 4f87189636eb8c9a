"""Periods are UK days everywhere: the take-up rollups put each transaction on its UK day and
month, through inserts, updates and deletes, on SQLite and PostgreSQL (docs/bvpi157.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, update

from portal.common.clock import uk_date
from portal.common.models import ServiceTransaction
from portal.extensions import db
from portal.payments.models import Payment
from portal.statistics.models import TakeUpDaily, TakeUpMonthly
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html
from tests.payments.conftest import bills as bills  # noqa: PLC0414 (the fixture)
from tests.payments.conftest import latest_payment
from tests.payments.journey import full_sandbox_payment
from tests.statistics.test_statistics import _insert

# (moment in UTC, its UK day)
CASES = [
    (datetime(2026, 7, 1, 22, 30, tzinfo=UTC), date(2026, 7, 1)),  # 23:30 BST
    (datetime(2026, 7, 1, 23, 30, tzinfo=UTC), date(2026, 7, 2)),  # 00:30 BST the next day
    (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1)),  # and the next month
    (datetime(2026, 1, 15, 23, 30, tzinfo=UTC), date(2026, 1, 15)),  # 23:30 GMT
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), date(2026, 3, 29)),  # last minute of GMT
    (datetime(2026, 3, 28, 23, 59, tzinfo=UTC), date(2026, 3, 28)),
    (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # still BST
    (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), date(2026, 10, 25)),  # GMT again
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31)),
]


def _rollups(app) -> tuple[dict, dict]:  # noqa: ANN001
    with app.app_context():
        daily = {
            r.day: r.transactions for r in db.session.scalars(select(TakeUpDaily)) if r.transactions
        }
        monthly = {
            r.month: r.transactions
            for r in db.session.scalars(select(TakeUpMonthly))
            if r.transactions
        }
    return daily, monthly


@pytest.mark.parametrize(("moment", "uk_day"), CASES)
def test_a_transaction_lands_on_its_uk_day_and_month(app, moment, uk_day):
    assert uk_date(moment) == uk_day
    _insert(app, [(moment, 57, 2, "web")])
    daily, monthly = _rollups(app)
    assert daily == {uk_day: 1}
    assert monthly == {uk_day.replace(day=1): 1}


def test_moving_and_deleting_a_transaction_keeps_uk_days(app):
    _insert(app, [(CASES[0][0], 57, 2, "web"), (CASES[1][0], 57, 2, "phone")])
    with app.app_context():
        db.session.execute(
            update(ServiceTransaction)
            .where(ServiceTransaction.channel == "web")
            .values(occurred_at=datetime(2026, 10, 24, 23, 30, tzinfo=UTC))
        )
        db.session.commit()
    assert _rollups(app) == ({date(2026, 7, 2): 1, date(2026, 10, 25): 1},
                             {date(2026, 7, 1): 1, date(2026, 10, 1): 1})  # fmt: skip
    with app.app_context():
        db.session.execute(delete(ServiceTransaction).where(ServiceTransaction.channel == "phone"))
        db.session.commit()
    assert _rollups(app) == ({date(2026, 10, 25): 1}, {date(2026, 10, 1): 1})


def test_the_statistics_page_counts_a_summer_evening_on_its_uk_day(app):
    _insert(
        app,
        [
            (datetime(2026, 7, 1, 22, 30, tzinfo=UTC), 57, 2, "web"),  # 23:30 on 1 July
            (datetime(2026, 7, 1, 23, 30, tzinfo=UTC), 57, 2, "web"),  # 00:30 on 2 July
            (datetime(2026, 6, 30, 23, 15, tzinfo=UTC), 57, 2, "web"),  # 00:15 on 1 July
        ],
    )
    client = client_for(app, make_user(app, roles=("manager",)))
    one_day = (
        "/staff/statistics?period=custom&from-day=1&from-month=7&from-year=2026"
        "&to-day=1&to-month=7&to-year=2026"
    )
    soup = check_html(client.get(one_day))
    assert soup.select_one("#stat-total").get_text(strip=True) == "2"
    csv_text = client.get(one_day.replace("/statistics?", "/statistics/export.csv?")).text
    assert csv_text.strip().splitlines()[1].split(",")[-1] == "2"
    june = check_html(client.get("/staff/statistics?period=month&on=2026-06-01"))
    assert june.select_one("#stat-total").get_text(strip=True) == "0"


def test_the_reconciliation_report_is_for_a_uk_day(bills):
    moments = {
        "23:30 on 1 July": datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
        "00:30 on 2 July": datetime(2026, 7, 1, 23, 30, tzinfo=UTC),
    }
    for amount, moment in zip(("10.00", "20.00"), moments.values(), strict=True):
        full_sandbox_payment(bills.test_client(), amount=amount)
        with bills.app_context():
            payment = db.session.get(Payment, latest_payment(bills).id)
            payment.completed_at = moment
            db.session.commit()
    client = client_for(bills, make_user(bills, roles=("finance",)))
    for day, expected in ((1, "£10.00"), (2, "£20.00")):
        soup = check_html(
            client.get(f"/staff/payments/report?date-day={day}&date-month=7&date-year=2026")
        )
        assert "midnight to midnight UK time" in soup.select_one("#report-day").get_text()
        text = soup.get_text(" ", strip=True)
        # one payment that UK day
        row = (
            f"Council Tax (Collection Fund) Council tax annual notification (LGSL 57) 1 {expected}"
        )
        assert row in text
