"""Appointment booking: the target window, later dates, the race for the last place, change and
cancel rules, reminders."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.common.models import OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.repairs import calendar, services
from portal.repairs.models import Appointment, Repair, Slot
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.repairs.conftest import add_slot, leaf, working_days_ahead


def make_repair(app, user, home_id, label="Dripping tap") -> str:  # noqa: ANN001
    with app.app_context():
        repair = services.create_repair(
            services.ReportInput(home_id, leaf(label), "Broken", "", "email", None), user.id, []
        )
        db.session.commit()
        return repair.reference


def _post_book(client, reference, slot_id, later=0):  # noqa: ANN001, ANN202
    url = f"/repairs/{reference}/book"
    return client.post(
        url, data={"csrf_token": csrf_token(client, url), "slot": str(slot_id), "later": str(later)}
    )


def test_slots_respect_the_target_and_later_dates(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id, "Blocked sink")  # urgent: 5 days
    with app.app_context():
        inside = add_slot("plumbing", working_days_ahead(2)).id
        outside = add_slot("plumbing", working_days_ahead(8)).id
        other_trade = add_slot("electrical", working_days_ahead(2)).id
        db.session.commit()
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert repair.target_date == calendar.add_working_days(services.today(), 5)
    client = client_for(app, world.tenant)
    soup = check_html(client.get(f"/repairs/{reference}/book"))
    offered = {int(i["value"]) for i in soup.select("input[name=slot]")}
    assert offered == {inside}
    soup = check_html(client.get(soup.find("a", string="Show later dates")["href"]))
    offered = {int(i["value"]) for i in soup.select("input[name=slot]")}
    assert offered == {inside, outside} and other_trade not in offered


def test_booking_records_one_transaction_and_emails(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        slot_id = add_slot("plumbing", working_days_ahead(3)).id
        db.session.commit()
    client = client_for(app, world.tenant)
    response = _post_book(client, reference, slot_id)
    assert response.status_code == 302
    assert "Appointment booked" in check_html(client.get(response.location)).get_text()
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert repair.status == Repair.BOOKED
        assert db.session.get(Slot, slot_id).booked == 1
        rows = db.session.scalars(
            select(ServiceTransaction).where(ServiceTransaction.kind == "repair_booking")
        ).all()
        assert [(r.lgsl, r.lgil, r.channel) for r in rows] == [(141, 1, "web")]
        subjects = db.session.scalars(select(OutboxEmail.subject)).all()
        assert any(s.startswith("Repair appointment booked") for s in subjects)


def test_losing_the_race_explains_and_shows_next_free(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        last = add_slot("plumbing", working_days_ahead(2), capacity=1).id
        nxt = add_slot("plumbing", working_days_ahead(3), "afternoon", capacity=2)
        db.session.commit()
        next_text = services.describe_slot(nxt)
    client = client_for(app, world.tenant)
    token = csrf_token(client, f"/repairs/{reference}/book")
    with app.app_context():  # someone else takes the last place after the page was shown
        db.session.get(Slot, last).booked = 1
        db.session.commit()
    response = client.post(f"/repairs/{reference}/book", data={"csrf_token": token, "slot": last})
    soup = check_html(response)
    assert error_summary(soup) == [
        "Sorry, someone else has just booked the last place in that appointment. "
        "Choose one of the next free appointments"
    ]
    assert next_text in soup.find(id="next-free").get_text()
    with app.app_context():
        assert db.session.get(Slot, last).booked == 1
        assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_concurrent_bookings_never_overbook(app, world) -> None:
    from tests.helpers.auth import make_user
    from tests.repairs.conftest import add_tenancy

    references = []
    for i in range(12):
        user = make_user(app, f"race{i}@example.com")
        with app.app_context():
            from portal.repairs.models import Property

            home = db.session.get(Property, world.home_id)
            add_tenancy(home, f"RT-9{i:05d}", user.id, world_dob())
            db.session.commit()
        references.append(make_repair(app, user, world.home_id))
    with app.app_context():
        slot_id = add_slot("plumbing", working_days_ahead(2), capacity=3).id
        db.session.commit()
    barrier = threading.Barrier(len(references), timeout=30)
    outcomes: list[str] = []

    def attempt(reference: str) -> None:
        barrier.wait()  # every thread starts its write transaction at the same moment
        with app.app_context():
            repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
            try:
                services.book(repair, slot_id, actor_id=None)
                db.session.commit()
                outcomes.append("booked")
            except services.SlotTaken:
                db.session.rollback()
                outcomes.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in references]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["booked"] * 3 + ["full"] * 9
    with app.app_context():
        assert db.session.get(Slot, slot_id).booked == 3
        assert db.session.scalar(select(func.count(Appointment.id))) == 3


def world_dob():  # noqa: ANN201
    from datetime import date

    return date(1990, 1, 1)


def _booked(app, world, days_ahead=3) -> tuple[str, int]:  # noqa: ANN001
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        slot = add_slot("plumbing", working_days_ahead(days_ahead))
        db.session.commit()
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        services.book(repair, slot.id, actor_id=world.tenant.id)
        db.session.commit()
        return reference, slot.id


def test_change_moves_the_booking_and_frees_the_old_place(app, world) -> None:
    reference, first = _booked(app, world)
    with app.app_context():
        second = add_slot("plumbing", working_days_ahead(4)).id
        db.session.commit()
    client = client_for(app, world.tenant)
    soup = check_html(client.get(f"/repairs/{reference}/book"))
    assert soup.h1.get_text(strip=True) == "Change your appointment"
    assert first not in {int(i["value"]) for i in soup.select("input[name=slot]")}
    assert _post_book(client, reference, second).status_code == 302
    with app.app_context():
        assert db.session.get(Slot, first).booked == 0
        assert db.session.get(Slot, second).booked == 1
        statuses = db.session.scalars(select(Appointment.status).order_by(Appointment.id)).all()
        assert statuses == [Appointment.MOVED, Appointment.BOOKED]


def test_cancel_until_the_day_before(app, world, monkeypatch) -> None:
    reference, slot_id = _booked(app, world)
    with app.app_context():
        day = db.session.get(Slot, slot_id).date
    client = client_for(app, world.tenant)
    url = f"/repairs/{reference}/cancel-appointment"
    token = csrf_token(client, f"/repairs/{reference}")
    # On the day of the appointment, and on the day itself: no online change or cancel.
    monkeypatch.setattr(services, "today", lambda: day)
    soup = check_html(client.get(f"/repairs/{reference}"))
    assert not soup.find("button", string="Cancel appointment")
    refused = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert "phone us to cancel it" in check_html(refused).get_text()
    refused = client.get(f"/repairs/{reference}/book", follow_redirects=True)
    assert "can no longer be changed online" in check_html(refused).get_text()
    with app.app_context():
        assert db.session.get(Slot, slot_id).booked == 1
    # The day before: still allowed.
    monkeypatch.setattr(services, "today", lambda: day - timedelta(days=1))
    assert check_html(client.get(f"/repairs/{reference}")).find(
        "button", string="Cancel appointment"
    )
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Slot, slot_id).booked == 0
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        # Never triaged by staff, so it waits as reported again (not "triaged").
        assert repair.status == Repair.REPORTED and repair.active_appointment is None


def test_no_booking_of_a_slot_in_the_past_or_another_trade(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        past = add_slot("plumbing", services.today() - timedelta(days=2)).id
        wrong = add_slot("glazing", working_days_ahead(2)).id
        db.session.commit()
    client = client_for(app, world.tenant)
    for slot_id in (past, wrong, 999999):
        soup = check_html(_post_book(client, reference, slot_id))
        assert error_summary(soup), slot_id
    soup = check_html(_post_book(client, reference, "abc"))
    assert error_summary(soup) == ["Select an appointment"]


def test_reminders_are_sent_once_the_day_before(app, world) -> None:
    reference, slot_id = _booked(app, world)
    with app.app_context():
        day = db.session.get(Slot, slot_id).date
        assert services.send_reminders(on=day - timedelta(days=2)) == 0
        assert services.send_reminders(on=day - timedelta(days=1)) == 1
        db.session.commit()
        assert services.send_reminders(on=day - timedelta(days=1)) == 0
        subjects = db.session.scalars(select(OutboxEmail.subject)).all()
        assert sum(s.startswith("Reminder: repair appointment tomorrow") for s in subjects) == 1


def test_reminder_task_runs(app, world) -> None:
    from portal.repairs.jobs import send_appointment_reminders

    with app.app_context():
        result = send_appointment_reminders.call_local()
    assert result == 0


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2026-12-24", 1, "2026-12-29"),  # Christmas Day, a weekend and the substitute Boxing Day
        ("2027-03-25", 1, "2027-03-30"),  # Good Friday and Easter Monday
        ("2028-12-22", 2, "2028-12-28"),
        ("2025-08-22", 1, "2025-08-26"),
        ("2027-12-24", 1, "2027-12-29"),
        ("2026-11-20", 20, "2026-12-18"),  # four whole weeks
    ],
)
def test_working_days_skip_weekends_and_bank_holidays(start, days, expected) -> None:
    from datetime import date

    assert calendar.add_working_days(date.fromisoformat(start), days) == date.fromisoformat(
        expected
    )


def test_priority_targets_are_configurable(make_app) -> None:
    from datetime import UTC, datetime

    app = make_app(repairs_urgent_working_days=3)
    settings = app.config["PORTAL"]
    monday = datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert str(calendar.target_date("emergency", monday, settings)) == "2026-11-24"
    assert str(calendar.target_date("urgent", monday, settings)) == "2026-11-26"
    assert str(calendar.target_date("routine", monday, settings)) == "2026-12-21"
