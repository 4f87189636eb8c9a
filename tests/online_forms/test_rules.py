"""Answer rules: allowed date ranges, UK vehicle registrations and numbers with decimals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.common.clock import frozen_at
from portal.extensions import db
from portal.online_forms.models import OnlineForm
from portal.online_forms.questions import PageResult, normalise_registration, read_answer
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, error_summary
from tests.online_forms.conftest import ADDRESS
from tests.online_forms.test_builder import post

# 1 December 2026, 10am in the UK (GMT)
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def answer_date(question: dict, day: date) -> PageResult:
    result = PageResult()
    form = MultiDict(
        {
            f"{question['id']}-day": str(day.day),
            f"{question['id']}-month": str(day.month),
            f"{question['id']}-year": str(day.year),
        }
    )
    read_answer(question, form, None, 0, result)
    return result


@pytest.mark.parametrize(
    ("rule", "days", "day", "message"),
    [
        ("past", None, date(2026, 12, 1), None),
        ("past", None, date(2020, 1, 1), None),
        ("past", None, date(2026, 12, 2), "The date of the missed collection must be today or in the past"),
        ("past_days", 14, date(2026, 11, 17), None),
        ("past_days", 14, date(2026, 11, 16), "The date of the missed collection must be within the last 14 days"),
        ("past_days", 14, date(2026, 12, 5), "The date of the missed collection must be today or in the past"),
        ("future", None, date(2020, 3, 1), "The date of the missed collection must be today or in the future"),
        ("future", None, date(2026, 12, 1), None),
        ("future_days", 30, date(2026, 12, 31), None),
        ("future_days", 30, date(2027, 1, 1), "The date of the missed collection must be within the next 30 days"),
        ("", None, date(1990, 1, 1), None),
    ],
)  # fmt: skip
def test_date_range_rules(app, rule, days, day, message):
    question = {
        "id": "d",
        "type": "date",
        "label": "When?",
        "name": "the date of the missed collection",
        "date_range": rule,
        "range_days": days,
    }
    with app.test_request_context(), frozen_at(NOW):
        result = answer_date(question, day)
    if message is None:
        assert result.errors == []
        assert result.answers["d"]["iso"] == day.isoformat()
    else:
        assert result.errors == [("d-day", message)]
        assert "iso" not in result.answers["d"]  # kept as typed, not accepted


def test_today_is_the_uk_date_not_the_utc_date(app):
    """At 00:30 on 1 July in the UK it is still 30 June in UTC: 1 July is today, not the future."""
    question = {"id": "d", "type": "date", "label": "When?", "date_range": "past"}
    with app.test_request_context(), frozen_at(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)):
        assert answer_date(question, date(2026, 7, 1)).errors == []


def test_the_demo_missed_bin_refuses_a_future_or_old_date(demo, runner_for):
    runner = runner_for("report-missed-bin")
    with frozen_at(NOW):
        url = runner.start()
        url = runner.answer(url, ADDRESS)
        url = runner.answer(url, {"bin": "recycling"})
        url = runner.answer(url, {"out_by_7": "yes"})
        future = {"missed_on-day": "2", "missed_on-month": "12", "missed_on-year": "2026"}
        soup = check_html(runner.post(url, future, expect=400))
        assert error_summary(soup) == [
            "The date of the missed collection must be today or in the past"
        ]
        assert soup.select_one("#missed_on-day")["value"] == "2"  # nothing typed is lost
        old = {"missed_on-day": "1", "missed_on-month": "11", "missed_on-year": "2026"}
        soup = check_html(runner.post(url, old, expect=400))
        assert error_summary(soup) == [
            "The date of the missed collection must be within the last 14 days"
        ]
        ok = {"missed_on-day": "30", "missed_on-month": "11", "missed_on-year": "2026"}
        assert runner.answer(url, ok).endswith("/page/more")


def test_the_demo_permit_refuses_a_start_in_the_past(demo, runner_for):
    runner = runner_for("resident-parking-permit")
    with frozen_at(NOW):
        url = runner.start()
        url = runner.answer(url, ADDRESS)
        bad = runner.post(url, {"registration": "not a reg"}, expect=400)
        assert error_summary(check_html(bad)) == [
            "Enter the vehicle's registration number in the correct format, "
            "like CK21 ABC, A123 BCD, ABC 123D or ABC 1234"
        ]
        url = runner.answer(url, {"registration": " ck21   abc "})
        with demo.app_context():
            from portal.online_forms.models import FormDraft

            draft = db.session.scalar(select(FormDraft))
            assert draft.answers["registration"] == "CK21 ABC"
        assert url.endswith("/page/proof")
        page = runner.client.get(url.replace("/page/proof", "/page/start"))
        assert page.status_code in (200, 302)
    with demo.app_context():
        form = db.session.scalar(
            select(OnlineForm).where(OnlineForm.slug == "resident-parking-permit")
        )
        question = next(
            q for p in form.live_version.definition["pages"] for q in p.get("questions", [])
            if q["id"] == "starts_on"
        )  # fmt: skip
    with demo.test_request_context(), frozen_at(NOW):
        result = answer_date(question, date(2020, 5, 1))
    assert result.errors == [("starts_on-day", "The start date must be today or in the future")]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("CK21ABC", "CK21 ABC"),
        ("ck21 abc", "CK21 ABC"),
        ("A123 BCD", "A123 BCD"),
        ("a1bcd", "A1 BCD"),
        ("ABC 123D", "ABC 123D"),
        ("abc1d", "ABC 1D"),
        ("ABC 1234", "ABC 1234"),
        ("1234 ABC", "1234 ABC"),
        ("K 1", "K 1"),
        ("CK21-ABC", "CK21 ABC"),
        ("CK21 AB", None),
        ("C", None),
        ("12345", None),
        ("CK21 ABCD", None),
        ("CK!1 ABC", None),
    ],
)
def test_vehicle_registration_formats(typed, stored):
    assert normalise_registration(typed) == stored


@pytest.mark.parametrize(
    ("decimals", "typed", "error", "stored"),
    [
        (False, "3", None, "3"),
        (False, "1,200", None, "1200"),
        (False, "2.5", "Weight must be a whole number", None),
        (False, "two", "Weight must be a whole number", None),
        (True, "2.5", None, "2.5"),
        (True, "2.50", None, "2.5"),
        (True, "10", None, "10"),
        (True, "0.75", None, "0.75"),
        (True, "2.5.1", "Weight must be a number, like 2.5", None),
        (True, "abc", "Weight must be a number, like 2.5", None),
    ],
)
def test_numbers_whole_or_with_decimals(app, decimals, typed, error, stored):
    question = {"id": "n", "type": "number", "label": "Weight", "decimals": decimals}
    result = PageResult()
    with app.test_request_context():
        read_answer(question, MultiDict({"n": typed}), None, 0, result)
    if error:
        assert result.errors == [("n", error)]
        assert result.answers["n"] == typed  # re-shown as typed
    else:
        assert result.errors == []
        assert result.answers["n"] == stored


def test_decimal_limits(app):
    question = {"id": "n", "type": "number", "label": "Weight", "decimals": True, "max": 2.5}
    result = PageResult()
    with app.test_request_context():
        read_answer(question, MultiDict({"n": "2.6"}), None, 0, result)
    assert result.errors == [("n", "Weight must be 2.5 or fewer")]


def test_builder_sets_date_range_and_decimals(demo):
    editor = make_user(demo, "ed@example.com", roles=("editor",))
    client = client_for(demo, editor)
    with demo.app_context():
        form_id = db.session.scalar(
            select(OnlineForm.id).where(OnlineForm.slug == "report-missed-bin")
        )
    base = f"/staff/forms/builder/{form_id}/pages/when/questions/missed_on"
    page = client.get(base)
    soup = check_html(page)
    assert soup.select_one("input[name=date_range][value=past_days]").has_attr("checked")
    assert soup.select_one("#range_days")["value"] == "14"
    bad = post(
        client,
        base,
        {"type": "date", "label": "When?", "date_range": "future_days", "range_days": "x"},
        expect=400,
    )
    assert error_summary(check_html(bad)) == ["Enter the number of days as a whole number, like 14"]
    post(
        client,
        base,
        {"type": "date", "label": "When?", "date_range": "future_days", "range_days": "7"},
    )
    new = post(
        client,
        f"/staff/forms/builder/{form_id}/pages/more/questions/new",
        {"type": "number", "label": "How heavy?", "decimals": "yes", "action": "save"},
    )
    assert new.status_code == 303
    with demo.app_context():
        form = db.session.get(OnlineForm, form_id)
        questions = {
            q["id"]: q
            for p in form.draft_version.definition["pages"]
            for q in p.get("questions", [])
        }
        assert questions["missed_on"]["date_range"] == "future_days"
        assert questions["missed_on"]["range_days"] == 7
        heavy = next(q for q in questions.values() if q["label"] == "How heavy?")
        assert heavy["decimals"] is True
