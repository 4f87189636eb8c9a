"""The pure schedule: weekly, fortnightly and patterns of weeks across month, year and
clock-change boundaries, changed collections, and the changes that are refused."""

from __future__ import annotations

from datetime import date

import pytest

from portal.waste.schedule import (
    ChangeSpec,
    RoundSpec,
    ScheduleError,
    check_change,
    check_round,
    collections,
    original_dates,
)

TUESDAY_ROUND = RoundSpec(1, 1, "1", date(2026, 1, 6))


def days(spec, start, end, changes=()):
    return [c.day for c in collections(spec, start, end, changes)]


def test_weekly_round_crosses_a_month_boundary():
    assert days(TUESDAY_ROUND, date(2026, 1, 25), date(2026, 2, 12)) == [
        date(2026, 1, 27),
        date(2026, 2, 3),
        date(2026, 2, 10),
    ]


def test_fortnightly_round_keeps_its_weeks_across_the_new_year():
    # Week A starts Monday 5 January 2026; 2026 has 53 ISO weeks, which must not flip A and B.
    spec = RoundSpec(2, 4, "10", date(2026, 1, 5))
    assert days(spec, date(2026, 12, 14), date(2027, 1, 31)) == [
        date(2026, 12, 25),  # 50 weeks after Friday 9 January
        date(2027, 1, 8),
        date(2027, 1, 22),
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Clocks go back at 2am on Sunday 25 October 2026: Monday collections are unaffected.
        (
            date(2026, 10, 19),
            date(2026, 11, 2),
            [date(2026, 10, 19), date(2026, 10, 26), date(2026, 11, 2)],
        ),
        # Clocks go forward on Sunday 29 March 2026.
        (
            date(2026, 3, 23),
            date(2026, 4, 6),
            [date(2026, 3, 23), date(2026, 3, 30), date(2026, 4, 6)],
        ),
    ],
)
def test_clock_changes_move_no_collection(start, end, expected):
    assert days(RoundSpec(3, 0, "1", date(2026, 1, 5)), start, end) == expected


def test_a_pattern_of_weeks_repeats_from_the_first_week():
    spec = RoundSpec(4, 2, "1001", date(2026, 2, 2))  # weeks 0 and 3 of every four
    assert original_dates(spec, date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 2, 4),
        date(2026, 2, 25),
        date(2026, 3, 4),
        date(2026, 3, 25),
    ]


def test_nothing_is_collected_before_the_first_week():
    spec = RoundSpec(5, 3, "1", date(2026, 3, 5))  # a Thursday: the week of 2 March
    assert days(spec, date(2026, 2, 1), date(2026, 3, 12)) == [date(2026, 3, 5), date(2026, 3, 12)]


def test_a_change_for_every_round_moves_the_collection_and_says_why():
    change = ChangeSpec(None, date(2026, 12, 25), date(2027, 1, 1), 1, "Christmas")
    spec = RoundSpec(6, 4, "1", date(2026, 1, 5))  # Fridays
    found = collections(spec, date(2026, 12, 14), date(2027, 1, 10), [change])
    assert [(c.day, c.original, c.changed) for c in found] == [
        (date(2026, 12, 18), date(2026, 12, 18), False),
        (date(2026, 12, 26), date(2026, 12, 25), True),
        (date(2027, 1, 2), date(2027, 1, 1), True),
        (date(2027, 1, 8), date(2027, 1, 8), False),
    ]
    assert found[1].reason == "Christmas"


def test_a_change_for_one_round_leaves_the_others_alone():
    change = ChangeSpec(7, date(2026, 12, 25), date(2026, 12, 25), 2, "Snow")
    other = RoundSpec(8, 4, "1", date(2026, 1, 5))
    assert date(2026, 12, 25) in days(other, date(2026, 12, 21), date(2026, 12, 31), [change])
    mine = RoundSpec(7, 4, "1", date(2026, 1, 5))
    assert days(mine, date(2026, 12, 21), date(2026, 12, 31), [change]) == [date(2026, 12, 27)]


def test_a_collection_moved_into_or_out_of_the_window_is_counted_where_it_lands():
    change = ChangeSpec(None, date(2026, 12, 31), date(2026, 12, 31), 2, "New Year")
    spec = RoundSpec(9, 3, "1", date(2026, 1, 5))  # Thursdays
    assert days(spec, date(2026, 12, 28), date(2026, 12, 31), [change]) == []
    assert days(spec, date(2027, 1, 1), date(2027, 1, 3), [change]) == [date(2027, 1, 2)]


@pytest.mark.parametrize(
    ("weekday", "weeks", "message"),
    [
        (None, "1", "day of the week"),
        (7, "1", "day of the week"),
        (1, "", "pattern of weeks"),
        (1, "000", "pattern of weeks"),
        (1, "12", "pattern of weeks"),
    ],
)
def test_rounds_with_no_weekday_or_no_collection_weeks_are_refused(weekday, weeks, message):
    with pytest.raises(ScheduleError, match=message):
        check_round(RoundSpec(1, weekday, weeks, date(2026, 1, 5)))


def test_overlapping_changes_are_refused_clearly():
    christmas = ChangeSpec(None, date(2026, 12, 25), date(2027, 1, 1), 1, "Christmas")
    with pytest.raises(ScheduleError, match="overlaps another change from 25 December 2026"):
        check_change(ChangeSpec(3, date(2026, 12, 31), date(2026, 12, 31), 2, "Snow"), [christmas])
    one_round = ChangeSpec(3, date(2027, 2, 1), date(2027, 2, 5), 1, "Snow")
    check_change(ChangeSpec(4, date(2027, 2, 3), date(2027, 2, 3), 1, "Snow"), [one_round])
    with pytest.raises(ScheduleError, match="overlaps"):
        check_change(ChangeSpec(3, date(2027, 2, 5), date(2027, 2, 9), 1, "Snow"), [one_round])


@pytest.mark.parametrize(
    ("first", "last", "shift", "message"),
    [
        (date(2026, 12, 25), date(2026, 12, 24), 1, "same as or after"),
        (date(2026, 12, 25), date(2026, 12, 25), 0, "same as the date due"),
        (date(2026, 12, 25), date(2026, 12, 25), 15, "up to 14 days"),
    ],
)
def test_changes_that_cannot_be_made_are_refused(first, last, shift, message):
    with pytest.raises(ScheduleError, match=message):
        check_change(ChangeSpec(None, first, last, shift, "x"), [])
