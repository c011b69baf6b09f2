"""The hall's queue rules as the engine sees them: frozen, built once from the hall config.

The engine never reads YAML or pydantic models while it runs; `rules_from_config` copies what it
needs (service times, quotas, windows and their ordered services, priority and rejoin settings) into
plain frozen dataclasses. Opening hours stay with the config (`HallConfig.is_open`), which knows
holidays, make-up working days (调休), Saturday and extended hours (错时延时).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo

from hallq.config import HallConfig

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
    last_ticket: dt.time | None = None


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
    config: HallConfig | None = field(default=None, compare=False, repr=False)
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
        """Whether `service` takes new tickets at `moment` (hours, holidays, last-ticket time)."""
        if self.config is None:
            return True
        return self.config.is_open(moment, self.config.service(service))

    def hours_text(self, moment: dt.datetime, service: str) -> str:
        """Today's hours of a service for an error message, e.g. "08:30-12:00, 13:30-17:30"."""
        if self.config is None:
            return "00:00-24:00"
        day = self.local_day(moment)
        ranges = self.config.hours_on(day, self.config.service(service))
        return ", ".join(str(r) for r in ranges) or "休息 closed"

    def announce(self, number: str, window: str, service: str) -> str:
        """The spoken/displayed call text: ticket number, window and service names only."""
        return self.announce_template.format(number=number, window=window, service=service)


def rules_from_config(config: HallConfig) -> HallRules:
    """Copy the queue rules out of a validated hall config."""
    services = {
        s.code: ServiceRules(
            code=s.code,
            name=s.name,
            department=s.department,
            avg_service_s=s.avg_service_min * 60.0,
            daily_quota=s.daily_quota,
            per_person_daily_limit=s.per_person_daily_limit,
            last_ticket=s.last_ticket,
        )
        for s in config.services
    }
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
        config=config,
    )
