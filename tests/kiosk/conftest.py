from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from hardware.printer.preview import preview
from hardware.sim import get_simulator, reset_simulators
from kiosk.api import DispatcherClient
from kiosk.presenter import KioskOptions, KioskPresenter
from kiosk.runtime import open_printer
from kiosk.speech import RecordingSpeaker
from tests.kiosk.fakes import FakeDispatcher, InlineTasks

TODAY = dt.date(2026, 1, 5)
TICKET_NUMBER = re.compile(r"^[A-Z]{1,2}\d{3,}$")


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
        # the kiosk's simulated printer: the hardware/ ESC/POS driver on hardware/'s simulated printer
        reset_simulators()
        self.printer = open_printer("sim:kiosk-presenter")
        self.printer_sim: Any = get_simulator("printer", "kiosk-presenter")
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

    def printed_numbers(self) -> list[str]:
        """The ticket numbers on the paper, read back from the printed ESC/POS bytes."""
        numbers = []
        for job in self.printer_sim.jobs:
            lines = (line.replace(" ", "") for line in preview(job).splitlines())
            numbers += [line for line in lines if TICKET_NUMBER.match(line)]
        return numbers

    def paper_out(self) -> None:
        self.printer_sim.inject("paper_out")


@pytest.fixture
def kiosk() -> Harness:
    harness = Harness()
    harness.presenter.start()
    return harness
