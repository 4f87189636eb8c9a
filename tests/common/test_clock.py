"""The clock: UK calendar dates whatever the server's zone, around midnight BST and GMT."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal.common import clock
from portal.common.models import utcnow

# 23:30 UTC on 1 July is 00:30 BST on 2 July.
JUST_AFTER_MIDNIGHT_BST = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)


def test_uk_today_is_the_uk_date_just_after_midnight_bst() -> None:
    with clock.frozen_at(JUST_AFTER_MIDNIGHT_BST):
        assert utcnow().date() == date(2026, 7, 1)
        assert clock.uk_today() == date(2026, 7, 2)
        now = clock.uk_now()
        assert (now.hour, now.minute) == (0, 30)
        assert now.utcoffset() == timedelta(hours=1)


def test_in_winter_uk_time_is_utc() -> None:
    with clock.frozen_at(datetime(2026, 1, 15, 23, 30, tzinfo=UTC)):
        assert clock.uk_today() == date(2026, 1, 15)
        assert clock.uk_now().utcoffset() == timedelta(0)


def test_the_frozen_clock_is_what_stored_timestamps_read() -> None:
    with clock.frozen_at(JUST_AFTER_MIDNIGHT_BST):
        assert utcnow() == JUST_AFTER_MIDNIGHT_BST
        assert utcnow().tzinfo is not None
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_stored_datetimes_become_uk_dates() -> None:
    assert clock.uk_date(JUST_AFTER_MIDNIGHT_BST) == date(2026, 7, 2)
    # SQLite gives naive values back: they are UTC.
    assert clock.uk_date(datetime(2026, 7, 1, 23, 30)) == date(2026, 7, 2)
    assert clock.uk_date(datetime(2026, 7, 1, 22, 59)) == date(2026, 7, 1)
    assert clock.to_uk(datetime(2026, 12, 1, 9, 0)).strftime("%H:%M") == "09:00"


def test_a_uk_day_starts_at_2300_utc_in_summer_and_midnight_in_winter() -> None:
    assert clock.uk_day_start(date(2026, 7, 2)) == datetime(2026, 7, 1, 23, 0, tzinfo=UTC)
    assert clock.uk_day_start(date(2026, 12, 2)) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def test_the_clock_changes_on_the_last_sunday_of_march() -> None:
    # 01:00 UTC on 29 March 2026 the clocks go forward: 00:59 GMT, then 02:00 BST.
    with clock.frozen_at(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)):
        assert clock.uk_now().strftime("%H:%M") == "00:59"
    with clock.frozen_at(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)):
        assert clock.uk_now().strftime("%H:%M") == "02:00"
