"""The hall's queue rules as the engine sees them: frozen plain values, built once per hall.

The engine parses nothing: `server/hall_rules.py` (`rules_from_config`) copies what it needs out of
the validated hall config (service times, quotas, windows and their ordered services, priority and
rejoin settings, and the calendar of `hours.py`: holidays, make-up working days 调休, weekday,
Saturday and extended hours 错时延时, last-ticket times) into these dataclasses. Built by hand (tests),
a hall with no calendar is open all day, every day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo

from .hours import DayHours, HallCalendar, WeekHours

PRIORITIES = ("appointment", "green", "normal")  # call order of the classes
CHANNELS = ("kiosk", "counter", "phone", "appointment")


@dataclass(frozen=True)
class ServiceRules:
    code: str
    name: str
    department: str
    avg_service_s: float
    daily_quota: int | None = None
    per_person_daily_limit: int | None = None
    last_ticket: dt.time | None = None  # no tickets from this local time on
    hours: WeekHours | None = None  # the service's own week instead of the hall's


@dataclass(frozen=True)
class WindowRules:
    id: str
    name: str
    services: tuple[str, ...]
    kind: str = "comprehensive"
    zone: str = ""


@dataclass(frozen=True)
class HallRules:
    hall_id: str
    hall_name: str
    services: Mapping[str, ServiceRules]
    windows: Mapping[str, WindowRules]
    timezone: str = "Asia/Shanghai"
    max_consecutive_priority: int = 2
    green_reasons: tuple[str, ...] = ("elderly", "disabled", "pregnant", "military")
    rejoin_within: dt.timedelta = dt.timedelta(minutes=30)
    rejoin_after_places: int = 3
    ewma_alpha: float = 0.2
    announce_template: str = "请{number}号到{window}办理"
    recent_calls: int = 10
    calendar: HallCalendar = field(default_factory=HallCalendar)
    _serving: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "services", MappingProxyType(dict(self.services)))
        object.__setattr__(self, "windows", MappingProxyType(dict(self.windows)))
        serving: dict[str, tuple[str, ...]] = {code: () for code in self.services}
        for window in self.windows.values():
            for code in window.services:
                serving[code] = serving.get(code, ()) + (window.id,)
        object.__setattr__(self, "_serving", MappingProxyType(serving))

    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_day(self, moment: dt.datetime) -> dt.date:
        """The hall's calendar day at an aware moment: numbering and quotas restart with it."""
        return moment.astimezone(self.tz()).date()

    def windows_serving(self, service: str) -> tuple[str, ...]:
        """Ids of the windows whose service list contains `service`, in config order."""
        return self._serving.get(service, ())

    def is_open(self, moment: dt.datetime, service: str) -> bool:
        """Whether `service` takes new tickets at `moment` (hours, holidays, last-ticket time).
        An unknown code gets the hall's hours."""
        rules = self.services.get(service)
        local = moment.astimezone(self.tz())
        if rules is None:
            return self.calendar.is_open(local)
        return self.calendar.is_open(local, rules.hours, rules.last_ticket)

    def hours_on(self, day: dt.date, service: str | None = None) -> DayHours:
        """A service's (or the hall's) opening ranges on a local date."""
        rules = self.services.get(service) if service is not None else None
        return self.calendar.hours_on(day, rules.hours if rules else None)

    def hours_text(self, moment: dt.datetime, service: str) -> str:
        """Today's hours of a service for an error message, e.g. "08:30-12:00, 13:30-17:30"."""
        ranges = self.hours_on(self.local_day(moment), service)
        return ", ".join(str(r) for r in ranges) or "休息 closed"

    def announce(self, number: str, window: str, service: str) -> str:
        """The spoken/displayed call text: ticket number, window and service names only."""
        return self.announce_template.format(number=number, window=window, service=service)
