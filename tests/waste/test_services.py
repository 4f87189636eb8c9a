"""Rounds, assignments, changed collections, CSV import and export and the missed-bin rule,
on the real database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.common.clock import frozen_at
from portal.common.models import Address, AuditEvent
from portal.extensions import db
from portal.waste import services
from portal.waste.models import CollectionChange, RoundAssignment, RoundNotCompleted
from tests.waste.conftest import ADDRESS, OTHER, make_round, only_rounds

# Thursday 10 December 2026, 10am UK time (GMT).
THURSDAY = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)


def audit_count(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_garden_subscription_joins_the_garden_round_from_its_start_date(bins):
    with bins.app_context():
        garden = make_round("garden", 2, "10")
        assert services.garden_round_for(ADDRESS) is None
        services.assign_address_to_round(ADDRESS, garden.id, date(2026, 12, 14), date(2027, 12, 13))
        db.session.commit()
        with frozen_at(THURSDAY):
            assert services.garden_round_for(ADDRESS) is None  # not started yet
        with frozen_at(datetime(2026, 12, 14, 9, tzinfo=UTC)):
            assert services.garden_round_for(ADDRESS).id == garden.id
        with frozen_at(datetime(2027, 12, 14, 9, tzinfo=UTC)):
            assert services.garden_round_for(ADDRESS) is None  # expired
        # A renewal from the day after the end extends the one assignment.
        services.assign_address_to_round(ADDRESS, garden.id, date(2027, 12, 14), date(2028, 12, 13))
        db.session.commit()
        rows = db.session.scalars(
            select(RoundAssignment).where(
                RoundAssignment.uprn == ADDRESS, RoundAssignment.round_id == garden.id
            )
        ).all()
        assert [(r.start_date, r.end_date) for r in rows] == [
            (date(2026, 12, 14), date(2028, 12, 13))
        ]
        assert audit_count("waste.address_assigned") == 2
        # Collections start with the subscription.
        found = services.address_collections(ADDRESS, date(2026, 12, 1), date(2026, 12, 31))
        garden_days = [ac.day for ac in found if ac.type.code == "garden"]
        assert garden_days and min(garden_days) >= date(2026, 12, 14)


def test_moving_to_another_round_of_the_same_type_ends_the_old_one(bins):
    with bins.app_context():
        monday = make_round("refuse", 0, "10")
        before = [
            a for a in services.assignments_for(ADDRESS) if a.round.collection_type.code == "refuse"
        ]
        assert len(before) == 1
        services.assign_address_to_round(ADDRESS, monday.id, date(2027, 1, 4), None)
        db.session.commit()
        refuse = sorted(
            (
                a
                for a in services.assignments_for(ADDRESS)
                if a.round.collection_type.code == "refuse"
            ),
            key=lambda a: a.id,
        )
        assert [(a.round_id, a.end_date) for a in refuse] == [
            (before[0].round_id, date(2027, 1, 3)),
            (monday.id, None),
        ]


@pytest.mark.parametrize(
    ("uprn", "start", "end", "message"),
    [
        ("999999999999", None, None, "not in the council's gazetteer"),
        ("abc", None, None, "not in the council's gazetteer"),
        (ADDRESS, date(2027, 1, 2), date(2027, 1, 1), "end date must be"),
    ],
)
def test_assignments_that_cannot_be_made_are_refused(bins, uprn, start, end, message):
    with bins.app_context():
        r = make_round("food", 1)
        with pytest.raises(services.WasteError, match=message):
            services.assign_address_to_round(uprn, r.id, start, end)


def test_bulk_assignment_by_street_postcode_and_ward(bins):
    with bins.app_context():
        r = make_round("food", 3)
        db.session.commit()
        assert services.bulk_assign(r.id, street="Abbey Road") == 25
        assert services.bulk_assign(r.id, postcode="ck1 1ab") == 12
        ward = db.session.get(Address, ADDRESS).ward
        in_ward = db.session.scalar(
            select(func.count()).select_from(Address).where(Address.ward == ward)
        )
        assert services.bulk_assign(r.id, ward=ward) == in_ward
        db.session.commit()
        served = db.session.scalar(
            select(func.count())
            .select_from(RoundAssignment)
            .where(RoundAssignment.round_id == r.id)
        )
        assert served == in_ward  # assigned again, not duplicated
        with pytest.raises(services.WasteError, match="Enter a street"):
            services.bulk_assign(r.id)
        with pytest.raises(services.WasteError, match="No addresses match"):
            services.bulk_assign(r.id, street="Nowhere Lane")
        assert audit_count("waste.bulk_assigned") == 3


def test_a_change_is_shown_everywhere_and_an_overlapping_one_is_refused(bins):
    with bins.app_context():
        tuesday = make_round("recycling", 1)
        only_rounds(ADDRESS, tuesday)
        db.session.commit()
        services.add_change(tuesday.id, date(2027, 3, 2), None, date(2027, 3, 4), "Snow")
        db.session.commit()
        with pytest.raises(services.WasteError, match="overlaps another change"):
            services.add_change(None, date(2027, 3, 1), date(2027, 3, 5), date(2027, 3, 2), "x")
        db.session.rollback()
        found = services.address_collections(ADDRESS, date(2027, 3, 1), date(2027, 3, 7))
        assert [(ac.day, ac.collection.original) for ac in found] == [
            (date(2027, 3, 4), date(2027, 3, 2))
        ]
        assert audit_count("waste.change_added") == 1
        with frozen_at(datetime(2027, 2, 20, 12, tzinfo=UTC)):
            banners = services.site_banners()
        assert (
            banners
            and "due on Tuesday 2 March are collected on Thursday 4 March (Snow)"
            in banners[0].message
        )
        services._banner_cache().clear()
        with frozen_at(datetime(2027, 1, 20, 12, tzinfo=UTC)):
            christmas_over = services.site_banners()
        assert christmas_over == []


def test_csv_import_rejects_every_bad_row_and_imports_nothing(bins):
    with bins.app_context():
        r = make_round("food", 1)
        db.session.commit()
        name = r.name
        before = db.session.scalar(select(func.count()).select_from(RoundAssignment))
    text = (
        "uprn,round,start_date,end_date\n"
        f"{ADDRESS},{name},2027-01-04,\n"
        "999999999999,Nowhere round,,\n"
        f"{OTHER},{name},4 January,\n"
        f"{OTHER},{name},2027-02-01,2027-01-01\n"
    )
    with bins.app_context():
        report = services.import_assignments_csv(text)
        assert report.imported == 0
        assert report.errors == [
            "line 3: UPRN 999999999999 is not in the gazetteer",
            "line 4: start_date must be a date like 2026-12-25",
            "line 5: end_date is before start_date",
        ]
        assert db.session.scalar(select(func.count()).select_from(RoundAssignment)) == before
        bad_round = services.import_assignments_csv(f"uprn,round\n{ADDRESS},No such round\n")
        assert bad_round.errors == ["line 2: there is no round called 'No such round'"]
        assert services.import_assignments_csv("address,day\n").errors == [
            "line 1: missing columns uprn, round"
        ]
    good = f"uprn,round,start_date,end_date\n{ADDRESS},{name},2027-01-04,\n{OTHER},{name},,\n"
    with bins.app_context():
        report = services.import_assignments_csv(good)
        assert (report.imported, report.errors) == (2, [])
        exported = services.export_assignments_csv()
        assert f"{ADDRESS},{name},2027-01-04,\r\n" in exported
        assert f"{OTHER},{name},,\r\n" in exported
        assert exported.startswith("uprn,round,start_date,end_date")
        assert audit_count("waste.assignments_imported") == 1


def test_missed_collection_window_is_the_day_and_two_working_days_after(bins):
    with bins.app_context():
        recycling = make_round("recycling", 1)  # Tuesdays
        only_rounds(ADDRESS, recycling)
        db.session.commit()
        with frozen_at(THURSDAY):
            options = services.missed_options(ADDRESS)
            assert [(o.collection.day, o.deadline) for o in options] == [
                (date(2026, 12, 8), date(2026, 12, 10))
            ]
        with frozen_at(datetime(2026, 12, 11, 9, tzinfo=UTC)):  # Friday: too late
            assert services.missed_options(ADDRESS) == []
            assert services.missed_refusals(ADDRESS) == [
                "Your recycling is collected on Tuesday; you can report it missed until the "
                "end of Thursday"
            ]
        with frozen_at(datetime(2026, 12, 7, 9, tzinfo=UTC)):  # Monday: not due yet
            assert services.missed_options(ADDRESS) == []
        # A Friday collection before a bank-holiday Monday (31 August 2026): until Wednesday.
        friday = make_round("food", 4)
        only_rounds(OTHER, friday)
        db.session.commit()
        with frozen_at(datetime(2026, 9, 1, 16, tzinfo=UTC)):
            assert [o.deadline for o in services.missed_options(OTHER)] == [date(2026, 9, 2)]


def test_a_round_not_completed_is_not_offered_for_reporting(bins):
    with bins.app_context():
        recycling = make_round("recycling", 1)
        only_rounds(ADDRESS, recycling)
        db.session.commit()
        services.mark_not_completed(recycling.id, date(2026, 12, 8), "Lorry broke down")
        services.mark_not_completed(recycling.id, date(2026, 12, 8), "twice")  # once only
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(RoundNotCompleted)) == 1
        with frozen_at(THURSDAY):
            assert services.missed_options(ADDRESS) == []
            schedule = services.schedule_for(db.session.get(Address, ADDRESS))
            assert [n.note for n in schedule.not_completed] == ["Lorry broke down"]
        assert audit_count("waste.round_not_completed") == 1


def test_an_address_with_no_round_has_no_schedule(bins):
    with bins.app_context():
        only_rounds(ADDRESS)
        db.session.commit()
        assert services.schedule_for(db.session.get(Address, ADDRESS)) is None
        assert db.session.scalar(select(func.count()).select_from(CollectionChange)) == 1
