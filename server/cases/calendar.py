"""Working days (工作日) for case deadlines: the national calendar with the hall's own overrides.

The national holidays and make-up working days (调休) come from `chinese-calendar`, which is updated
each year when the State Council publishes the next year's arrangement. The hall config's `holidays`
and `workdays` override it (local arrangements, or a year the library does not know yet). For a year
the library has no data for, only weekends and the hall's overrides count — the hall must list that
year's days in its config, and `WorkingCalendar.unknown_years` tells the operator so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import chinese_calendar


class WorkingCalendar:
    def __init__(self, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.unknown_years: set[int] = set()

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self.unknown_years.add(day.year)
            return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date by which something is due `days` working days after `start`.

        Counting starts the next day (次日起算), so a case received on Friday evening with 2 days to be
        accepted is due on Tuesday; 0 days means the same day (即办).
        """
        if days <= 0:
            return start
        day, left = start, days
        while left:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative if `end` is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count
