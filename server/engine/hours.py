"""Opening hours and the hall's calendar as frozen plain values: what `HallRules.is_open` decides from.

The decisions are the hall config's (`hallq.config.HallConfig.is_open` / `hours_on`), made here
without pydantic so the engine parses nothing: a holiday (法定节假日) closes the hall; a make-up working
day (调休) opens it with the working-day hours whatever its weekday; any other day takes the service's
own week if it has one, else the hall's, where Saturday and extended hours (错时延时: lunch time,
evenings) are simply more ranges; a service stops issuing at its last-ticket time; a hall open around
the clock is always open. `server/hall_rules.py` builds these values from the config.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

MIDNIGHT = dt.time(0, 0)
END_OF_DAY = dt.time.max  # stands for 24:00


@dataclass(frozen=True)
class TimeRange:
    """A half-open interval of local time within one day; `end` is END_OF_DAY for "24:00"."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"时间段结束早于开始 The range {self} ends before it starts.")

    def contains(self, moment: dt.time) -> bool:
        return self.start <= moment < self.end or (self.end == END_OF_DAY and moment >= self.start)

    def __str__(self) -> str:
        end = "24:00" if self.end == END_OF_DAY else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


DayHours = tuple[TimeRange, ...]
ALL_DAY: DayHours = (TimeRange(MIDNIGHT, END_OF_DAY),)


@dataclass(frozen=True)
class WeekHours:
    """Opening ranges per weekday, Monday first (index = `date.weekday()`)."""

    days: tuple[DayHours, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"一周应有7天 A week has 7 days, not {len(self.days)}.")
        object.__setattr__(self, "days", tuple(tuple(day) for day in self.days))

    @classmethod
    def every_day(cls, hours: DayHours) -> WeekHours:
        return cls((hours,) * 7)

    def on(self, weekday: int) -> DayHours:
        return self.days[weekday]


@dataclass(frozen=True)
class HallCalendar:
    """The hall's week and its exceptions. The default is open all day, every day (last-ticket
    times still apply); `around_the_clock` ignores those too, as the config's 24-hour zone does."""

    week: WeekHours = field(default_factory=lambda: WeekHours.every_day(ALL_DAY))
    holidays: frozenset[dt.date] = frozenset()  # 法定节假日: closed
    workdays: frozenset[dt.date] = frozenset()  # 调休: open with `workday_hours`
    workday_hours: DayHours = ()
    around_the_clock: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "workday_hours", tuple(self.workday_hours))

    def hours_on(self, day: dt.date, service_week: WeekHours | None = None) -> DayHours:
        """Opening ranges on a local date: holidays, then make-up working days, then the week."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.workday_hours
        return (service_week or self.week).on(day.weekday())

    def is_open(
        self, local: dt.datetime, service_week: WeekHours | None = None, last_ticket: dt.time | None = None
    ) -> bool:
        """Whether tickets are issued at the hall-local moment `local`."""
        if self.around_the_clock:
            return True
        if last_ticket is not None and local.time() >= last_ticket:
            return False
        return any(r.contains(local.time()) for r in self.hours_on(local.date(), service_week))
