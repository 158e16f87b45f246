"""WorkCalendar: converting between calendar days and working hours.

Time is in days from a Monday 00:00, so day 4 is Friday and day 7 the next Monday.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtmsim.model.calendar import WorkCalendar
from gtmsim.scenario.schema import WorkHours

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def at(day: int, hour: float) -> float:
    return day + hour / 24.0


@pytest.fixture
def office() -> WorkCalendar:
    return WorkCalendar(9, 17, WEEKDAYS)


# A few differently shaped calendars for the properties.
CALENDARS = [
    WorkCalendar(9, 17, WEEKDAYS),
    WorkCalendar(8.5, 12.25, ["tue", "thu", "sat"]),
    WorkCalendar(0, 24, WEEKDAYS),
    WorkCalendar(22, 24, ["sun"]),
]


def test_rejects_calendar_without_working_time():
    with pytest.raises(ValueError):
        WorkCalendar(9, 17, [])
    with pytest.raises(ValueError):
        WorkCalendar(17, 9, WEEKDAYS)


def test_hours_per_week(office):
    assert office.hours_per_week == 40.0
    assert not office.always_open
    assert WorkCalendar(8.5, 12.25, ["tue", "thu", "sat"]).hours_per_week == pytest.approx(11.25)


def test_is_open(office):
    assert office.is_open(at(0, 9))  # Monday 09:00, opening instant
    assert office.is_open(at(2, 12))
    assert not office.is_open(at(2, 17.01))
    assert not office.is_open(at(2, 8.99))
    assert not office.is_open(at(5, 12))  # Saturday
    assert not office.is_open(at(6, 12))  # Sunday
    assert office.is_open(at(7, 10))  # next Monday


def test_next_open_inside_hours_is_identity(office):
    t = at(2, 13.25)
    assert office.next_open(t) == t
    assert office.next_open(at(0, 9)) == pytest.approx(at(0, 9))


def test_next_open_before_opening(office):
    assert office.next_open(at(1, 6)) == pytest.approx(at(1, 9))
    assert office.next_open(0.0) == pytest.approx(at(0, 9))


def test_next_open_after_closing(office):
    assert office.next_open(at(1, 17.01)) == pytest.approx(at(2, 9))
    assert office.next_open(at(1, 23.5)) == pytest.approx(at(2, 9))


def test_next_open_skips_weekend(office):
    assert office.next_open(at(4, 18)) == pytest.approx(at(7, 9))  # Friday evening
    assert office.next_open(at(5, 10)) == pytest.approx(at(7, 9))  # Saturday
    assert office.next_open(at(6, 23)) == pytest.approx(at(7, 9))  # Sunday night
    assert office.next_open(at(25, 20)) == pytest.approx(at(28, 9))  # a later Friday


def test_next_open_single_working_day_wraps_a_week():
    cal = WorkCalendar(10, 11, ["wed"])
    assert cal.next_open(at(2, 11)) == pytest.approx(at(9, 10))
    assert cal.next_open(at(3, 0)) == pytest.approx(at(9, 10))


def test_add_within_a_day(office):
    assert office.add(at(1, 10), 3) == pytest.approx(at(1, 13))
    assert office.add(at(1, 10), 7) == pytest.approx(at(1, 17))  # ends exactly at closing


def test_add_across_night(office):
    assert office.add(at(1, 16), 2) == pytest.approx(at(2, 10))
    assert office.add(at(1, 20), 2) == pytest.approx(at(2, 11))  # starts next morning


def test_add_across_weekend(office):
    # two working hours begun Friday 16:30 end Monday 10:30
    assert office.add(at(4, 16.5), 2) == pytest.approx(at(7, 10.5))
    # begun on Saturday: starts Monday 9:00
    assert office.add(at(5, 12), 2) == pytest.approx(at(7, 11))


def test_add_several_weeks(office):
    # 40 working hours are exactly one week; 85 h from Monday 9:00 end Monday 14:00 of week 3
    assert office.add(at(0, 9), 40) == pytest.approx(at(4, 17))
    assert office.add(at(0, 9), 85) == pytest.approx(at(14, 14))
    assert office.add(at(2, 15), 85) == pytest.approx(at(17, 12))


def test_add_non_positive_hours_is_next_open(office):
    assert office.add(at(4, 18), 0) == pytest.approx(at(7, 9))
    assert office.add(at(2, 12), -1) == pytest.approx(at(2, 12))


def test_worked_counts_only_working_hours(office):
    assert office.worked(0.0) == 0.0
    assert office.worked(at(0, 12)) == pytest.approx(3.0)
    assert office.worked(at(0, 20)) == pytest.approx(8.0)
    assert office.worked(at(6, 23)) == pytest.approx(40.0)
    assert office.worked(at(7, 10)) == pytest.approx(41.0)
    assert office.worked(at(21, 0)) == pytest.approx(120.0)


def test_hours_between(office):
    assert office.hours_between(at(4, 16), at(7, 10)) == pytest.approx(2.0)
    assert office.hours_between(at(0, 0), at(1, 0)) == pytest.approx(8.0)
    assert office.hours_between(at(5, 0), at(7, 0)) == 0.0  # the weekend
    assert office.hours_between(at(3, 0), at(2, 0)) == 0.0  # reversed interval
    t0, t1 = at(1, 11), at(9, 15.5)
    assert office.hours_between(t0, t1) == pytest.approx(office.worked(t1) - office.worked(t0))


def test_at_worked(office):
    assert office.at_worked(0) == pytest.approx(at(0, 9))
    assert office.at_worked(3) == pytest.approx(at(0, 12))
    assert office.at_worked(8) == pytest.approx(at(0, 17))  # end of Monday, not Tuesday 9:00
    assert office.at_worked(40) == pytest.approx(at(4, 17))  # end of Friday
    assert office.at_worked(41) == pytest.approx(at(7, 10))


def test_at_worked_skips_non_working_days():
    cal = WorkCalendar(8.5, 12.25, ["tue", "thu", "sat"])
    assert cal.at_worked(1) == pytest.approx(at(1, 9.5))
    assert cal.at_worked(4) == pytest.approx(at(3, 8.5 + 0.25))
    assert cal.at_worked(11.25 + 1) == pytest.approx(at(8, 9.5))


def test_always_open_calendar():
    cal = WorkCalendar.from_spec(WorkHours())  # defaults: 0-24, every day
    assert cal.always_open
    assert cal.hours_per_week == 168.0
    t = 5.3
    assert cal.is_open(t)
    assert cal.next_open(t) == t
    assert cal.add(t, 36) == pytest.approx(t + 1.5)
    assert cal.worked(t) == pytest.approx(t * 24)
    assert cal.hours_between(1.0, 2.5) == pytest.approx(36.0)
    assert cal.at_worked(36) == pytest.approx(1.5)


def test_from_spec():
    cal = WorkCalendar.from_spec(WorkHours(start_hour=8, end_hour=12, days=["mon", "wed"]))
    assert cal.hours_per_week == 8.0
    assert not cal.always_open
    assert cal.next_open(at(0, 13)) == pytest.approx(at(2, 8))


def test_weekdays_only_full_day_calendar_is_not_always_open():
    cal = WorkCalendar(0, 24, WEEKDAYS)
    assert not cal.always_open
    assert cal.next_open(at(4, 23.5)) == pytest.approx(at(4, 23.5))
    assert cal.next_open(at(5, 1)) == pytest.approx(at(7, 0))
    assert cal.add(at(4, 23), 2) == pytest.approx(at(7, 1))


# ------------------------------------------------------------------ properties

times = st.floats(0.0, 60.0, allow_nan=False)
hours = st.floats(0.01, 300.0, allow_nan=False)
calendars = st.sampled_from(CALENDARS)


@settings(max_examples=150)
@given(cal=calendars, t=times, h=hours)
def test_add_takes_exactly_h_working_hours(cal, t, h):
    start, end = cal.next_open(t), cal.add(t, h)
    assert start >= t
    assert end > start
    assert cal.hours_between(start, end) == pytest.approx(h, abs=1e-6)
    assert cal.hours_between(t, end) == pytest.approx(h, abs=1e-6)


@settings(max_examples=150)
@given(cal=calendars, t=times, h1=hours, h2=hours)
def test_add_is_monotone_in_hours(cal, t, h1, h2):
    lo, hi = sorted((h1, h2))
    assert cal.add(t, lo) <= cal.add(t, hi) + 1e-9


@settings(max_examples=150)
@given(cal=calendars, t=times)
def test_next_open_is_open_and_idempotent(cal, t):
    n = cal.next_open(t)
    assert n >= t
    assert n - t < 7.0
    assert cal.is_open(n) or cal.is_open(n + 1e-9)
    assert cal.next_open(n) == pytest.approx(n)
    assert cal.hours_between(t, n) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=150)
@given(cal=calendars, x=st.floats(0.001, 500.0, allow_nan=False))
def test_at_worked_inverts_worked(cal, x):
    t = cal.at_worked(x)
    assert cal.worked(t) == pytest.approx(x, abs=1e-6)
    # the earliest such time: an instant earlier, fewer hours have been worked
    assert cal.worked(t - 1e-6) < x


@settings(max_examples=150)
@given(cal=calendars, t=times)
def test_worked_then_at_worked_returns_open_times(cal, t):
    if cal.worked(t) == 0:  # nothing worked yet: at_worked(0) is the first opening
        assert cal.at_worked(0.0) == pytest.approx(cal.next_open(0.0))
        return
    back = cal.at_worked(cal.worked(t))
    assert back <= t + 1e-9
    assert cal.hours_between(back, t) == pytest.approx(0.0, abs=1e-6)
    # strictly inside working hours (not at an opening instant) the round trip is exact
    if cal.is_open(t) and cal.is_open(t - 1e-9) and cal.worked(t) > 0:
        assert back == pytest.approx(t, abs=1e-9)


@settings(max_examples=100)
@given(cal=calendars, t0=times, t1=times)
def test_hours_between_is_non_negative_and_additive(cal, t0, t1):
    lo, hi = sorted((t0, t1))
    mid = (lo + hi) / 2
    assert cal.hours_between(lo, hi) >= 0
    assert cal.hours_between(lo, hi) == pytest.approx(
        cal.hours_between(lo, mid) + cal.hours_between(mid, hi), abs=1e-6
    )
    assert cal.hours_between(lo, hi) <= (hi - lo) * 24 + 1e-6
