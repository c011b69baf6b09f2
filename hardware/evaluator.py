"""Satisfaction evaluator (好差评评价器) at a window: ask for a 1..5 rating, get it or a timeout.

Register map (Modbus RTU, one unit per window, `unit=` in the URL):

| register            | table   | meaning                                                        |
|---------------------|---------|----------------------------------------------------------------|
| 0x0000 REQUEST_ID   | holding | write a request id (1..65535) to start asking; 0 = stop asking |
| 0x0001 PROMPT_LEN   | holding | prompt length in bytes                                         |
| 0x0010..0x002F      | holding | prompt, GB18030, two bytes per register (64 bytes max)         |
| 0x0000 RATED_ID     | input   | the request id that has been rated (0 before any)              |
| 0x0001 RATING       | input   | the rating for RATED_ID: 1 非常不满意 … 5 非常满意               |

A rating counts only when RATED_ID equals the id asked for, so a late press for the previous
citizen is never booked to the next one.
"""

from __future__ import annotations

import abc
import itertools
import threading
import time

from hardware.modbus import (
    ModbusBusSimulator,
    ModbusMaster,
    UnitState,
    open_bus_device,
    registers_to_text,
    text_to_registers,
)
from hardware.urls import DeviceUrl

REQUEST_ID, PROMPT_LEN, PROMPT = 0x0000, 0x0001, 0x0010
RATED_ID, RATING = 0x0000, 0x0001
PROMPT_MAX_BYTES = 64
RATING_NAMES = {1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}


class Evaluator(abc.ABC):
    @abc.abstractmethod
    def request_rating(self, ticket: str, timeout: float = 30.0) -> int | None:
        """Ask the citizen served under `ticket` (a number like A012) to rate; None if nobody did."""


class ModbusEvaluator(Evaluator):
    def __init__(self, master: ModbusMaster, unit: int = 1, poll_interval: float = 0.2) -> None:
        self.master, self.unit, self.poll_interval = master, unit, poll_interval
        self._ids = itertools.cycle(range(1, 0x10000))
        # start from a different id after each restart, so an old RATED_ID never matches
        for _ in range(int(time.time()) % 5000):
            next(self._ids)

    def request_rating(self, ticket: str, timeout: float = 30.0) -> int | None:
        request = next(self._ids)
        length, registers = text_to_registers(f"请为{ticket}的服务评价", PROMPT_MAX_BYTES)
        self.master.write_registers(self.unit, PROMPT, registers)
        self.master.write_registers(self.unit, REQUEST_ID, [request, length])
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                rated, rating = self.master.read_input(self.unit, RATED_ID, 2)
                if rated == request and 1 <= rating <= 5:
                    return rating
                time.sleep(self.poll_interval)
            return None
        finally:
            self.master.write_register(self.unit, REQUEST_ID, 0)


PROTOCOLS = {"modbus": ModbusEvaluator}


def open_evaluator(url: str | DeviceUrl) -> Evaluator:
    return open_bus_device(url, "evaluator", "evaluator", PROTOCOLS)


class _EvaluatorUnit(UnitState):
    def __init__(self, unit: int) -> None:
        super().__init__(unit)
        self.prompt = ""
        self.auto_rating: int | None = None
        self.asked = threading.Event()

    @property
    def pending_request(self) -> int:
        return self.holding[REQUEST_ID]

    def on_write(self, address: int, values: list[int]) -> None:
        if address == REQUEST_ID:
            if self.holding[REQUEST_ID]:
                self.prompt = registers_to_text(self.holding[PROMPT : PROMPT + 32], self.holding[PROMPT_LEN])
                self.asked.set()
                if self.auto_rating is not None:
                    self.rate(self.auto_rating)
            else:
                self.prompt = ""
                self.asked.clear()

    def rate(self, rating: int) -> bool:
        """The citizen presses a key; False when nothing is being asked."""
        if not 1 <= rating <= 5:
            raise ValueError("a rating is 1..5")
        if not self.holding[REQUEST_ID]:
            return False
        self.input[RATED_ID : RATED_ID + 2] = [self.holding[REQUEST_ID], rating]
        return True


class SimulatedEvaluator(ModbusBusSimulator):
    """`rate(5)` answers the pending request; `auto_rating = 4` answers every request at once."""

    kind = "evaluator"

    def make_unit(self, unit: int) -> UnitState:
        state = _EvaluatorUnit(unit)
        state.auto_rating = self._auto
        return state

    def __init__(self) -> None:
        self._auto: int | None = None
        super().__init__()

    @property
    def auto_rating(self) -> int | None:
        return self._auto

    @auto_rating.setter
    def auto_rating(self, rating: int | None) -> None:
        self._auto = rating
        for state in self.units.values():
            if isinstance(state, _EvaluatorUnit):
                state.auto_rating = rating

    def evaluator(self, unit: int = 1) -> _EvaluatorUnit:
        state = self.unit(unit)
        assert isinstance(state, _EvaluatorUnit)
        return state

    def rate(self, rating: int, unit: int = 1) -> bool:
        with self.lock:
            return self.evaluator(unit).rate(rating)

    def prompt(self, unit: int = 1) -> str:
        return self.evaluator(unit).prompt

    def _command(self, words: list[str]) -> str:
        if words[0] == "rate" and len(words) >= 2:
            unit = int(words[2]) if len(words) > 2 else 1
            return f"rated {words[1]}" if self.rate(int(words[1]), unit) else "nothing is being asked"
        if words[0] == "auto" and len(words) == 2:
            self.auto_rating = None if words[1] == "off" else int(words[1])
            return f"auto rating {words[1]}"
        if words[0] == "status":
            return self.describe()
        return "commands: rate N [UNIT], auto N|off, status, fault NAME, unplug, replug"

    def describe(self) -> str:
        units = ", ".join(
            f"unit {u}: {'asking ' + repr(e.prompt) if e.pending_request else 'idle'}"
            for u, e in sorted(self.units.items())
            if isinstance(e, _EvaluatorUnit)
        )
        return f"evaluator simulator: {units or 'not used yet'}; auto rating {self._auto}"
