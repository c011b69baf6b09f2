"""Caller keypad (呼叫器) on RS-485: key events and a display line, a Modbus RTU codec, a simulator.

Register map (Modbus RTU, one unit per window's keypad, `unit=` in the URL):

| register          | table   | meaning                                                        |
|-------------------|---------|----------------------------------------------------------------|
| 0x0000 EVENT_SEQ  | input   | sequence number of the oldest unread key event, 0 = none       |
| 0x0001 KEY        | input   | its key code (KEY_CODES)                                       |
| 0x0002 ARG        | input   | a number typed before the key (transfer target), else 0        |
| 0x0000 ACK        | holding | write EVENT_SEQ here once handled: the keypad drops that event |
| 0x0001 DISPLAY_LEN| holding | display line length in bytes; writing it shows the line        |
| 0x0010..0x002F    | holding | display line, GB18030, two bytes per register (64 bytes max)   |

Acknowledging by sequence number makes a lost ACK harmless: the same event is read again with the
same number and the bridge skips it.
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import logging
import threading
from collections.abc import Callable

from hardware.modbus import (
    ModbusBusSimulator,
    ModbusError,
    ModbusMaster,
    UnitState,
    open_bus_device,
    registers_to_text,
    text_to_registers,
)
from hardware.urls import DeviceUrl

log = logging.getLogger(__name__)

EVENT_SEQ, KEY, ARG = 0x0000, 0x0001, 0x0002
ACK, DISPLAY_LEN, DISPLAY = 0x0000, 0x0001, 0x0010
DISPLAY_MAX_BYTES = 64
KEY_CODES = {
    1: "call-next",
    2: "recall",
    3: "no-show",
    4: "finish",
    5: "pause",
    6: "resume",
    7: "transfer",
}
KEYS = {name: code for code, name in KEY_CODES.items()}


@dataclasses.dataclass(frozen=True)
class KeyEvent:
    key: str  # one of KEY_CODES' names
    arg: int = 0  # a number typed before the key (e.g. transfer target), 0 if none
    seq: int = 0


class Keypad(abc.ABC):
    """A clerk's hardware keypad. `poll()` returns new key events; `show()` sets its display line."""

    @abc.abstractmethod
    def poll(self) -> list[KeyEvent]: ...

    @abc.abstractmethod
    def show(self, text: str) -> None: ...

    def listen(self, on_key: Callable[[KeyEvent], None], interval: float = 0.1) -> KeypadListener:
        """Poll in a thread, calling `on_key` for each event; errors are logged and retried."""
        return KeypadListener(self, on_key, interval).start()


class KeypadListener:
    def __init__(self, keypad: Keypad, on_key: Callable[[KeyEvent], None], interval: float) -> None:
        self.keypad, self.on_key, self.interval = keypad, on_key, interval
        self.online = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="keypad")

    def start(self) -> KeypadListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                events = self.keypad.poll()
                self.online = True
            except (ModbusError, OSError) as exc:
                if self.online:
                    log.warning("keypad unreachable: %s", exc)
                self.online = False
                self._stop.wait(1.0)
                continue
            for event in events:
                try:
                    self.on_key(event)
                except Exception:
                    log.exception("keypad handler failed on %s", event)
            self._stop.wait(self.interval)


class ModbusKeypad(Keypad):
    def __init__(self, master: ModbusMaster, unit: int = 1) -> None:
        self.master, self.unit = master, unit
        self._last_seq = 0

    def poll(self) -> list[KeyEvent]:
        events: list[KeyEvent] = []
        for _ in range(16):  # drain a burst, but never loop forever on a stuck keypad
            seq, code, arg = self.master.read_input(self.unit, EVENT_SEQ, 3)
            if seq == 0:
                break
            if seq != self._last_seq:
                key = KEY_CODES.get(code)
                if key is None:
                    log.warning("keypad unit %d sent unknown key code %d", self.unit, code)
                else:
                    events.append(KeyEvent(key, arg, seq))
                self._last_seq = seq
            self.master.write_register(self.unit, ACK, seq)
        return events

    def show(self, text: str) -> None:
        length, registers = text_to_registers(text, DISPLAY_MAX_BYTES)
        if registers:
            self.master.write_registers(self.unit, DISPLAY, registers)
        self.master.write_register(self.unit, DISPLAY_LEN, length)


PROTOCOLS = {"modbus": ModbusKeypad}


def open_keypad(url: str | DeviceUrl) -> Keypad:
    return open_bus_device(url, "keypad", "keypad", PROTOCOLS)


class _KeypadUnit(UnitState):
    def __init__(self, unit: int) -> None:
        super().__init__(unit)
        self.queue: collections.deque[tuple[int, int, int]] = collections.deque()
        self.next_seq = 1
        self.display = ""

    def press(self, key: str, arg: int = 0) -> int:
        if key not in KEYS:
            raise ValueError(f"unknown key {key!r}; keys: {', '.join(KEYS)}")
        seq = self.next_seq
        self.next_seq = self.next_seq % 0xFFFF + 1
        self.queue.append((seq, KEYS[key], arg))
        self._publish()
        return seq

    def _publish(self) -> None:
        self.input[EVENT_SEQ : EVENT_SEQ + 3] = list(self.queue[0]) if self.queue else [0, 0, 0]

    def on_write(self, address: int, values: list[int]) -> None:
        if address == ACK and self.queue and self.queue[0][0] == self.holding[ACK]:
            self.queue.popleft()
            self._publish()
        if address <= DISPLAY_LEN < address + len(values):
            self.display = registers_to_text(self.holding[DISPLAY : DISPLAY + 32], self.holding[DISPLAY_LEN])


class SimulatedKeypad(ModbusBusSimulator):
    """Keypads on a simulated line: `press("call-next")`, `display_text` (unit 1 unless given)."""

    kind = "keypad"

    def make_unit(self, unit: int) -> UnitState:
        return _KeypadUnit(unit)

    def keypad(self, unit: int = 1) -> _KeypadUnit:
        state = self.unit(unit)
        assert isinstance(state, _KeypadUnit)
        return state

    def press(self, key: str, arg: int = 0, unit: int = 1) -> int:
        with self.lock:
            return self.keypad(unit).press(key, arg)

    def display_text(self, unit: int = 1) -> str:
        return self.keypad(unit).display

    @property
    def pending(self) -> int:
        return sum(len(u.queue) for u in self.units.values() if isinstance(u, _KeypadUnit))

    def _command(self, words: list[str]) -> str:
        if words[0] == "press" and len(words) >= 2:
            unit = int(words[2]) if len(words) > 2 else 1
            arg = int(words[3]) if len(words) > 3 else 0
            seq = self.press(words[1], arg, unit)
            return f"unit {unit}: {words[1]} (event {seq})"
        if words[0] == "status":
            return self.describe()
        return f"commands: press KEY [UNIT [ARG]] (keys: {', '.join(KEYS)}), status, fault NAME, unplug, replug"

    def describe(self) -> str:
        units = ", ".join(
            f"unit {u}: display {k.display!r}, {len(k.queue)} queued"
            for u, k in sorted(self.units.items())
            if isinstance(k, _KeypadUnit)
        )
        return f"keypad simulator: {units or 'no keypad used yet'}"
