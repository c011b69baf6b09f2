"""Document locker (智能文件柜, 24-hour drop-off and pick-up): open a slot, read slot states.

Register map (Modbus RTU, one unit per cabinet, `unit=` in the URL):

| register          | table   | meaning                                                    |
|-------------------|---------|------------------------------------------------------------|
| 0x0000 OPEN_SLOT  | holding | write a slot number (1..N): that door unlocks              |
| 0x0000 SLOT_COUNT | input   | number of slots N                                          |
| 0x0001..0x00NN    | input   | slot k's state: bit 0 door open, bit 1 occupied (sensor)   |
"""

from __future__ import annotations

import abc
import dataclasses

from hardware.modbus import ModbusBusSimulator, ModbusMaster, UnitState, open_bus_device
from hardware.urls import DeviceUrl

OPEN_SLOT = 0x0000
SLOT_COUNT = 0x0000
SLOT_STATE = 0x0001
DOOR_OPEN, OCCUPIED = 0x01, 0x02


@dataclasses.dataclass(frozen=True)
class SlotStatus:
    slot: int
    door_open: bool
    occupied: bool


class LockerError(Exception):
    pass


class Locker(abc.ABC):
    @abc.abstractmethod
    def open(self, slot: int) -> None:
        """Unlock one slot's door (raises LockerError for a slot that does not exist)."""

    @abc.abstractmethod
    def status(self) -> list[SlotStatus]: ...


class ModbusLocker(Locker):
    def __init__(self, master: ModbusMaster, unit: int = 1) -> None:
        self.master, self.unit = master, unit

    def slot_count(self) -> int:
        return self.master.read_input(self.unit, SLOT_COUNT, 1)[0]

    def open(self, slot: int) -> None:
        count = self.slot_count()
        if not 1 <= slot <= count:
            raise LockerError(f"柜门 {slot} 不存在 (slot {slot}: this locker has slots 1..{count})")
        self.master.write_register(self.unit, OPEN_SLOT, slot)

    def status(self) -> list[SlotStatus]:
        count = self.slot_count()
        if count == 0:
            return []
        states = self.master.read_input(self.unit, SLOT_STATE, count)
        return [SlotStatus(i + 1, bool(s & DOOR_OPEN), bool(s & OCCUPIED)) for i, s in enumerate(states)]


PROTOCOLS = {"modbus": ModbusLocker}


def open_locker(url: str | DeviceUrl) -> Locker:
    return open_bus_device(url, "locker", "locker", PROTOCOLS)


class _LockerUnit(UnitState):
    def __init__(self, unit: int, slots: int = 12) -> None:
        super().__init__(unit)
        self.input[SLOT_COUNT] = slots
        self.opened: list[int] = []

    @property
    def slots(self) -> int:
        return self.input[SLOT_COUNT]

    def on_write(self, address: int, values: list[int]) -> None:
        slot = self.holding[OPEN_SLOT]
        if address == OPEN_SLOT and 1 <= slot <= self.slots:
            self.input[SLOT_STATE + slot - 1] |= DOOR_OPEN
            self.opened.append(slot)

    def close_door(self, slot: int) -> None:
        self.input[SLOT_STATE + slot - 1] &= ~DOOR_OPEN

    def set_occupied(self, slot: int, occupied: bool = True) -> None:
        if occupied:
            self.input[SLOT_STATE + slot - 1] |= OCCUPIED
        else:
            self.input[SLOT_STATE + slot - 1] &= ~OCCUPIED


class SimulatedLocker(ModbusBusSimulator):
    """A 12-slot cabinet per unit: `opened` lists slots unlocked; `close_door(n)`, `set_occupied(n)`."""

    kind = "locker"

    def make_unit(self, unit: int) -> UnitState:
        return _LockerUnit(unit)

    def cabinet(self, unit: int = 1) -> _LockerUnit:
        state = self.unit(unit)
        assert isinstance(state, _LockerUnit)
        return state

    @property
    def opened(self) -> list[int]:
        return self.cabinet(1).opened

    def close_door(self, slot: int, unit: int = 1) -> None:
        with self.lock:
            self.cabinet(unit).close_door(slot)

    def set_occupied(self, slot: int, occupied: bool = True, unit: int = 1) -> None:
        with self.lock:
            self.cabinet(unit).set_occupied(slot, occupied)

    def _command(self, words: list[str]) -> str:
        if words[0] in ("close", "put", "take") and len(words) >= 2:
            slot = int(words[1])
            if words[0] == "close":
                self.close_door(slot)
            else:
                self.set_occupied(slot, words[0] == "put")
            return f"slot {slot}: {words[0]}"
        if words[0] == "status":
            return self.describe()
        return "commands: close SLOT, put SLOT, take SLOT, status, fault NAME, unplug, replug"

    def describe(self) -> str:
        cab = self.cabinet(1)
        states = " ".join(f"{i + 1}:{cab.input[SLOT_STATE + i]}" for i in range(cab.slots))
        return f"locker simulator unit 1: {states}; opened {cab.opened}"
