"""Take-up statistics equal counts computed directly from the transaction records."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from portal.common.clock import uk_date
from portal.common.delivery import set_portal_delivery
from portal.common.models import ServiceTransaction
from portal.common.transactions import CHANNELS, SELF_SERVICE_DIGITAL
from portal.extensions import db
from portal.statistics import services as stats
from portal.statistics.catalogue import (
    SERVICES,
    channel_label,
    department_of,
    interaction_label,
    service_label,
)
from portal.statistics.models import TakeUpDaily
from tests.council_services.factories import make_service
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, error_summary

TODAY = datetime.now(UTC).date()


def _insert(app, rows: list[tuple[datetime, int | None, int, str]]) -> None:  # noqa: ANN001
    with app.app_context():
        for occurred_at, lgsl, lgil, channel in rows:
            db.session.add(
                ServiceTransaction(
                    occurred_at=occurred_at, lgsl=lgsl, lgil=lgil, channel=channel, kind="test"
                )
            )
        db.session.commit()


def _random_rows(n: int, seed: int = 9) -> list[tuple[datetime, int | None, int, str]]:
    rng = random.Random(seed)
    lgsls = [57, 141, 487, 524, 528, 533, 474, 587, 510, 9999, None]
    start = datetime.combine(TODAY - timedelta(days=200), datetime.min.time(), UTC)
    return [
        (
            start + timedelta(seconds=rng.randint(0, 200 * 86400 + 86399)),
            rng.choice(lgsls),
            rng.choice([0, 2, 3, 8]),
            rng.choice(CHANNELS),
        )
        for _ in range(n)
    ]


def _direct(app, start: date, end: date) -> list[tuple]:  # noqa: ANN001
    """(lgsl, lgil, channel, occurred_at) of records whose UK day lies in [start, end]."""
    with app.app_context():
        rows = db.session.execute(
            select(
                ServiceTransaction.lgsl,
                ServiceTransaction.lgil,
                ServiceTransaction.channel,
                ServiceTransaction.occurred_at,
            )
        ).all()
    return [r for r in rows if start <= uk_date(r.occurred_at) <= end]


def _manager(app):  # noqa: ANN001, ANN202
    return client_for(app, make_user(app, roles=("manager",)))


def test_the_rollup_equals_the_records_through_insert_update_and_delete(app):
    _insert(app, _random_rows(600))
    with app.app_context():
        db.session.execute(
            update(ServiceTransaction)
            .where(ServiceTransaction.id % 7 == 0)
            .values(channel="web", occurred_at=datetime(2026, 1, 5, 12, tzinfo=UTC))
        )
        db.session.execute(delete(ServiceTransaction).where(ServiceTransaction.id % 11 == 0))
        db.session.commit()
        direct = Counter(
            (uk_date(r.occurred_at), r.lgsl or 0, r.lgil, r.channel)
            for r in db.session.scalars(select(ServiceTransaction)).all()
        )
        rollup = {
            (r.day, r.lgsl, r.lgil, r.channel): r.transactions
            for r in db.session.scalars(select(TakeUpDaily))
            if r.transactions
        }
    assert rollup == dict(direct)


@pytest.mark.parametrize("kind", ["week", "month", "quarter"])
def test_breakdowns_equal_direct_counts(app, kind):
    _insert(app, _random_rows(1500))
    on = TODAY - timedelta(days=40)
    period = stats.period_for(kind, on)
    records = _direct(app, period.start, period.end)
    with app.test_request_context():
        result = stats.breakdown(period, stats.Filters())
        filtered = stats.breakdown(period, stats.Filters(channel="phone", lgil=8))
        dept = stats.breakdown(period, stats.Filters(department="Environment"))
    assert result.total == len(records)
    assert {r.key: r.total for r in result.channels if r.total} == dict(
        Counter(r.channel for r in records)
    )
    assert {r.key: r.total for r in result.services} == dict(Counter(r.lgsl or 0 for r in records))
    assert {r.key: r.total for r in result.interactions} == dict(Counter(r.lgil for r in records))
    assert {r.key: r.total for r in result.departments} == dict(
        Counter(department_of(r.lgsl) for r in records)
    )
    digital = sum(1 for r in records if r.channel in SELF_SERVICE_DIGITAL)
    assert result.digital == digital
    assert filtered.total == sum(1 for r in records if r.channel == "phone" and r.lgil == 8)
    assert dept.total == sum(1 for r in records if department_of(r.lgsl) == "Environment")


def test_the_dashboard_and_csv_show_the_direct_counts(app):
    _insert(app, _random_rows(800))
    client = _manager(app)
    start, end = TODAY - timedelta(days=120), TODAY - timedelta(days=10)
    query = (
        f"period=custom&from-day={start.day}&from-month={start.month}&from-year={start.year}"
        f"&to-day={end.day}&to-month={end.month}&to-year={end.year}"
    )
    records = _direct(app, start, end)
    soup = check_html(client.get(f"/staff/statistics?{query}"))
    assert soup.select_one("#stat-total").get_text(strip=True) == f"{len(records):,}"
    by_channel = Counter(r.channel for r in records)
    for row in soup.select("#table-channel tbody tr"):
        count = row.select("td")[0].get_text(strip=True).replace(",", "")
        assert int(count) == by_channel.get(row["data-channel"], 0)
    digital = sum(n for c, n in by_channel.items() if c in SELF_SERVICE_DIGITAL)
    assert soup.select_one("#stat-digital").get_text(strip=True) == (
        f"{round(100 * digital / len(records), 1)}%"
    )
    # Trend buckets add up to the period.
    trend_total = sum(
        int(tr.select("td")[0].get_text(strip=True).replace(",", ""))
        for tr in soup.select("#table-trend tbody tr")
    )
    assert trend_total == len(records)
    # Charts are server-rendered SVG with a title.
    assert soup.select_one("svg#chart-channel title")

    response = client.get(f"/staff/statistics/export.csv?{query}")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    exported = Counter()
    for row in rows:
        exported[(int(row["LGSL"] or 0), int(row["LGIL"]), row["Channel"])] += int(
            row["Transactions"]
        )
    assert exported == Counter((r.lgsl or 0, r.lgil, r.channel) for r in records)


def test_periods():
    assert stats.period_for("week", date(2026, 11, 26)) == stats.Period(
        "week", date(2026, 11, 23), date(2026, 11, 29)
    )
    assert stats.period_for("month", date(2024, 2, 10)).end == date(2024, 2, 29)
    quarter = stats.period_for("quarter", date(2026, 11, 24))
    assert (quarter.start, quarter.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter.previous().start == date(2026, 7, 1)
    assert quarter.next().start == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (
            {
                "from-day": "10",
                "from-month": "5",
                "from-year": "2026",
                "to-day": "1",
                "to-month": "5",
                "to-year": "2026",
            },
            ["The end date must be the same as or after the start date"],
        ),
        (
            {
                "from-day": "1",
                "from-month": "1",
                "from-year": "2020",
                "to-day": "1",
                "to-month": "1",
                "to-year": "2026",
            },
            ["The dates must be no more than 731 days apart (inclusive)"],
        ),
        ({}, ["Enter the start date", "Enter the end date"]),
        (
            {
                "from-day": "31",
                "from-month": "2",
                "from-year": "2026",
                "to-day": "1",
                "to-month": "",
                "to-year": "2026",
            },
            [
                "The start date must be a real date",
                "The end date must include a day, month and year",
            ],
        ),
    ],
)
def test_bad_custom_dates_get_clear_messages(app, args, messages):
    client = _manager(app)
    query = "&".join(f"{k}={v}" for k, v in {"period": "custom", **args}.items())
    response = client.get(f"/staff/statistics?{query}")
    assert response.status_code == 200
    soup = check_html(response)
    assert error_summary(soup) == messages
    assert soup.title.get_text().startswith("Error:")
    for key, value in args.items():  # answers kept
        assert soup.select_one(f"#{key}")["value"] == value
    assert client.get(f"/staff/statistics/export.csv?{query}").status_code == 400


def test_e_enabled_little_used_follows_the_filters_and_the_register(make_app):
    app = make_app(statistics_little_used_percent=40)
    now = datetime.now(UTC).replace(hour=12)
    rows = [(now, 524, 0, "web")] * 3 + [(now, 524, 0, "phone")] * 7  # 30% digital take-up
    rows += [(now, 57, 2, "web")] * 9 + [(now, 57, 2, "post")]  # 90%
    rows += [(now, 533, 0, "kiosk_assisted")] * 4  # assisted digital is not take-up: 0%
    rows += [(now, 587, 0, "phone")] * 5  # delivered, but no register interaction
    _insert(app, rows)
    with app.app_context():
        make_service("Household waste collection", 524, [{"lgil": 0}])
        make_service("Council tax", 57, [{"lgil": 2}])
        make_service("Bulky household waste collections", 528, [{"lgil": 1}])
        make_service("Recycling bags and containers", 533, [{"lgil": 0}])
        make_service("Flytipping", 587, [{"lgil": 9}])
        set_portal_delivery("form", "missed-bin", 524, 0, "Missed bin", "/forms/missed-bin")
        set_portal_delivery("payment", "council-tax", 57, 2, "Council tax", "/pay")
        set_portal_delivery("form", "bulky", 528, 1, "Bulky waste", "/forms/bulky")  # unused
        set_portal_delivery("form", "bin", 533, 0, "New bin", "/forms/bin")
        set_portal_delivery("form", "fly", 587, 0, "Fly-tipping", "/forms/fly")  # mismatch
        set_portal_delivery("form", "old", 533, 9, "Old", "/forms/old", live=False)
        db.session.commit()
    client = _manager(app)

    def little_used(query: str = "") -> tuple[list[str], list[str], str]:
        soup = check_html(client.get(f"/staff/statistics?period=week&on={now.date()}{query}"))
        flagged = [tr.th.get_text(" ", strip=True) for tr in soup.select("#table-little-used tr")]
        unused = [li.get_text(" ", strip=True) for li in soup.select("#list-unused li")]
        unmatched = soup.select_one("#little-used-unmatched")
        return flagged[1:], unused, unmatched.get_text(" ", strip=True) if unmatched else ""

    flagged, unused, unmatched = little_used()
    assert flagged == [  # lowest digital take-up first
        "Recycling bags and containers (LGSL 533)",
        "Household waste collection (LGSL 524)",
    ]
    # No transaction at all is not "little used": listed apart.
    assert unused == [
        "Bulky household waste collections (LGSL 528): booking venues, resources and courses"
    ]
    assert unmatched.startswith("1 live portal service is left out because it matches no")
    # The filters apply; a channel filter does not change a share of all channels.
    assert little_used("&service=57")[:2] == ([], [])
    assert little_used("&department=Test+department&channel=phone")[0] == flagged
    assert little_used("&interaction=1") == ([], unused, "")


def test_little_used_labels_name_the_lgsl_once():
    unknown = stats.LittleUsed(370, 0, service_label(370, {}), "Applications for service", 1, 0)
    assert unknown.label == "Service not in the A to Z (LGSL 370)"
    known = stats.LittleUsed(587, 9, "Flytipping", "Regulation", 1, 0)
    assert known.label == "Flytipping (LGSL 587)"


def test_channel_shift_uses_the_configured_unit_costs(make_app):
    app = make_app(statistics_unit_costs="face_to_face=10,phone=4,web=0.5")
    day = datetime.now(UTC).replace(hour=12)
    _insert(app, [(day, 57, 2, "web")] * 10 + [(day, 57, 2, "phone")] * 5 + [(day, 57, 2, "post")])
    with app.test_request_context():
        period = stats.period_for("week", day.date())
        result = stats.breakdown(period, stats.Filters())
        shift = stats.channel_shift(result, stats.breakdown(period.previous(), stats.Filters()))
    assert shift.cost == Decimal("25.0")  # 10×0.5 + 5×4 + post has no configured cost
    assert shift.all_face_to_face == Decimal("160")
    assert shift.saving == Decimal("135.0")
    soup = check_html(_manager(app).get(f"/staff/statistics?period=week&on={day.date()}"))
    assert soup.select_one("#shift-saving").get_text(strip=True) == "£135.00"


def test_public_summary(app):
    first_of_month = TODAY.replace(day=1)
    last_month = datetime.combine(first_of_month - timedelta(days=3), datetime.min.time(), UTC)
    this_month = datetime.combine(first_of_month, datetime.min.time(), UTC)
    _insert(app, [(last_month, 57, 2, "web")] * 3 + [(last_month, 57, 2, "phone")])
    _insert(app, [(this_month, 57, 2, "phone")] * 5)  # not a whole month yet
    soup = check_html(app.test_client().get("/performance/take-up"))
    assert soup.select_one("#take-up-digital").get_text(strip=True) == "75.0%"
    # The partial works inside any page through the template global.
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string('{% include "statistics/_public_summary.html" %}')
    assert "75.0%" in html


def test_demo_loader_is_idempotent_and_seasonal(app):
    from portal.channels.demo import load_demo_take_up

    with app.app_context():
        first = load_demo_take_up()
        total = db.session.scalar(select(func.count()).select_from(ServiceTransaction))
        assert load_demo_take_up() == ["demo take-up already loaded"]
        assert db.session.scalar(select(func.count()).select_from(ServiceTransaction)) == total
        assert first == [f"{total} take-up records over the last year"]
        assert set(db.session.scalars(select(ServiceTransaction.channel).distinct())) == set(
            CHANNELS
        )
        for lgsl in (57, 141, 487, 524, 528, 533, 474, 587, 510):
            assert lgsl in SERVICES
            assert (
                db.session.scalar(select(func.count()).where(ServiceTransaction.lgsl == lgsl)) > 0
            )
        garden = Counter(
            d.month
            for d in db.session.scalars(
                select(ServiceTransaction.occurred_at).where(ServiceTransaction.lgsl == 530)
            )
        )
        assert garden[4] > 2 * garden[10]


def test_split_range_covers_every_day_exactly_once():
    rng = random.Random(3)
    for _ in range(500):
        start = date(2025, 1, 1) + timedelta(days=rng.randint(0, 500))
        end = start + timedelta(days=rng.randint(0, 400))
        days, months = stats.split_range(start, end)
        covered = Counter()
        for low, high in days:
            for i in range((high - low).days + 1):
                covered[low + timedelta(days=i)] += 1
        if months:
            month = months[0]
            while month <= months[1]:
                day = month
                while day.month == month.month:
                    covered[day] += 1
                    day += timedelta(days=1)
                month = day
        expected = {start + timedelta(days=i): 1 for i in range((end - start).days + 1)}
        assert dict(covered) == expected, (start, end)


def test_the_monthly_rollup_equals_the_records(app):
    _insert(app, _random_rows(400, seed=4))
    with app.app_context():
        from portal.statistics.models import TakeUpMonthly

        db.session.execute(delete(ServiceTransaction).where(ServiceTransaction.id % 5 == 0))
        db.session.commit()
        direct = Counter(
            (uk_date(r.occurred_at).replace(day=1), r.lgsl or 0, r.lgil, r.channel)
            for r in db.session.scalars(select(ServiceTransaction)).all()
        )
        rollup = {
            (r.month, r.lgsl, r.lgil, r.channel): r.transactions
            for r in db.session.scalars(select(TakeUpMonthly))
            if r.transactions
        }
    assert rollup == dict(direct)


def _table(soup, caption: str) -> dict[str, dict[str, int]]:  # noqa: ANN001
    """A "by … and channel" table as {row label: {column heading: count}}."""
    table = soup.find("caption", string=caption).find_parent("table")
    headings = [th.get_text(strip=True) for th in table.select("thead th")][1:-1]
    rows = {}
    for tr in table.select("tbody tr"):
        if tr.th is None:
            continue
        cells = [int(td.get_text(strip=True).replace(",", "")) for td in tr.select("td")[:-1]]
        rows[tr.th.get_text(strip=True)] = dict(zip(headings, cells, strict=True))
    return rows


def _expected(records: list, label) -> dict[str, dict[str, int]]:  # noqa: ANN001
    """The same table computed from the records."""
    rows: dict[str, Counter] = {}
    for r in records:
        row = rows.setdefault(label(r), Counter())
        row[channel_label(r.channel)] += 1
        row["Total"] += 1
    headings = [channel_label(c) for c in CHANNELS] + ["Total"]
    return {k: {h: row.get(h, 0) for h in headings} for k, row in rows.items()}


def test_the_service_interaction_and_department_tables_follow_new_records(app):
    """Every table on the dashboard equals the records, for a custom period, filtered, and again
    after new records arrive (the rollups are kept by triggers, not rebuilt)."""
    _insert(app, _random_rows(700, seed=12))
    client = _manager(app)
    # The new records are made "now": the period ends today even if the run has passed midnight.
    start, end = TODAY - timedelta(days=150), max(TODAY, datetime.now(UTC).date())
    query = (
        f"period=custom&from-day={start.day}&from-month={start.month}&from-year={start.year}"
        f"&to-day={end.day}&to-month={end.month}&to-year={end.year}"
    )
    labels = {
        "Transactions by service and channel": lambda r: service_label(r.lgsl, SERVICES),
        "Transactions by interaction type and channel": lambda r: interaction_label(r.lgil),
        "Transactions by department and channel": lambda r: department_of(r.lgsl, SERVICES),
    }

    def check() -> list:
        records = _direct(app, start, end)
        soup = check_html(client.get(f"/staff/statistics?{query}"))
        assert soup.select_one("#stat-total").get_text(strip=True) == f"{len(records):,}"
        for caption, label in labels.items():
            assert _table(soup, caption) == _expected(records, label), caption
        for args, keep in (
            ("&interaction=8", lambda r: r.lgil == 8),
            ("&department=Environment", lambda r: department_of(r.lgsl, SERVICES) == "Environment"),
            ("&channel=kiosk_assisted", lambda r: r.channel == "kiosk_assisted"),
        ):
            wanted = sum(1 for r in records if keep(r))
            filtered = check_html(client.get(f"/staff/statistics?{query}{args}"))
            assert filtered.select_one("#stat-total").get_text(strip=True) == f"{wanted:,}", args
            exported = client.get(f"/staff/statistics/export.csv?{query}{args}")
            rows = csv.DictReader(io.StringIO(exported.get_data(as_text=True)))
            assert sum(int(row["Transactions"]) for row in rows) == wanted, args
        return records

    before = check()
    now = datetime.now(UTC)
    _insert(app, [(now, 524, 8, "kiosk_assisted")] * 4 + [(now, None, 3, "email")] * 2)
    after = check()
    assert len(after) == len(before) + 6
