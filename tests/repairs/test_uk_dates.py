"""Repairs go by UK dates: target dates from the UK day a repair was reported, and the
"until the day before" cut-off for changing an appointment at UK midnight, in summer time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.common import clock
from portal.extensions import db
from portal.repairs import calendar, services
from portal.repairs.models import Repair
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html
from tests.repairs.conftest import add_slot, leaf

# 23:30 UTC on Wednesday 1 July 2026 is 00:30 BST on Thursday 2 July.
THURSDAY_0030_BST = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
WEDNESDAY_2330_BST = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)


def _report(world, label: str) -> Repair:  # noqa: ANN001
    repair = services.create_repair(
        services.ReportInput(world.home_id, leaf(label), "Broken", "", "email", None),
        world.tenant.id,
        [],
    )
    db.session.commit()
    return repair


def test_a_repair_reported_just_after_uk_midnight_counts_from_that_uk_day(app, world) -> None:
    with app.app_context():
        with clock.frozen_at(THURSDAY_0030_BST):
            repair = _report(world, "Blocked sink")  # urgent: 5 working days
        assert repair.priority == "urgent"
        # From Thursday 2 July (not Wednesday 1 July): Fri 3, Mon 6, Tue 7, Wed 8, Thu 9.
        assert repair.target_date == date(2026, 7, 9)
        assert calendar.target_date("urgent", WEDNESDAY_2330_BST, app.config["PORTAL"]) == date(
            2026, 7, 8
        )
        reference = repair.reference
    # The tenant sees the UK date it was reported on.
    page = check_html(client_for(app, world.tenant).get("/repairs"))
    row = next(tr for tr in page.select("tr") if reference in tr.get_text())
    assert "2 July 2026" in row.get_text() and "1 July 2026" not in row.get_text()


def test_appointment_changes_close_at_uk_midnight_before_the_day(app, world) -> None:
    with app.app_context():
        with clock.frozen_at(datetime(2026, 6, 29, 9, 0, tzinfo=UTC)):  # Monday
            repair = _report(world, "Dripping tap")
            slot = add_slot("plumbing", date(2026, 7, 2))  # Thursday
            services.book(repair, slot.id, actor_id=world.tenant.id)
            db.session.commit()
        appointment = repair.active_appointment
        # 23:30 BST on Wednesday, the day before: still the tenant's to change.
        with clock.frozen_at(WEDNESDAY_2330_BST):
            assert services.can_change(appointment)
        # 00:30 BST on Thursday, the day itself (still Wednesday in UTC): phone us.
        with clock.frozen_at(THURSDAY_0030_BST):
            assert not services.can_change(appointment)
            with pytest.raises(services.RepairsError, match="phone us to cancel it"):
                services.cancel_appointment(repair, world.tenant.id)
        db.session.rollback()
        with clock.frozen_at(WEDNESDAY_2330_BST):
            services.cancel_appointment(repair, world.tenant.id)
            db.session.commit()
        repair = db.session.scalar(select(Repair).where(Repair.id == repair.id))
        assert repair.active_appointment is None


def test_history_times_read_the_gov_uk_way_in_uk_time(app, world) -> None:
    with app.app_context():
        with clock.frozen_at(THURSDAY_0030_BST):
            reference = _report(world, "Dripping tap").reference
        with clock.frozen_at(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)):  # GMT
            repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
            services.set_status(repair, Repair.TRIAGED, world.housing.id)
            db.session.commit()
        assert services.format_moment(datetime(2026, 7, 1, 11, 0, tzinfo=UTC)) == (
            "1 July 2026, midday"
        )
        assert services.format_moment(datetime(2026, 7, 1, 15, 45, tzinfo=UTC)) == (
            "1 July 2026, 4:45pm"
        )
    for user, url in (
        (world.tenant, f"/repairs/{reference}"),
        (world.housing, f"/staff/repairs/{reference}"),
    ):
        history = [
            li.get_text() for li in check_html(client_for(app, user).get(url)).select("main ol li")
        ]
        assert any(h.startswith("2 July 2026, 12:30am") for h in history), url
        assert any(h.startswith("1 December 2026, 9am") for h in history), url
