"""The hall config (pydantic, from YAML) turned into the engine's frozen plain rules.

This is the one place that reads a `HallConfig` for the queue engine, so that `server/engine`
imports nothing that parses (DESIGN.md §2): the dispatcher calls `rules_from_config` once per hall
when it builds or restores the hall's engine, and hands the result to `HallEngine`. Nothing in
`server/engine` imports this module.

What is copied: per service its name, department, average service time, daily quota, per-person
limit, last-ticket time and own opening week; per window its ordered services; the priority,
rejoin and estimate settings; the announcement template; and the calendar (the hall's week,
holidays 法定节假日, make-up working days 调休 with their hours, around the clock). The decisions
`HallRules.is_open` / `hours_text` make from these are the config's own (`HallConfig.is_open`,
`hours_on`); a make-up working day without `workday_hours` gets Monday's hours, as there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from hallq import config as cfg
from server.engine.hours import DayHours, HallCalendar, TimeRange, WeekHours
from server.engine.rules import HallRules, ServiceRules, WindowRules


def rules_from_config(config: cfg.HallConfig) -> HallRules:
    """Copy the queue rules out of a validated hall config."""
    services = {s.code: _service_rules(s) for s in config.services}
    windows = {
        w.id: WindowRules(id=w.id, name=w.name, services=tuple(w.services), kind=str(w.kind), zone=w.zone)
        for w in config.windows
    }
    return HallRules(
        hall_id=config.hall.id,
        hall_name=config.hall.name,
        services=services,
        windows=windows,
        timezone=config.hall.timezone,
        max_consecutive_priority=config.priority.max_consecutive_priority,
        green_reasons=tuple(config.priority.green_reasons),
        rejoin_within=dt.timedelta(minutes=config.queue.rejoin_within_min),
        rejoin_after_places=config.queue.rejoin_after_places,
        ewma_alpha=config.queue.ewma_alpha,
        announce_template=config.hall.announce_template,
        recent_calls=config.queue.recent_calls,
        calendar=calendar_from_config(config.hall),
    )


def calendar_from_config(hall: cfg.Hall) -> HallCalendar:
    return HallCalendar(
        week=_week(hall.hours),
        holidays=frozenset(hall.holidays),
        workdays=frozenset(hall.workdays),
        workday_hours=_day(hall.workday_hours or hall.hours.mon),
        around_the_clock=hall.around_the_clock,
    )


def _service_rules(service: cfg.Service) -> ServiceRules:
    return ServiceRules(
        code=service.code,
        name=service.name,
        department=service.department,
        avg_service_s=service.avg_service_min * 60.0,
        daily_quota=service.daily_quota,
        per_person_daily_limit=service.per_person_daily_limit,
        last_ticket=service.last_ticket,
        hours=_week(service.hours) if service.hours else None,
    )


def _week(hours: cfg.WeekHours) -> WeekHours:
    return WeekHours(tuple(_day(hours.for_weekday(weekday)) for weekday in range(7)))


def _day(ranges: Iterable[cfg.TimeRange]) -> DayHours:
    return tuple(TimeRange(r.start, r.end) for r in ranges)
