"""The BVPI 157 forecast: arithmetic, owners and target dates, audited changes, one reminder per
passed date, daily snapshots, the council's target and the return (CSV and JSON)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.common import clock
from portal.common.clock import uk_today
from portal.common.delivery import set_portal_delivery
from portal.common.models import AuditEvent, OutboxEmail
from portal.council_services import forecast as fc
from portal.council_services.jobs import daily_bvpi157_snapshot, target_reminders
from portal.council_services.models import Bvpi157Snapshot, Interaction, ServiceVersion
from portal.council_services.services import bvpi157
from portal.extensions import db
from tests.council_services.factories import make_service
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_email_text, check_html, csrf_token, error_summary, get_page


def planned(lgil: int, days: int | None, **extra: object) -> dict:
    """A counted interaction not yet e-enabled, due `days` from today (None: no date)."""
    target = None if days is None else uk_today() + timedelta(days=days)
    return {"lgil": lgil, "e_enabled": False, "target_date": target, **extra}


def enabled(lgil: int) -> dict:
    return {"lgil": lgil, "e_enabled": True, "channels": ["web"]}


def day(days: int) -> date:
    return uk_today() + timedelta(days=days)


def parts(value: date, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-day": str(value.day),
        f"{prefix}-month": str(value.month),
        f"{prefix}-year": str(value.year),
    }


def build_register() -> None:
    """Two departments: 3 of 8 counted e-enabled now; 4 planned (days 10, 40, 40, 400), 1 undated."""
    make_service(
        "Bins",
        524,
        [enabled(8), enabled(9), planned(0, 10), planned(3, 40)],
        department="Environment",
    )
    make_service(
        "Council tax",
        57,
        [
            enabled(2),
            planned(0, 40),
            planned(7, 400),
            planned(4, None),
            # left out of both counts: not permissible (with its reason) and not applicable
            {"lgil": 9, "permissible": False, "exclusion_reason": "Must sign in person"},
            {"lgil": 1, "applicable": False, "target_date": day(5)},
        ],
        department="Revenues",
    )


def test_forecast_counts_targets_due_by_each_date_over_the_same_denominator(app_ctx) -> None:
    build_register()
    figure = bvpi157()
    assert (figure.numerator, figure.denominator) == (3, 8)
    at = {d: fc.forecast_at(day(d)) for d in (0, 9, 10, 39, 40, 399, 400, 4000)}
    assert {d: p.numerator for d, p in at.items()} == {
        0: 3, 9: 3, 10: 4, 39: 4, 40: 6, 399: 6, 400: 7, 4000: 7
    }  # fmt: skip
    assert {p.denominator for p in at.values()} == {8}
    assert at[40].percent == 75.0 and at[4000].percent == 87.5  # the undated one never counts
    # the curve: today, each month end to the last target date; never falling, never above 100 %
    curve = fc.forecast_curve(until=day(500))
    assert curve[0].day == uk_today() and curve[-1].day == day(500)
    assert [p.numerator for p in curve] == sorted(p.numerator for p in curve)
    assert curve[-1].numerator == 7
    # a portal delivery e-enables a planned row: it moves from the forecast into the actual figure
    set_portal_delivery("form", "tax-appeal", 57, 0, "Appeal", "/forms/appeal")
    db.session.commit()
    assert (bvpi157().numerator, fc.forecast_at(day(40)).numerator) == (4, 6)
    assert [(s.name, i.lgil) for s, i in fc.missing_owner_or_date()] == [
        ("Bins", 0),
        ("Bins", 3),
        ("Council tax", 7),
        ("Council tax", 4),
    ]  # none has an owner yet; the undated one lacks both


def test_an_overdue_target_leaves_the_forecast_until_its_owner_sets_a_new_date(app_ctx) -> None:
    make_service("Parking", 1000, [enabled(0), planned(1, -3), planned(2, 20)], department="Roads")
    db.session.commit()
    assert (bvpi157().numerator, bvpi157().denominator) == (1, 3)
    # today the forecast is the actual figure, though one target date has passed unmet
    assert fc.forecast_at(day(0)).numerator == 1
    assert fc.forecast_at(day(20)).numerator == 2
    assert fc.forecast_curve()[0].numerator == 1
    assert [i.lgil for _, i in fc.overdue_by_department()["Roads"]] == [1]


def test_return_by_department_and_type_with_exclusions(app, app_ctx) -> None:
    build_register()
    rows = fc.return_rows([day(40)])
    figures = {
        (r["measure"], r["breakdown"], r["group"]): (r["e_enabled"], r["permissible"])
        for r in rows
        if r["row_type"] == "figure"
    }
    assert figures[("actual", "council", "Council")] == (3, 8)
    assert figures[("forecast", "council", "Council")] == (6, 8)
    assert figures[("actual", "department", "Environment")] == (2, 4)
    assert figures[("forecast", "department", "Environment")] == (4, 4)
    assert figures[("forecast", "department", "Revenues")] == (2, 4)
    assert figures[("forecast", "interaction_type", "0 Applications for service")] == (2, 2)
    assert figures[("forecast", "interaction_type", "7 Providing benefits and grants")] == (0, 1)
    # the departments and the types each add up to the council's figure
    for measure in ("actual", "forecast"):
        for breakdown in ("department", "interaction_type"):
            parts_ = [v for (m, b, _), v in figures.items() if (m, b) == (measure, breakdown)]
            assert (
                tuple(map(sum, zip(*parts_, strict=True)))
                == figures[(measure, "council", "Council")]
            )
    (exclusion,) = [r for r in rows if r["row_type"] == "exclusion"]
    assert exclusion["service"] == "Council tax" and exclusion["reason"] == "Must sign in person"
    assert exclusion["interaction_type"] == "9 Regulation"


def test_register_requires_an_owner_and_target_date_while_not_enabled(app) -> None:
    editor = make_user(app, roles=("editor",))
    officer = make_user(app, "priya@example.com", roles=("officer",), name="Priya Shah")
    with app.app_context():
        service_id = make_service("Allotments", 510).id
        set_portal_delivery("form", "allotment", 510, 1, "Book a plot", "/forms/plot")
        db.session.commit()
    client = client_for(app, editor)
    url = f"/staff/services/{service_id}/interactions"
    soup = get_page(client, "council_services_staff.interactions", service_id=service_id)
    assert soup.find("option", string="Priya Shah (priya@example.com)") is not None
    token = csrf_token(client, url)
    base: dict = {f"lgil-{n}-state": "none" for n in range(10)}
    base.update(
        {
            "csrf_token": token,
            "lgil-0-state": "applicable",
            "lgil-0-enabled": "no",
            "lgil-3-state": "applicable",
            "lgil-3-enabled": "no",
            **parts(day(90), "lgil-3-target"),
            "lgil-3-officer": "Sam Patel",
            # the portal delivers this one, so it needs neither
            "lgil-1-state": "applicable",
            "lgil-1-enabled": "no",
        }
    )
    response = client.post(url, data=base)
    assert response.status_code == 200
    soup = check_html(response)
    errors = error_summary(soup)
    assert errors == [
        "Enter the target date for applications for service, as it is not e-enabled yet",
        "Choose who owns applications for service, or enter the name and department of the "
        "officer who does",
        "Choose who owns consultation, or enter the name and department of the officer who does",
    ]
    # each message links to the field to fix, and says so beside it
    for href in ("#lgil-0-target-day", "#lgil-0-owner", "#lgil-3-officer-department"):
        assert soup.select_one(f".govuk-error-summary a[href='{href}']") is not None
        assert soup.find(id=href[1:]) is not None
    assert soup.find(id="lgil-0-owner-error") is not None
    assert soup.find("input", attrs={"name": "lgil-3-officer"})["value"] == "Sam Patel"
    with app.app_context():
        assert db.session.scalars(select(Interaction)).all() == []

    good = dict(base)
    good.update(
        {
            **parts(day(30), "lgil-0-target"),
            "lgil-0-owner": str(officer.id),
            "lgil-3-officer-department": "Parks",
            "lgil-3-officer-email": "sam.patel@example.com",
        }
    )
    assert client.post(url, data=good).status_code == 302
    with app.app_context():
        rows = {i.lgil: i for i in db.session.scalars(select(Interaction))}
        assert rows[0].owner_id == officer.id and rows[0].target_date == day(30)
        assert rows[0].owner_label == "Priya Shah" and rows[0].reminder_email == officer.email
        assert (rows[3].owner_name, rows[3].owner_department) == ("Sam Patel", "Parks")
        assert rows[3].reminder_email == "sam.patel@example.com"
        assert rows[1].owner_id is None and rows[1].target_date is None
    # a staff page lists any row still missing them: none now
    soup = get_page(client, "council_services_forecast.index")
    assert "Every interaction not yet e-enabled has an owner and a target date" in soup.get_text()


def test_rows_missing_an_owner_or_date_are_listed_for_staff(app) -> None:
    editor = make_user(app, roles=("editor",))
    with app.app_context():
        make_service("Pest control", 431, [planned(0, None), planned(9, 20)])
    soup = get_page(client_for(app, editor), "council_services_forecast.index")
    table = soup.find("caption", string=lambda s: s and "need an owner" in s).find_parent("table")
    text = table.get_text(" ", strip=True)
    assert "Test department Applications for service No owner Not set" in text
    assert f"Test department Regulation No owner {clock.govuk_date(day(20))}" in text
    link = table.find("a", href="/staff/services/1/interactions")
    assert link is not None and "set the owner and target date" in link.get_text()


def test_owner_moves_a_target_date_with_a_reason_and_it_is_audited(app) -> None:
    owner = make_user(app, "owner@example.com", roles=("officer",), name="Olu Owner")
    other = make_user(app, "other@example.com", roles=("officer",))
    with app.app_context():
        make_service("Street lighting", 263, [planned(9, 20, owner_id=owner.id)])
        interaction_id = db.session.scalar(select(Interaction.id))
    client = client_for(app, owner)
    # the owner starts at the staff dashboard and follows the links they can see
    soup = get_page(client, "staff.dashboard")
    link = soup.find("a", string=lambda s: s and "E-enablement targets" in s)
    soup = check_html(client.get(link["href"]))
    mine = soup.find("caption", string="1 target").find_parent("table")
    assert "Street lighting Regulation" in mine.get_text(" ", strip=True)
    (change,) = [a for a in mine.find_all("a") if "Change target date" in a.get_text()]
    assert change.get_text(" ", strip=True) == "Change target date for regulation, Street lighting"
    url = change["href"]
    soup = check_html(client.get(url))
    assert f"The target date is {clock.govuk_date(day(20))}" in soup.get_text(" ", strip=True)
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, **parts(day(-1), "target")})
    errors = error_summary(check_html(response))
    assert errors == [
        "The new target date must be today or in the future",
        "Enter why the target date is changing",
    ]
    response = client.post(
        url,
        data={"csrf_token": token, "reason": "Supplier delay", **parts(day(120), "target")},
    )
    assert response.status_code == 302
    soup = check_html(client.get(response.headers["Location"]))
    assert "Target date for regulation (Street lighting) changed" in soup.get_text()
    with app.app_context():
        assert db.session.get(Interaction, interaction_id).target_date == day(120)
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "bvpi157.target_date_changed")
        ).one()
        assert event.actor_email == "owner@example.com"
        assert event.details["reason"] == "Supplier delay"
        assert (event.details["from"], event.details["to"]) == (
            day(20).isoformat(),
            day(120).isoformat(),
        )
        assert db.session.scalars(select(ServiceVersion)).one().action == "interactions"
    # someone who neither owns the target nor the service may not move it
    assert client_for(app, other).get(url).status_code == 403


def test_an_owner_gets_one_reminder_when_a_target_date_passes(app) -> None:
    owner = make_user(app, "owner@example.com", roles=("officer",), name="Olu Owner")
    with app.app_context():
        make_service(
            "Street lighting",
            263,
            [
                planned(9, -1, owner_id=owner.id),  # passed yesterday
                planned(0, 0, owner_id=owner.id),  # due today: not passed yet
                # a named officer with an email address, and one without (listed, not emailed)
                planned(3, -3, owner_name="Sam Patel", owner_department="Parks",
                        owner_email="sam@example.com"),
                planned(8, -3, owner_name="Ann Other", owner_department="Parks"),
            ],
        )  # fmt: skip
        assert target_reminders.call_local() == 2
        assert target_reminders.call_local() == 0  # the second run sends nothing
        emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.to_address)).all()
        assert [e.to_address for e in emails] == ["owner@example.com", "sam@example.com"]
        assert emails[0].subject == "Target date passed: Street lighting, regulation"
        check_email_text(emails[0].body_text)
        assert "/staff/services/forecast/targets" in emails[0].body_text
        # moving the date on, and letting it pass again, sends one more
        row = db.session.scalars(select(Interaction).where(Interaction.lgil == 9)).one()
        row.target_date = day(-2)
        db.session.commit()
        assert target_reminders.call_local() == 1
        assert target_reminders.call_local() == 0
    editor = make_user(app, roles=("editor",))
    soup = get_page(client_for(app, editor), "council_services_forecast.targets")
    table = soup.find("caption", string="Parks: 2 overdue").find_parent("table")
    assert "Ann Other, Parks" in table.get_text(" ", strip=True)
    table = soup.find("caption", string="Test department: 1 overdue").find_parent("table")
    assert "Olu Owner" in table.get_text(" ", strip=True)


def test_daily_snapshot_is_taken_once_per_uk_day(app_ctx) -> None:
    build_register()
    with clock.frozen_at(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)):  # 23:30 BST on 1 July
        daily_bvpi157_snapshot.call_local()
        daily_bvpi157_snapshot.call_local()
        snap = db.session.scalars(select(Bvpi157Snapshot)).one()
        assert snap.day == date(2026, 7, 1) and (snap.numerator, snap.denominator) == (3, 8)
    with clock.frozen_at(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)):  # 00:30 BST on 2 July
        assert fc.take_daily_snapshot()[1] is True
        assert fc.take_daily_snapshot()[1] is False
        db.session.commit()
    days = db.session.scalars(select(Bvpi157Snapshot.day).order_by(Bvpi157Snapshot.day)).all()
    assert days == [date(2026, 7, 1), date(2026, 7, 2)]


def test_target_is_set_by_staff_audited_and_shown_on_the_public_page(app, client) -> None:
    editor = make_user(app, roles=("editor",))
    with app.app_context():
        build_register()
    staff = client_for(app, editor)
    url = "/staff/services/forecast"
    token = csrf_token(staff, url)
    response = staff.post(url + "/target", data={"csrf_token": token, "percent": "120"})
    errors = error_summary(check_html(response))
    assert errors == [
        "Enter the target percentage as a number from 1 to 100, like 90",
        "Enter the date the target is for",
    ]
    due = day(40)
    response = staff.post(
        url + "/target", data={"csrf_token": token, "percent": "75", **parts(due, "due")}
    )
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "bvpi157.target_set")
        ).one()
        assert event.details["after"] == f"75% by {clock.govuk_date(due)}"
    soup = get_page(client, "council_services.performance")
    text = soup.get_text(" ", strip=True)
    assert f"Our target is 75% by {clock.govuk_date(due)}" in text
    assert f"we expect 75.0% (6 of 8) by {clock.govuk_date(due)}" in text
    assert "1 interaction has no target date yet and is not in the forecast" in text
    # the chart has its title, legend and axes, and its figures are in the table
    svg = soup.find("svg", attrs={"aria-labelledby": "forecast-title forecast-desc"})
    assert svg.find("title").get_text() == "BVPI 157: actual, forecast and target"
    assert len(svg.find_all("polyline")) == 2 and svg.find("polygon") is not None
    assert [t.get_text() for t in svg.find_all("text")][:5] == ["0%", "25%", "50%", "75%", "100%"]
    legend = soup.select_one(".council-forecast-legend").get_text(" ", strip=True)
    assert "Actual figure (solid line)" in legend and "Forecast from target dates" in legend
    rows = [
        [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in soup.select("#forecast-table tbody tr")
    ]
    assert [clock.govuk_date(uk_today()), "Actual", "3", "8", "37.5%"] in rows
    assert [clock.govuk_date(due), "Forecast", "6", "8", "75.0%"] in rows
    assert [clock.govuk_date(due), "Target", "", "", "75%"] in rows


def test_return_downloads_as_csv_and_json_at_chosen_dates(app) -> None:
    editor = make_user(app, roles=("editor",))
    resident = make_user(app)
    with app.app_context():
        build_register()
    client = client_for(app, editor)
    chosen = day(40)
    response = client.get(
        "/staff/services/forecast/return", query_string={"format": "csv", **parts(chosen, "at")}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(fc.RETURN_COLUMNS)
    council = {(r["measure"], r["as_at"]): r for r in rows if r["breakdown"] == "council"}
    assert council[("forecast", chosen.isoformat())]["e_enabled"] == "6"
    assert council[("forecast", chosen.isoformat())]["percent"] == "75.0"
    assert council[("actual", uk_today().isoformat())]["percent"] == "37.5"
    assert [r["reason"] for r in rows if r["row_type"] == "exclusion"] == ["Must sign in person"]

    response = client.get(
        "/staff/services/forecast/return",
        query_string=[
            ("format", "json"),
            ("at", day(10).isoformat()),
            ("at", day(400).isoformat()),
        ],
    )
    data = json.loads(response.get_data(as_text=True))
    assert data["forecast_dates"] == [day(10).isoformat(), day(400).isoformat()]
    council = [f for f in data["figures"] if f["breakdown"] == "council"]
    assert [(f["measure"], f["e_enabled"], f["permissible"]) for f in council] == [
        ("actual", 3, 8),
        ("forecast", 4, 8),
        ("forecast", 7, 8),
    ]
    assert data["exclusions"][0]["reason"] == "Must sign in person"
    # a date that is not real is an error on the page, not a broken file
    response = client.get(
        "/staff/services/forecast/return",
        query_string={"format": "csv", "at-day": "31", "at-month": "2", "at-year": "2027"},
    )
    assert response.status_code == 200
    assert error_summary(check_html(response)) == ["The forecast date must be a real date"]
    assert client_for(app, resident).get("/staff/services/forecast/return").status_code == 403


def test_forecast_pages_pass_the_page_checks_with_demo_data(app) -> None:
    from portal.council_services.demo import load_demo_catalogue

    with app.app_context():
        load_demo_catalogue()
        load_demo_catalogue()  # a second load changes nothing
        assert fc.missing_owner_or_date() == []
        assert fc.overdue_by_department()
        assert fc.current_target().percent == 90.0
    editor = make_user(app, roles=("editor",))
    client = client_for(app, editor)
    for endpoint in ("council_services_forecast.index", "council_services_forecast.targets"):
        soup = get_page(client, endpoint)
        assert isinstance(soup, BeautifulSoup)
    soup = get_page(app.test_client(), "council_services.performance")
    assert soup.find(id="forecast") is not None
