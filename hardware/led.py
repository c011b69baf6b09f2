"""Window LED screen (窗口屏): `LedScreen.show(text, blink)`, a Modbus RTU codec, a simulator.

Register map (Modbus RTU, one unit per screen, `unit=` in the URL, default 1):

| register          | table   | meaning                                                  |
|-------------------|---------|----------------------------------------------------------|
| 0x0000 CONTROL    | holding | bit 0 blink, bit 1 clear; writing it shows the new text  |
| 0x0001 TEXT_LEN   | holding | text length in bytes                                     |
| 0x0010..0x004F    | holding | text, GB18030, two bytes per register (128 bytes max)    |

The driver writes the text registers, then CONTROL and TEXT_LEN in one write-multiple, so the
screen never shows half a text. URL: serial:///dev/ttyUSB1?baudrate=9600&unit=3 (add
protocol=NAME for another codec registered in PROTOCOLS).
"""

from __future__ import annotations

import abc

from hardware.modbus import (
    ModbusBusSimulator,
    ModbusMaster,
    UnitState,
    open_bus_device,
    registers_to_text,
    text_to_registers,
)
from hardware.urls import DeviceUrl

CONTROL, TEXT_LEN, TEXT = 0x0000, 0x0001, 0x0010
TEXT_MAX_BYTES = 128
BLINK, CLEAR = 0x01, 0x02


class LedScreen(abc.ABC):
    """A window's LED strip. Raises DeviceUnavailable / ModbusError when the screen cannot be reached."""

    @abc.abstractmethod
    def show(self, text: str, blink: bool = False) -> None: ...

    def clear(self) -> None:
        self.show("")


class ModbusLedScreen(LedScreen):
    def __init__(self, master: ModbusMaster, unit: int = 1) -> None:
        self.master, self.unit = master, unit

    def show(self, text: str, blink: bool = False) -> None:
        length, registers = text_to_registers(text, TEXT_MAX_BYTES)
        if registers:
            self.master.write_registers(self.unit, TEXT, registers)
        control = (BLINK if blink else 0) | (CLEAR if not text else 0)
        self.master.write_registers(self.unit, CONTROL, [control, length])


PROTOCOLS = {"modbus": ModbusLedScreen}


def open_led(url: str | DeviceUrl) -> LedScreen:
    return open_bus_device(url, "led", "LED", PROTOCOLS)


class _LedUnit(UnitState):
    def __init__(self, unit: int) -> None:
        super().__init__(unit)
        self.text = ""
        self.blink = False
        self.updates = 0

    def on_write(self, address: int, values: list[int]) -> None:
        if address == CONTROL:
            control, length = self.holding[CONTROL], self.holding[TEXT_LEN]
            self.text = "" if control & CLEAR else registers_to_text(self.holding[TEXT : TEXT + 64], length)
            self.blink = bool(control & BLINK)
            self.updates += 1


class SimulatedLed(ModbusBusSimulator):
    """LED screens on a simulated RS-485 line. `current_text` / `blinking` are unit 1's; `screen(n)`."""

    kind = "led"

    def make_unit(self, unit: int) -> UnitState:
        return _LedUnit(unit)

    def screen(self, unit: int = 1) -> _LedUnit:
        state = self.unit(unit)
        assert isinstance(state, _LedUnit)
        return state

    @property
    def current_text(self) -> str:
        return self.screen(1).text

    @property
    def blinking(self) -> bool:
        return self.screen(1).blink

    def _command(self, words: list[str]) -> str:
        if words[0] == "status":
            return self.describe()
        return "commands: status, fault garbled|silent|split, clear, unplug, replug"

    def describe(self) -> str:
        screens = ", ".join(
            f"unit {u}: {s.text!r}{' (blink)' if s.blink else ''}"
            for u, s in sorted(self.units.items())
            if isinstance(s, _LedUnit)
        )
        return f"led simulator: {screens or 'nothing shown yet'}"
