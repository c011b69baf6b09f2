from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk.api import DispatcherClient
from kiosk.devices import SimPrinter
from kiosk.presenter import KioskOptions, KioskPresenter
from kiosk.speech import RecordingSpeaker
from tests.kiosk.fakes import FakeDispatcher, InlineTasks

TODAY = dt.date(2026, 1, 5)


class Harness:
    def __init__(self) -> None:
        self.dispatcher = FakeDispatcher()
        self.client = DispatcherClient(
            "http://dispatcher",
            "demo",
            {"Authorization": "Bearer t"},
            transport=self.dispatcher.transport(),
            sleep=lambda _s: None,
        )
        self.tasks = InlineTasks()
        self.shown: list[Any] = []
        self.statuses: list[dict[str, Any]] = []
        self.speaker = RecordingSpeaker()
        self.printer = SimPrinter()
        self.clock = 1000.0
        self.presenter = KioskPresenter(
            self.client,
            self.tasks,
            self.shown.append,
            self.speaker,
            self.printer,
            KioskOptions(device="kiosk-1"),
            report_status=self.statuses.append,
            today=lambda: TODAY,
            monotonic=lambda: self.clock,
        )

    @property
    def view(self) -> Any:
        return self.shown[-1]


@pytest.fixture
def kiosk() -> Harness:
    harness = Harness()
    harness.presenter.start()
    return harness
