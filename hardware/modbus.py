"""Modbus RTU over RS-485: the first protocol (codec) for LED screens, keypads, evaluators, lockers.

The codec is pure: `read_request`, `write_request`, … build frames with their CRC16; the
`ResponseParser` / `RequestParser` split a byte stream into frames (any split, garbage skipped, bad
CRC dropped and reported). `ModbusMaster` talks to units on one line through `open_serial`, one
request at a time, and reopens the line after an unplug. `ModbusBusSimulator` is the device side
for simulators: units with holding and input registers, created on first use.

Function codes used: 03 read holding registers, 04 read input registers, 06 write single
register, 16 (0x10) write multiple registers. Exceptions come back as function | 0x80.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from hardware.sim import DeviceSimulator
from hardware.urls import (
    PORT_ERRORS,
    DeviceUnavailable,
    DeviceUrl,
    DeviceUrlError,
    SerialLike,
    open_serial,
    parse_device_url,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_HOLDING, READ_INPUT, WRITE_SINGLE, WRITE_MULTIPLE = 0x03, 0x04, 0x06, 0x10
MAX_REGISTERS = 123  # the most one write-multiple can carry


def crc16(data: bytes) -> int:
    """Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF); sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(frame: bytes) -> bytes:
    return frame + crc16(frame).to_bytes(2, "little")


def crc_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little")


class ModbusError(Exception):
    """Base of Modbus errors; `str()` says which unit and what happened."""


class ModbusTimeout(ModbusError):
    pass


class ModbusCrcError(ModbusTimeout):
    """No valid reply in time, but a damaged one arrived."""


class ModbusException(ModbusError):
    """The unit answered with an exception code (1 illegal function, 2 illegal address, 3 illegal value…)."""

    def __init__(self, unit: int, function: int, code: int) -> None:
        names = {1: "illegal function", 2: "illegal data address", 3: "illegal data value", 4: "device failure"}
        super().__init__(f"unit {unit} refused function 0x{function:02X}: {names.get(code, f'exception {code}')}")
        self.unit, self.function, self.code = unit, function, code


# -- frames -------------------------------------------------------------------------------------------
def read_request(unit: int, function: int, address: int, count: int) -> bytes:
    if function not in (READ_HOLDING, READ_INPUT) or not 1 <= count <= 125:
        raise ValueError("read: function 3 or 4, 1..125 registers")
    return with_crc(bytes([unit, function]) + address.to_bytes(2, "big") + count.to_bytes(2, "big"))


def write_single_request(unit: int, address: int, value: int) -> bytes:
    return with_crc(bytes([unit, WRITE_SINGLE]) + address.to_bytes(2, "big") + (value & 0xFFFF).to_bytes(2, "big"))


def write_multiple_request(unit: int, address: int, values: Sequence[int]) -> bytes:
    if not 1 <= len(values) <= MAX_REGISTERS:
        raise ValueError(f"write multiple: 1..{MAX_REGISTERS} registers")
    payload = b"".join((v & 0xFFFF).to_bytes(2, "big") for v in values)
    head = bytes([unit, WRITE_MULTIPLE]) + address.to_bytes(2, "big") + len(values).to_bytes(2, "big")
    return with_crc(head + bytes([len(payload)]) + payload)


@dataclasses.dataclass(frozen=True)
class Frame:
    unit: int
    function: int
    body: bytes  # between function code and CRC

    @property
    def is_exception(self) -> bool:
        return bool(self.function & 0x80)


def _response_length(buffer: bytes | bytearray) -> int | None:
    function = buffer[1]
    if function & 0x80:
        return 5
    if function in (READ_HOLDING, READ_INPUT):
        return 5 + buffer[2] if len(buffer) >= 3 else None
    if function in (WRITE_SINGLE, WRITE_MULTIPLE):
        return 8
    return -1  # not a function we speak: resynchronise


def _request_length(buffer: bytes | bytearray) -> int | None:
    function = buffer[1]
    if function in (READ_HOLDING, READ_INPUT, WRITE_SINGLE):
        return 8
    if function == WRITE_MULTIPLE:
        return 9 + buffer[6] if len(buffer) >= 7 else None
    return -1


class _Splitter:
    """Length-by-function framing (RTU has no delimiter): skip bytes until a frame's CRC checks."""

    def __init__(self, length_of: Callable[[bytearray], int | None]) -> None:
        self.buffer = bytearray()
        self.length_of = length_of
        self.dropped = 0
        self.crc_errors = 0  # candidate frames whose CRC did not match (noise or damage)

    def feed(self, data: bytes = b"") -> Frame | None:
        self.buffer += data
        while len(self.buffer) >= 2:
            length = self.length_of(self.buffer)
            if length is None or len(self.buffer) < max(length, 0):
                return None
            if length < 0 or not crc_ok(bytes(self.buffer[:length])):
                # not a frame start (noise), or a damaged frame: slide one byte and look again
                del self.buffer[:1]
                self.dropped += 1
                if length >= 0:
                    self.crc_errors += 1
                continue
            frame = bytes(self.buffer[:length])
            del self.buffer[:length]
            return Frame(frame[0], frame[1], frame[2:-2])
        return None

    def clear(self) -> None:
        self.buffer.clear()
        self.crc_errors = 0


class ResponseParser(_Splitter):
    def __init__(self) -> None:
        super().__init__(_response_length)


class RequestParser(_Splitter):
    def __init__(self) -> None:
        super().__init__(_request_length)


def text_to_registers(text: str, max_bytes: int) -> tuple[int, list[int]]:
    """GB18030 text → (byte length, registers of two bytes each, big-endian, zero padded)."""
    raw = text.encode("gb18030")
    if len(raw) > max_bytes:
        # cut on a character boundary so the display never shows half a character
        while len(raw) > max_bytes:
            text = text[:-1]
            raw = text.encode("gb18030")
    padded = raw + b"\x00" * (len(raw) % 2)
    return len(raw), [int.from_bytes(padded[i : i + 2], "big") for i in range(0, len(padded), 2)]


def registers_to_text(registers: Sequence[int], length: int) -> str:
    raw = b"".join(r.to_bytes(2, "big") for r in registers)[:length]
    return raw.decode("gb18030", errors="replace")


# -- master -------------------------------------------------------------------------------------------
class ModbusMaster:
    """One RS-485 line (or socket:// bridge, or sim:), shared by every unit on it; thread-safe."""

    def __init__(self, url: str | DeviceUrl, kind: str, timeout: float = 0.5) -> None:
        self.url = parse_device_url(url)
        self.kind = kind
        self.timeout = self.url.float_param("timeout", timeout)
        self.lock = threading.Lock()
        self._port: SerialLike | None = None
        self.parser = ResponseParser()

    def _open(self) -> SerialLike:
        if self._port is None:
            self._port = open_serial(self.url, kind=self.kind, baudrate=9600)
        return self._port

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(OSError):
                port.close()

    def transact(self, request: bytes) -> Frame:
        """Send one request and wait for the reply of that unit and function."""
        with self.lock:
            try:
                port = self._open()
                port.reset_input_buffer()
                self.parser.clear()
                port.write(request)
                return self._await(port, request[0], request[1])
            except PORT_ERRORS as exc:
                self.close()
                raise DeviceUnavailable(f"{self.kind} line {self.url} is gone: {exc}") from exc

    def _await(self, port: SerialLike, unit: int, function: int) -> Frame:
        deadline = time.monotonic() + self.timeout
        data = b""
        while True:
            frame = self.parser.feed(data)
            data = b""
            if frame is not None:
                if frame.unit == unit and frame.function & 0x7F == function:
                    if frame.is_exception:
                        raise ModbusException(unit, function, frame.body[0] if frame.body else 0)
                    return frame
                continue  # an echo or another unit's answer on a shared line
            if time.monotonic() > deadline:
                if self.parser.crc_errors:
                    where = f"{self.kind} unit {unit} on {self.url}"
                    raise ModbusCrcError(f"{where}: the reply had a bad CRC (line noise?)")
                raise ModbusTimeout(f"{self.kind} unit {unit} on {self.url} did not answer in {self.timeout}s")
            data = port.read(max(1, min(port.in_waiting, 256)))

    def read_holding(self, unit: int, address: int, count: int) -> list[int]:
        return _registers(self.transact(read_request(unit, READ_HOLDING, address, count)), count)

    def read_input(self, unit: int, address: int, count: int) -> list[int]:
        return _registers(self.transact(read_request(unit, READ_INPUT, address, count)), count)

    def write_register(self, unit: int, address: int, value: int) -> None:
        self.transact(write_single_request(unit, address, value))

    def write_registers(self, unit: int, address: int, values: Sequence[int]) -> None:
        for start in range(0, len(values), MAX_REGISTERS):
            self.transact(write_multiple_request(unit, address + start, values[start : start + MAX_REGISTERS]))


def _registers(frame: Frame, count: int) -> list[int]:
    data = frame.body[1:]
    if frame.body[:1] != bytes([count * 2]) or len(data) != count * 2:
        raise ModbusError(f"unit {frame.unit} answered {len(data)} bytes for {count} registers")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


_masters: dict[tuple[str, str], ModbusMaster] = {}
_masters_lock = threading.Lock()


def shared_master(url: str | DeviceUrl, kind: str) -> ModbusMaster:
    """One master per line: devices of one kind on the same RS-485 line share it (differing in `unit`)."""
    parsed = parse_device_url(url)
    line = parsed.text.split("?")[0]
    with _masters_lock:
        key = (kind, line)
        if key not in _masters:
            _masters[key] = ModbusMaster(parsed, kind)
        return _masters[key]


def open_bus_device(
    url: str | DeviceUrl, kind: str, label: str, protocols: Mapping[str, Callable[[ModbusMaster, int], T]]
) -> T:
    """A device on an RS-485 line: `?protocol=` picks its codec (modbus unless said), `?unit=` its address."""
    parsed = parse_device_url(url)
    protocol = parsed.param("protocol", "modbus") or "modbus"
    if protocol not in protocols:
        raise DeviceUrlError(parsed.text, f"{label} protocol {protocol!r} unknown; known: {', '.join(protocols)}")
    return protocols[protocol](shared_master(parsed, kind), parsed.int_param("unit", 1))


def reset_masters() -> None:
    with _masters_lock:
        for master in _masters.values():
            master.close()
        _masters.clear()


# -- device side for simulators -----------------------------------------------------------------------
class UnitState:
    """Registers of one simulated unit; `on_write(address, values)` lets a device react."""

    def __init__(self, unit: int, size: int = 512) -> None:
        self.unit = unit
        self.holding = [0] * size
        self.input = [0] * size

    def on_write(self, address: int, values: list[int]) -> None:
        """Hook for device logic after holding registers were written."""

    def before_read(self, table: str, address: int, count: int) -> None:
        """Hook for device logic before registers are read."""


class ModbusBusSimulator(DeviceSimulator):
    """An RS-485 line with simulated units (made on first use), answering Modbus RTU requests.

    Faults: garbled (replies get a bad CRC), silent (no replies), split (replies in 3-byte pieces),
    unplugged.
    """

    FAULTS = ("unplugged", "garbled", "silent", "split")

    def __init__(self) -> None:
        super().__init__()
        self.units: dict[int, UnitState] = {}
        self.parser = RequestParser()
        self.faults: set[str] = set()
        self.requests = 0

    def make_unit(self, unit: int) -> UnitState:
        return UnitState(unit)

    def unit(self, unit: int = 1) -> UnitState:
        with self.lock:
            if unit not in self.units:
                self.units[unit] = self.make_unit(unit)
            return self.units[unit]

    def _inject(self, fault: str) -> None:
        if fault not in self.FAULTS:
            super()._inject(fault)
        self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()
        super().clear_faults()

    def receive(self, data: bytes) -> None:
        with self.lock:
            frames = []  # a real unit stays silent on a bad CRC: the parser just drops those
            frame = self.parser.feed(data)
            while frame is not None:
                frames.append(frame)
                frame = self.parser.feed(b"")
            for frame in frames:
                self.requests += 1
                reply = self._handle(frame)
                if reply is not None and "silent" not in self.faults:
                    self._send(reply)

    def _handle(self, frame: Frame) -> bytes | None:
        if frame.unit == 0:
            return None  # broadcast: no reply
        state = self.unit(frame.unit)
        body = frame.body
        try:
            if frame.function in (READ_HOLDING, READ_INPUT):
                address, count = int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big")
                table = "holding" if frame.function == READ_HOLDING else "input"
                state.before_read(table, address, count)
                registers = getattr(state, table)[address : address + count]
                if len(registers) != count:
                    return self._exception(frame, 2)
                payload = b"".join(r.to_bytes(2, "big") for r in registers)
                return with_crc(bytes([frame.unit, frame.function, len(payload)]) + payload)
            if frame.function == WRITE_SINGLE:
                address, value = int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big")
                if address >= len(state.holding):
                    return self._exception(frame, 2)
                state.holding[address] = value
                state.on_write(address, [value])
                return with_crc(bytes([frame.unit, frame.function]) + body[:4])
            if frame.function == WRITE_MULTIPLE:
                address, count = int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big")
                data = body[5:]
                values = [int.from_bytes(data[i : i + 2], "big") for i in range(0, count * 2, 2)]
                if address + count > len(state.holding):
                    return self._exception(frame, 2)
                state.holding[address : address + count] = values
                state.on_write(address, values)
                return with_crc(bytes([frame.unit, frame.function]) + body[:4])
        except ValueError:
            return self._exception(frame, 3)
        return self._exception(frame, 1)

    @staticmethod
    def _exception(frame: Frame, code: int) -> bytes:
        return with_crc(bytes([frame.unit, frame.function | 0x80, code]))

    def _send(self, reply: bytes) -> None:
        if "garbled" in self.faults:
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        if "split" in self.faults:
            for start in range(0, len(reply), 3):
                self.emit(reply[start : start + 3])
        else:
            self.emit(reply)
