"""The repair state machine: every action from every status, and the appointment rules with it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.repairs import lifecycle, services
from portal.repairs.models import Appointment, Repair, Slot
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token
from tests.repairs.conftest import add_slot, leaf, working_days_ahead


def _new(world) -> Repair:  # noqa: ANN001
    repair = services.create_repair(
        services.ReportInput(world.home_id, leaf("Dripping tap"), "Drips", "", "email", None),
        world.tenant.id,
        [],
    )
    db.session.flush()
    return repair


def _in_status(world, status: str, slot_id: int) -> Repair:  # noqa: ANN001
    """A repair brought to `status` along the state machine's own paths."""
    repair = _new(world)
    staff = world.housing.id
    if status == Repair.TRIAGED:
        services.set_status(repair, Repair.TRIAGED, staff)
    elif status in (Repair.BOOKED, Repair.IN_PROGRESS):
        services.book(repair, slot_id, actor_id=staff, staff_id=staff, enforce_window=False)
        if status == Repair.IN_PROGRESS:
            services.set_status(repair, Repair.IN_PROGRESS, staff)
    elif status in (Repair.COMPLETED, Repair.CANCELLED):
        services.set_status(repair, status, staff)
    db.session.flush()
    assert repair.status == status
    return repair


def _actions(world, other_slot: int) -> dict[str, Callable[[Repair], None]]:  # noqa: ANN001
    staff = world.housing.id
    return {
        lifecycle.TRIAGE: lambda r: services.set_status(r, Repair.TRIAGED, staff),
        lifecycle.BOOK: lambda r: services.book(
            r, other_slot, actor_id=staff, staff_id=staff, enforce_window=False
        ),
        lifecycle.CANCEL_APPOINTMENT: lambda r: services.cancel_appointment(r, staff, True),
        lifecycle.START: lambda r: services.set_status(r, Repair.IN_PROGRESS, staff),
        lifecycle.COMPLETE: lambda r: services.set_status(r, Repair.COMPLETED, staff),
        lifecycle.CANCEL: lambda r: services.set_status(r, Repair.CANCELLED, staff),
        lifecycle.WITHDRAW: lambda r: services.withdraw(r, "", world.tenant.id),
        lifecycle.REOPEN: lambda r: services.reopen(r, "Still dripping", world.tenant.id),
    }


def _places_held() -> tuple[int, int]:
    """Places counted in slots, and live appointments: always the same number."""
    booked = db.session.scalar(select(func.coalesce(func.sum(Slot.booked), 0)))
    live = db.session.scalar(select(func.count()).where(Appointment.status == Appointment.BOOKED))
    return booked, live


def test_every_action_from_every_status(app, world) -> None:
    with app.app_context():
        first = add_slot("plumbing", working_days_ahead(3), capacity=100).id
        second = add_slot("plumbing", working_days_ahead(4), capacity=100).id
        db.session.commit()
        actions = _actions(world, second)
        checked = 0
        for status in Repair.STATUSES:
            for action in lifecycle.ACTIONS:
                case = f"{action} from {status}"
                repair = _in_status(world, status, first)
                before = _places_held()
                expected = lifecycle.TRANSITIONS.get((action, status))
                if expected is None:
                    with pytest.raises(services.RepairsError) as refused:
                        actions[action](repair)
                    assert str(refused.value).startswith("This repair is "), case
                    assert repair.status == status and _places_held() == before, case
                else:
                    actions[action](repair)
                    db.session.flush()
                    if expected == lifecycle.AWAITING:
                        expected = Repair.REPORTED  # never triaged by staff
                    assert repair.status == expected, case
                    # Booked means a live appointment; waiting or ended means none.
                    if repair.status == Repair.BOOKED:
                        assert repair.active_appointment is not None, case
                    elif repair.status != Repair.IN_PROGRESS:
                        assert repair.active_appointment is None, case
                booked, live = _places_held()
                assert booked == live, case
                checked += 1
                db.session.rollback()
        assert checked == len(Repair.STATUSES) * len(lifecycle.ACTIONS)
        # The table only moves between real statuses (or back to where it waited).
        assert set(lifecycle.TRANSITIONS.values()) <= {*Repair.STATUSES, lifecycle.AWAITING}


def test_cancelling_the_appointment_goes_back_to_where_the_repair_waited(app, world) -> None:
    with app.app_context():
        slot = add_slot("plumbing", working_days_ahead(3)).id
        repair = _in_status(world, Repair.TRIAGED, slot)
        services.book(repair, slot, actor_id=world.tenant.id)
        services.cancel_appointment(repair, world.tenant.id)
        assert repair.status == Repair.TRIAGED
        untriaged = _in_status(world, Repair.BOOKED, slot)
        services.cancel_appointment(untriaged, world.tenant.id)
        assert untriaged.status == Repair.REPORTED
        assert db.session.scalar(select(Slot.booked).where(Slot.id == slot)) == 0


@pytest.mark.parametrize("status", [Repair.COMPLETED, Repair.CANCELLED])
def test_ending_a_repair_releases_a_future_appointment(app, world, status) -> None:
    with app.app_context():
        slot = add_slot("plumbing", working_days_ahead(3)).id
        reference = _in_status(world, Repair.BOOKED, slot).reference
        db.session.commit()
    client = client_for(app, world.housing)
    url = f"/staff/repairs/{reference}/status"
    response = client.post(url, data={"csrf_token": csrf_token(client, url[:-7]), "status": status})
    assert response.status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert repair.status == status and repair.active_appointment is None
        assert repair.appointments[0].status == Appointment.CANCELLED
        assert db.session.get(Slot, slot).booked == 0
    # The tenant is no longer offered to change or cancel an appointment that is gone.
    page = check_html(client_for(app, world.tenant).get(f"/repairs/{reference}"))
    assert not page.find("a", string="Change appointment")
    assert not page.find("button", string="Cancel appointment")
    assert "Appointment:" not in page.get_text()


def test_completing_on_the_day_counts_the_visit_and_not_fixed_needs_a_new_one(
    app, world, monkeypatch
) -> None:
    with app.app_context():
        day = working_days_ahead(3)
        slot = add_slot("plumbing", day).id
        reference = _in_status(world, Repair.BOOKED, slot).reference
        db.session.commit()
    monkeypatch.setattr(services, "today", lambda: day)
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        services.set_status(repair, Repair.COMPLETED, world.housing.id)
        db.session.commit()
        assert repair.appointments[0].status == Appointment.ATTENDED
        assert db.session.get(Slot, slot).booked == 1  # the place was used
    client = client_for(app, world.tenant)
    url = f"/repairs/{reference}/not-fixed"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "note": "Drips"})
    assert response.status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert repair.status == Repair.REPORTED and repair.active_appointment is None
    page = check_html(client.get(f"/repairs/{reference}"))
    assert page.find("a", string="Book an appointment")
    assert not page.find("a", string="Change appointment")


def test_staff_see_only_allowed_moves_and_refusals_are_explained(app, world) -> None:
    with app.app_context():
        slot = add_slot("plumbing", working_days_ahead(3)).id
        reported = _in_status(world, Repair.REPORTED, slot).reference
        cancelled = _in_status(world, Repair.CANCELLED, slot).reference
        db.session.commit()
    client = client_for(app, world.housing)
    soup = check_html(client.get(f"/staff/repairs/{reported}"))
    offered = [o["value"] for o in soup.select("#status option")]
    assert offered == [Repair.TRIAGED, Repair.IN_PROGRESS, Repair.COMPLETED, Repair.CANCELLED]
    soup = check_html(client.get(f"/staff/repairs/{cancelled}"))
    assert not soup.select("#status") and soup.find(id="status-closed")
    assert not soup.find("button", string="Book appointment")
    token = csrf_token(client, f"/staff/repairs/{cancelled}")
    for status in (*Repair.STATUSES, "nonsense"):
        response = client.post(
            f"/staff/repairs/{cancelled}/status",
            data={"csrf_token": token, "status": status},
            follow_redirects=True,
        )
        assert response.status_code == 200, status
        text = check_html(response).get_text().lower()
        assert "cannot" in text or "choose" in text, status
    booked = client.post(
        f"/staff/repairs/{cancelled}/book",
        data={"csrf_token": token, "slot": str(slot)},
        follow_redirects=True,
    )
    assert "This repair is cancelled, so an appointment cannot be booked" in booked.text
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == cancelled))
        assert repair.status == Repair.CANCELLED and db.session.get(Slot, slot).booked == 0


def test_tenant_cannot_cancel_or_book_an_ended_repair(app, world) -> None:
    with app.app_context():
        slot = add_slot("plumbing", working_days_ahead(3)).id
        reference = _in_status(world, Repair.COMPLETED, slot).reference
        db.session.commit()
    client = client_for(app, world.tenant)
    token = csrf_token(client, "/repairs/link")
    response = client.post(
        f"/repairs/{reference}/cancel-appointment",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "This repair is completed, so there is no appointment to cancel" in response.text
    response = client.post(
        f"/repairs/{reference}/book", data={"csrf_token": token, "slot": str(slot)}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Slot, slot).booked == 0


def test_tenant_cancels_a_repair_they_no_longer_need(app, world, monkeypatch) -> None:
    with app.app_context():
        day = working_days_ahead(3)
        slot = add_slot("plumbing", day).id
        reference = _in_status(world, Repair.BOOKED, slot).reference
        started = _in_status(world, Repair.IN_PROGRESS, slot).reference
        db.session.commit()
    client = client_for(app, world.tenant)
    page = check_html(client.get(f"/repairs/{started}"))
    assert not page.find("a", string="Cancel this repair")  # work has started: phone
    assert client.get(f"/repairs/{started}/cancel").status_code == 302
    # On the day of the appointment: phone, not online.
    monkeypatch.setattr(services, "today", lambda: day)
    refused = client.get(f"/repairs/{reference}/cancel", follow_redirects=True)
    assert "can no longer be cancelled online" in refused.text
    monkeypatch.undo()
    page = check_html(client.get(f"/repairs/{reference}"))
    url = page.find("a", string="Cancel this repair")["href"]
    form = check_html(client.get(url))
    assert "will be cancelled too" in form.get_text()
    token = csrf_token(client, url)
    too_long = check_html(client.post(url, data={"csrf_token": token, "reason": "x" * 501}))
    assert "500 characters or fewer" in too_long.find(class_="govuk-error-summary").get_text()
    response = client.post(url, data={"csrf_token": token, "reason": "Fixed it myself"})
    assert response.status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert repair.status == Repair.CANCELLED and repair.active_appointment is None
        assert repair.events[-1].text == "Cancelled by the tenant: Fixed it myself"
        assert db.session.scalar(select(Slot.booked).where(Slot.id == slot)) == 1  # the other
    # Another tenant cannot, and the cancelled repair offers nothing more.
    other = client_for(app, world.other_tenant)
    assert other.get(f"/repairs/{started}/cancel").status_code == 404
    page = check_html(client.get(f"/repairs/{reference}"))
    assert not page.find("a", string="Cancel this repair")
    assert not page.find("a", string="Book an appointment")
