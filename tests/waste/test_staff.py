"""Staff bin-day screens: rounds, changes, assignments, CSV, rounds not completed; bad input
answers with an error summary, never a 500; only officers get in."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import func, select

from portal.common.models import AuditEvent
from portal.extensions import db
from portal.waste.models import CollectionChange, Round, RoundAssignment, RoundNotCompleted
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.waste.conftest import ADDRESS

URL = "/staff/bins/"


def officer(app):
    return client_for(app, make_user(app, roles=("officer",)))


def test_only_officers_see_the_screens(bins):
    assert bins.test_client().get(URL).status_code in (302, 401)
    assert client_for(bins, make_user(bins)).get(URL).status_code == 403
    page = check_html(officer(bins).get(URL))
    assert "Bin collections" in page.h1.get_text()
    assert "Castle rubbish" in page.get_text() or page.select("table tbody tr")


def _post(client, path, data):
    data = {"csrf_token": csrf_token(client, URL), **data}
    return client.post(path, data=data)


def test_a_change_is_added_audited_and_an_overlap_is_refused_with_the_reason(bins):
    client = officer(bins)
    dates = {
        "change-from-day": "3", "change-from-month": "2", "change-from-year": "2027",
        "change-new-day": "5", "change-new-month": "2", "change-new-year": "2027",
    }  # fmt: skip
    added = _post(client, "/staff/bins/changes", {**dates, "round_id": "", "reason": "Snow"})
    assert added.status_code == 302
    refused = _post(client, "/staff/bins/changes", {**dates, "round_id": "", "reason": "Again"})
    assert refused.status_code == 400
    assert error_summary(check_html(refused))[0].startswith("This change overlaps another change")
    bad = _post(
        client,
        "/staff/bins/changes",
        {
            "change-from-day": "31",
            "change-from-month": "2",
            "change-from-year": "2027",
            "reason": "x",
        },
    )  # noqa: E501
    assert bad.status_code == 400
    assert error_summary(check_html(bad)) == [
        "Enter the first date due as a real date",
        "Enter the new collection date as a real date",
    ]
    with bins.app_context():
        assert db.session.scalar(select(func.count()).select_from(CollectionChange)) == 2
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "waste.change_added")
            )
            == 1
        )


def test_rounds_with_no_weekday_or_a_bad_pattern_are_refused(bins):
    client = officer(bins)
    with bins.app_context():
        type_id = db.session.scalar(select(Round.type_id).limit(1))
    start = {"round-start-day": "4", "round-start-month": "1", "round-start-year": "2027"}
    no_day = _post(
        client,
        "/staff/bins/rounds",
        {"name": "New", "type_id": type_id, "weekday": "", "frequency": "weekly", **start},
    )  # noqa: E501
    assert error_summary(check_html(no_day)) == ["Choose the day of the week the round collects"]
    bad_pattern = _post(
        client,
        "/staff/bins/rounds",
        {
            "name": "New",
            "type_id": type_id,
            "weekday": "2",
            "frequency": "pattern",
            "pattern": "0x0",
            **start,
        },
    )  # noqa: E501
    assert error_summary(check_html(bad_pattern))[0].startswith("Enter the pattern of weeks")
    made = _post(
        client,
        "/staff/bins/rounds",
        {
            "name": "New",
            "type_id": type_id,
            "weekday": "2",
            "frequency": "pattern",
            "pattern": "1000",
            **start,
        },
    )  # noqa: E501
    assert made.status_code == 302
    with bins.app_context():
        r = db.session.scalar(select(Round).where(Round.name == "New"))
        assert (r.weekday, r.weeks, r.start_date) == (2, "1000", date(2027, 1, 4))


def test_assign_by_street_and_import_with_bad_rows(bins):
    client = officer(bins)
    with bins.app_context():
        r = db.session.scalar(select(Round).order_by(Round.id).limit(1))
        rid, name = r.id, r.name
    done = _post(client, "/staff/bins/assign", {"assign_round_id": rid, "street": "Abbey Road"})
    assert done.status_code == 302
    nothing = _post(client, "/staff/bins/assign", {"assign_round_id": rid, "street": "Nowhere"})
    assert error_summary(check_html(nothing)) == [
        "No addresses match: check the street, postcode or ward"
    ]
    csv = f"uprn,round\n{ADDRESS},{name}\n123,{name}\n"
    token = csrf_token(client, URL)
    answer = client.post(
        "/staff/bins/assignments.csv",
        data={"csrf_token": token, "file": (io.BytesIO(csv.encode()), "rounds.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert error_summary(check_html(answer)) == [
        "Nothing was imported: 1 row was rejected",
        "line 3: UPRN 123 is not in the gazetteer",
    ]
    exported = client.get("/staff/bins/assignments.csv")
    assert exported.mimetype == "text/csv" and f"{ADDRESS},{name}," in exported.get_data(
        as_text=True
    )


def test_a_round_marked_not_completed_tells_residents(bins):
    client = officer(bins)
    with bins.app_context():
        rid = db.session.scalar(
            select(RoundAssignment.round_id).where(RoundAssignment.uprn == ADDRESS).limit(1)
        )
    assert _post(client, f"/staff/bins/rounds/{rid}/not-completed", {}).status_code == 302
    with bins.app_context():
        assert db.session.scalar(select(func.count()).select_from(RoundNotCompleted)) == 1
    page = check_html(bins.test_client().get(f"/bin-collection/{ADDRESS}"))
    assert "Collection running late" in page.get_text()
