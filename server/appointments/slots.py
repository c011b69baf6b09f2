"""Which slots a service offers on a day, and how many places each has. Pure: no I/O.

The day's hours are the hall's (its week, or the service's own week): a holiday closes it and a
make-up working day (调休) opens it with the working-day hours, from the hall config first and then
from `chinese-calendar` (the national arrangement, as the cases' working days use it) for the days
the config does not list. Touching ranges (08:30-12:00, 12:00-13:30 of 错时延时) count as one; each
is cut into `slot_min` slots from its start, a slot must end inside it and start before the
service's last-ticket time. A hall open around the clock offers the whole day, its last-ticket times
ignored as the queue ignores them there.

A slot's capacity is the share of the serving windows' time kept for bookings, in citizens:
`share × window-equivalents × slot_min ÷ avg_service_min` places a slot, where a window serving n
services gives each 1/n of its time; the fractions add up over the day, so the k-th slot has
`floor(k × places) − floor((k−1) × places)` places (1.125 a slot: 1, 1, 1, 1, 1, 1, 1, 2, …).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import chinese_calendar

from hallq.config import HallConfig, Service

EPSILON = 1e-9


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # aware, in the hall's zone
    end: dt.datetime
    capacity: int


def national_day_kind(day: dt.date) -> str | None:
    """'holiday' or 'workday' (调休 on a weekend) by the national calendar; None when ordinary or unknown."""
    try:
        holiday = chinese_calendar.is_holiday(day)
    except NotImplementedError:  # a year the library has no data for: the hall config decides alone
        return None
    if holiday and day.weekday() < 5:
        return "holiday"
    if not holiday and day.weekday() >= 5:
        return "workday"
    return None


def day_ranges(config: HallConfig, service: Service, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    """The service's opening ranges on a local day, holidays and 调休 applied, touching ranges merged."""
    hall = config.hall
    if hall.around_the_clock:  # a 24-hour zone (the demo): the whole day, holidays too
        return [(dt.time(0, 0), dt.time.max)]
    listed = day in hall.holidays or day in hall.workdays
    kind = None if listed else national_day_kind(day)
    if kind == "holiday":
        return []
    ranges = list(hall.workday_hours or hall.hours.mon) if kind == "workday" else config.hours_on(day, service)
    merged: list[tuple[dt.time, dt.time]] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if merged and r.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], r.end))
        else:
            merged.append((r.start, r.end))
    return merged


def window_equivalents(config: HallConfig, code: str) -> float:
    """The serving windows' time for this service, a window shared by n services counting 1/n."""
    return sum(1 / len(w.services) for w in config.windows if code in w.services)


def places_per_slot(config: HallConfig, service: Service) -> float:
    """Citizens the kept share of the serving windows' time serves in one slot (a fraction is kept)."""
    rules = config.appointments
    return rules.share * window_equivalents(config, service.code) * rules.slot_min / service.avg_service_min


def _allotted(per_slot: float, index: int) -> int:
    """The places of the day's `index`-th slot: whole places as the fractions add up over the day, so a
    service of 0.4 places a slot gets one in every second or third slot, not none at all."""
    return math.floor((index + 1) * per_slot + EPSILON) - math.floor(index * per_slot + EPSILON)


def slots_on(config: HallConfig, service: Service, day: dt.date) -> list[Slot]:
    """Every slot of the service on a local day (an empty list on a closed day or with bookings off)."""
    if not config.appointments.enabled:
        return []
    zone = config.hall.tz()
    length = dt.timedelta(minutes=config.appointments.slot_min)
    per_slot = places_per_slot(config, service)
    last = None if config.hall.around_the_clock else service.last_ticket  # as the queue decides
    found: list[Slot] = []
    for opens, closes in day_ranges(config, service, day):
        start = dt.datetime.combine(day, opens, zone)
        until = dt.datetime.combine(day, closes, zone) if closes != dt.time.max else _next_midnight(day, zone)
        while start + length <= until:
            if last is None or start.time() < last:
                found.append(Slot(start, start + length, _allotted(per_slot, len(found))))
            start += length
    return found


def _next_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)


def find_slot(config: HallConfig, service: Service, start: dt.datetime) -> Slot | None:
    """The slot that starts at this moment, or None."""
    local = start.astimezone(config.hall.tz())
    return next((s for s in slots_on(config, service, local.date()) if s.start == local), None)
