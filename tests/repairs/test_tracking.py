"""Tracking: status history for the tenant, emails on change, "not fixed" reopens within 14 days;
linking a tenancy."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.common.models import OutboxEmail, utcnow
from portal.extensions import db
from portal.repairs import services
from portal.repairs.models import Repair, Tenancy
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.repairs.test_booking import make_repair


def _repair(app, reference):  # noqa: ANN001, ANN202
    return db.session.scalar(select(Repair).where(Repair.reference == reference))


def test_status_changes_are_shown_and_emailed(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        repair = _repair(app, reference)
        services.set_status(repair, Repair.TRIAGED, world.housing.id)
        services.add_event(repair, "Internal: check asbestos register", public=False)
        services.set_status(repair, Repair.IN_PROGRESS, world.housing.id, "Parts ordered")
        db.session.commit()
        subjects = db.session.scalars(select(OutboxEmail.subject).order_by(OutboxEmail.id)).all()
    assert subjects[1:] == [
        f"Your repair {reference}: triaged",
        f"Your repair {reference}: in progress",
    ]
    soup = check_html(client_for(app, world.tenant).get(f"/repairs/{reference}"))
    text = soup.get_text()
    assert "Status changed to in progress: Parts ordered" in text
    assert "asbestos" not in text


def test_not_fixed_reopens_within_14_days(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    client = client_for(app, world.tenant)
    assert client.get(f"/repairs/{reference}/not-fixed").status_code == 302  # not completed yet
    with app.app_context():
        services.set_status(_repair(app, reference), Repair.COMPLETED, world.housing.id)
        db.session.commit()
    url = f"/repairs/{reference}/not-fixed"
    token = csrf_token(client, url)
    soup = check_html(client.post(url, data={"csrf_token": token, "note": ""}))
    assert error_summary(soup) == ["Tell us what is still wrong"]
    response = client.post(url, data={"csrf_token": token, "note": "Still dripping"})
    assert response.status_code == 302
    with app.app_context():
        repair = _repair(app, reference)
        assert repair.status == Repair.REPORTED and repair.reopened_count == 1
        assert repair.events[-1].text == "Reopened: not fixed. Still dripping"
        subjects = db.session.scalars(select(OutboxEmail.subject)).all()
        assert f"Your repair {reference} has been reopened" in subjects


def test_not_fixed_refused_after_14_days(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        repair = _repair(app, reference)
        services.set_status(repair, Repair.COMPLETED, world.housing.id)
        repair.completed_at = utcnow() - timedelta(days=15)
        db.session.commit()
    client = client_for(app, world.tenant)
    token = csrf_token(client, "/repairs/link")
    page = check_html(client.get(f"/repairs/{reference}"))
    assert not page.find("a", string="Tell us it is not fixed")
    response = client.post(
        f"/repairs/{reference}/not-fixed", data={"csrf_token": token, "note": "x"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert _repair(app, reference).status == Repair.COMPLETED


def _link(client, **data):  # noqa: ANN001, ANN202
    data["csrf_token"] = csrf_token(client, "/repairs/link")
    return client.post("/repairs/link", data=data)


def test_link_with_reference_and_date_of_birth(app, world) -> None:
    from tests.repairs.conftest import add_home, add_tenancy

    with app.app_context():
        add_tenancy(
            add_home("100000000009", "9 Castle Street"), "RT-000009", None, date(1980, 3, 27)
        )
        db.session.commit()
    newcomer = make_user(app, "new@example.com")
    client = client_for(app, newcomer)
    soup = check_html(_link(client, method="reference", reference="RT-000009", **{
        "dob-day": "28", "dob-month": "3", "dob-year": "1980"}))  # fmt: skip
    assert error_summary(soup)[0].startswith(
        "We could not match that tenancy reference and date of birth"
    )
    soup = check_html(_link(client, method="reference", reference=""))
    assert error_summary(soup) == [
        "Enter your tenancy reference",
        "Enter your date of birth, for example 27 3 1980",
    ]
    response = _link(client, method="reference", reference="rt-000009", **{
        "dob-day": "27", "dob-month": "3", "dob-year": "1980"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(select(Tenancy.user_id).where(Tenancy.reference == "RT-000009"))
            == newcomer.id
        )
    # The tenancy cannot then be taken by someone else.
    other = client_for(app, make_user(app, "thief@example.com"))
    soup = check_html(_link(other, method="reference", reference="RT-000009", **{
        "dob-day": "27", "dob-month": "3", "dob-year": "1980"}))  # fmt: skip
    assert "already linked" in error_summary(soup)[0]


def _dob(day: str = "27") -> dict[str, str]:
    return {"dob-day": day, "dob-month": "3", "dob-year": "1980"}


@pytest.mark.parametrize("typed", ["RT100009", "rt 100009", " RT-100009 ", "rt-100-009"])
def test_tenancy_reference_is_matched_however_it_is_typed(app, world, typed) -> None:
    from tests.repairs.conftest import add_home, add_tenancy

    with app.app_context():
        add_tenancy(
            add_home("100000000009", "9 Castle Street"), "RT-100009", None, date(1980, 3, 27)
        )
        db.session.commit()
    newcomer = make_user(app, "typed@example.com")
    response = _link(client_for(app, newcomer), method="reference", reference=typed, **_dob())
    assert response.status_code == 302, typed
    with app.app_context():
        linked = db.session.scalar(select(Tenancy.user_id).where(Tenancy.reference == "RT-100009"))
        assert linked == newcomer.id


def test_wrong_reference_and_wrong_birth_date_read_the_same_and_attempts_are_limited(
    app, world
) -> None:
    from tests.repairs.conftest import add_home, add_tenancy

    with app.app_context():
        add_tenancy(
            add_home("100000000009", "9 Castle Street"), "RT-100009", None, date(1980, 3, 27)
        )
        db.session.commit()
    client = client_for(app, make_user(app, "guess@example.com"))
    wrong_reference = error_summary(
        check_html(_link(client, method="reference", reference="RT-999999", **_dob()))
    )
    wrong_birth = error_summary(
        check_html(_link(client, method="reference", reference="RT-100009", **_dob("28")))
    )
    assert wrong_reference == wrong_birth == [services.NO_MATCH]
    assert services.NO_MATCH.startswith(
        "We could not match that tenancy reference and date of birth"
    )
    for _ in range(services.LINK_ATTEMPTS - 3):
        _link(client, method="reference", reference="RT-999999", **_dob())
    _link(client, method="code", code="WRONG123")  # codes count too
    # The limit is reached: even the right details are refused, with a way forward.
    soup = check_html(_link(client, method="reference", reference="RT-100009", **_dob()))
    assert "too many times" in error_summary(soup)[0]
    assert soup.select_one("#reference")["value"] == "RT-100009"  # nothing typed is lost
    with app.app_context():
        assert (
            db.session.scalar(select(Tenancy.user_id).where(Tenancy.reference == "RT-100009"))
            is None
        )
    # Another account is not held back by this one's attempts.
    other = client_for(app, make_user(app, "rightful@example.com"))
    assert _link(other, method="reference", reference="rt100009", **_dob()).status_code == 302


def test_link_with_a_code_from_the_housing_team(app, world) -> None:
    from tests.repairs.conftest import add_home, add_tenancy

    with app.app_context():
        tenancy = add_tenancy(
            add_home("100000000010", "10 Castle St"), "RT-000010", None, date(1970, 1, 1)
        )
        code = services.issue_link_code(tenancy)
        db.session.commit()
    client = client_for(app, make_user(app, "coded@example.com"))
    soup = check_html(_link(client, method="code", code="WRONG123"))
    assert "not valid" in error_summary(soup)[0]
    assert _link(client, method="code", code=code.lower()).status_code == 302
    other = client_for(app, make_user(app, "again@example.com"))
    assert "not valid" in error_summary(check_html(_link(other, method="code", code=code)))[0]


def test_personal_data_and_my_council_rows(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    exporters = dict(app.extensions["portal_personal_data"])
    providers = {title: p for _, title, p in app.extensions["portal_my_council_sections"]}
    with app.test_request_context():
        from portal.accounts.models import User

        user = db.session.get(User, world.tenant.id)
        data = exporters["repairs"](user)
        assert data["tenancies"][0]["reference"] == "RT-000001"
        assert data["repairs"][0]["reference"] == reference
        rows = providers["Your repairs"](user)
        assert rows[0]["href"] == f"/repairs/{reference}" and rows[0]["status"] == "Reported"
        import json

        json.dumps(data)
    tiles = app.extensions["portal_staff_sections"]
    assert any(t["endpoint"] == "repairs_staff.board" and t["roles"] == ("housing",) for t in tiles)


def test_deleting_a_user_keeps_the_repair(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        from portal.accounts.models import User

        db.session.delete(db.session.get(User, world.tenant.id))
        db.session.commit()
        repair = _repair(app, reference)
        assert repair is not None and repair.user_id is None
