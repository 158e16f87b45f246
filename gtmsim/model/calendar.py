"""Working calendars: reps work their hours, leads arrive around the clock.

Simulation time is in days from a Monday 00:00. A :class:`WorkCalendar` converts
between calendar time and working hours so that a task of two working hours
started at 16:30 on a Friday ends on Monday morning, without any SimPy event
in between.
"""

from __future__ import annotations

import math
from bisect import bisect_left

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkCalendar:
    """The same working window on the same weekdays every week.

    Parameters
    ----------
    start_hour, end_hour
        Working window within each working day, hours (0 <= start < end <= 24).
    days
        Working weekdays, as three-letter names (``"mon"`` ... ``"sun"``).
    """

    def __init__(self, start_hour: float, end_hour: float, days) -> None:
        self._start = start_hour / 24.0
        self._end = end_hour / 24.0
        self._hours = end_hour - start_hour
        self._workday = tuple(d in set(days) for d in _DAYS)
        if not any(self._workday) or self._hours <= 0:
            raise ValueError("a calendar needs at least one working day with working hours")
        # days from each weekday to the next working day after it
        self._skip = [
            next(k for k in range(1, 8) if self._workday[(dow + k) % 7]) for dow in range(7)
        ]
        self._prefix = [0.0]  # working hours in days 0..k-1 of the week
        for w in self._workday:
            self._prefix.append(self._prefix[-1] + (self._hours if w else 0.0))
        self.hours_per_week = self._prefix[-1]
        self.week_prefix = tuple(self._prefix)  # working hours before each weekday, for hot loops
        self.always_open = self._start == 0.0 and self._end == 1.0 and all(self._workday)
        # a fraction of a day below this is before the day's close (-1: not a working day)
        self._open_until = tuple(self._end if w else -1.0 for w in self._workday)

    def constants(self) -> tuple:
        """(start, end, workday, skip, open_until, always_open), for hot loops that inline
        :meth:`next_open` and :meth:`add`: the day's start and end as fractions of a day,
        whether each weekday is worked, the days from each weekday to the next working
        one, the fraction before which each weekday is open (-1 when it is not worked),
        and whether the calendar never closes.
        """
        return (
            self._start,
            self._end,
            self._workday,
            tuple(self._skip),
            self._open_until,
            self.always_open,
        )

    def is_open(self, t: float) -> bool:
        """Whether ``t`` (days) falls in working hours."""
        d = math.floor(t)
        return self._workday[d % 7] and self._start <= t - d < self._end

    def next_open(self, t: float) -> float:
        """The earliest working instant at or after ``t``."""
        if self.always_open:
            return t
        d = int(t)  # t >= 0
        frac = t - d
        dow = d % 7
        if self._workday[dow] and frac < self._end:
            return t if frac >= self._start else d + self._start
        return d + self._skip[dow] + self._start

    def worked(self, t: float) -> float:
        """Working hours in ``[0, t]``."""
        if self.always_open:
            return t * 24.0
        d = math.floor(t)
        weeks = d // 7
        dow = d - 7 * weeks
        total = weeks * self.hours_per_week + self._prefix[dow]
        if self._workday[dow]:
            start, frac = self._start, t - d
            if frac < start:
                frac = start
            if frac > self._end:
                frac = self._end
            total += (frac - start) * 24.0
        return total

    def hours_between(self, t0: float, t1: float) -> float:
        """Working hours in ``[t0, t1]`` (0 when ``t1 <= t0``)."""
        if t1 <= t0:
            return 0.0
        return self.worked(t1) - self.worked(t0)

    def at_worked(self, hours: float) -> float:
        """The earliest time by which ``hours`` working hours have passed since day 0."""
        if self.always_open:
            return hours / 24.0
        if hours <= 0:
            return self.next_open(0.0)
        weeks, rem = divmod(hours, self.hours_per_week)
        if rem == 0:  # ends exactly at the close of the week's last working day
            weeks -= 1
            rem = self.hours_per_week
        k = bisect_left(self._prefix, rem, 1) - 1  # the day of the week in which rem is reached
        return weeks * 7 + k + self._start + (rem - self._prefix[k]) / 24.0

    def add(self, t: float, hours: float) -> float:
        """When a task of ``hours`` working hours, begun as soon as possible at ``t``, ends."""
        if hours <= 0:
            return self.next_open(t)
        if self.always_open:
            return t + hours / 24.0
        d = int(t)
        end = t + hours / 24.0
        if self._workday[d % 7] and d + self._start <= t and end <= d + self._end:
            return end  # the common case: the task fits in the working day it starts in
        return self.at_worked(self.worked(t) + hours)

    @classmethod
    def from_spec(cls, spec) -> WorkCalendar:
        """Build from a :class:`gtmsim.scenario.schema.WorkHours`."""
        return cls(spec.start_hour, spec.end_hour, spec.days)
