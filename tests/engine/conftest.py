"""A small hall and a driver with its own clock, so engine tests read like what happens at a window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from server.engine import (
    CallNext,
    Event,
    HallEngine,
    HallRules,
    IssueTicket,
    OpenWindow,
    ServiceRules,
    Ticket,
    TicketCalled,
    WindowRules,
)
from server.engine.commands import Command

# 10:00 in Shanghai on a Monday
START = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


def small_rules(**overrides: Any) -> HallRules:
    services = {
        "A": ServiceRules("A", "社保业务", "人社", avg_service_s=300, daily_quota=None, per_person_daily_limit=2),
        "B": ServiceRules("B", "医保业务", "医保", avg_service_s=600, daily_quota=5, per_person_daily_limit=None),
        "C": ServiceRules("C", "不动产登记", "自然资源", avg_service_s=900),
    }
    windows = {
        "1": WindowRules("1", "1号窗口", ("A", "B")),
        "2": WindowRules("2", "2号窗口", ("B", "A")),
        "3": WindowRules("3", "3号窗口", ("C",)),
    }
    settings: dict[str, Any] = {"rejoin_after_places": 2, "max_consecutive_priority": 2}
    settings.update(overrides)
    return HallRules(hall_id="t", hall_name="测试大厅", services=services, windows=windows, **settings)


class Driver:
    """Sends commands one second apart (unless told otherwise) with made-up ids."""

    def __init__(self, engine: HallEngine, now: dt.datetime = START) -> None:
        self.engine = engine
        self.now = now
        self.serial = 0
        self.events: list[Event] = []

    def tick(self, seconds: float = 1) -> None:
        self.now += dt.timedelta(seconds=seconds)

    def do(self, command: Command, after: float = 1) -> list[Event]:
        self.tick(after)
        events = self.engine.handle(command, self.now)
        self.events += events
        return events

    def issue(self, service: str = "A", **fields: Any) -> Ticket:
        self.serial += 1
        ticket_id = fields.pop("ticket_id", f"t{self.serial:05d}")
        self.do(IssueTicket(service=service, ticket_id=ticket_id, access=f"k{self.serial}", **fields))
        ticket = self.engine.ticket(ticket_id)
        assert ticket is not None
        return ticket

    def open(self, *windows: str) -> None:
        for window in windows:
            self.do(OpenWindow(window, clerk=f"clerk{window}"))

    def call(self, window: str) -> Ticket | None:
        called = [e for e in self.do(CallNext(window)) if isinstance(e, TicketCalled)]
        if not called:
            return None
        assert called[0].ticket_id is not None
        return self.engine.ticket(called[0].ticket_id)

    def numbers_called(self, window: str, times: int) -> list[str]:
        out = []
        for _ in range(times):
            ticket = self.call(window)
            out.append(ticket.number if ticket else "-")
        return out


@pytest.fixture
def rules() -> HallRules:
    return small_rules()


@pytest.fixture
def hall(rules: HallRules) -> Driver:
    return Driver(HallEngine(rules))
