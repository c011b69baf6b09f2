"""Simulated devices behind the same seam as the real ones (DESIGN.md section 8).

A simulator is the *device side* of a byte stream: it receives the bytes a driver writes and emits the
bytes the device would answer, like OctoPrint's virtual printer. The same simulator object can be
reached three ways, so the real driver code runs unchanged against it:

- in process: a `sim:` URL gives the driver a `SimPort` (the pyserial subset) wired to the simulator
  of that kind and name — kiosks, demos and tests use this (`get_simulator("printer")`);
- through a pseudo-terminal: `PtyEndpoint` (hardware.sim.endpoints) — the driver opens
  `serial:///dev/pts/N` (or a stable symlink) exactly like a USB-serial adapter;
- through TCP: `SocketEndpoint` — the driver opens `socket://127.0.0.1:PORT`.

Faults are injected on command (`inject("paper_out")`, `unplug()`, `replug()`), from a `sim:?fault=`
URL, or from `hallq devices simulate … --fault`.
"""

from __future__ import annotations

import collections
import importlib
import logging
import threading
import time
from collections.abc import Callable

from hardware.device_url import DeviceUrl, DeviceUrlError

log = logging.getLogger(__name__)


class SimUnplugged(OSError):
    """Raised by a SimPort whose simulated device has been unplugged."""


Sink = Callable[[bytes], None]


class DeviceSimulator:
    """Base class: subclasses implement `receive(data)` and call `emit(chunk)` to answer.

    Every emitted chunk reaches every connected endpoint as one piece; emitting a reply in several
    chunks is how split frames are simulated.
    """

    kind = "device"
    FAULTS: tuple[str, ...] = ("unplugged",)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.unplugged = False
        self.faults_from_url = ""
        self._sinks: list[Sink] = []
        self._endpoints: list[Endpoint] = []

    # -- wiring ------------------------------------------------------------------------------------
    def add_sink(self, sink: Sink) -> None:
        with self.lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        with self.lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    def add_endpoint(self, endpoint: Endpoint) -> None:
        with self.lock:
            self._endpoints.append(endpoint)

    def remove_endpoint(self, endpoint: Endpoint) -> None:
        with self.lock:
            if endpoint in self._endpoints:
                self._endpoints.remove(endpoint)

    def emit(self, chunk: bytes) -> None:
        """Send bytes towards the driver (dropped while unplugged, as on a real cable)."""
        if not chunk:
            return
        with self.lock:
            if self.unplugged:
                return
            sinks = list(self._sinks)
        for sink in sinks:
            sink(chunk)

    def receive(self, data: bytes) -> None:
        """Bytes written by the driver. Subclasses answer through `emit`."""
        raise NotImplementedError

    # -- faults ------------------------------------------------------------------------------------
    def unplug(self) -> None:
        with self.lock:
            self.unplugged = True
            endpoints = list(self._endpoints)
        for endpoint in endpoints:
            endpoint.disconnect()

    def replug(self) -> None:
        with self.lock:
            self.unplugged = False
            endpoints = list(self._endpoints)
        for endpoint in endpoints:
            endpoint.reconnect()

    def inject(self, fault: str) -> None:
        """Turn on a named fault (see FAULTS); `clear_faults()` turns them off."""
        if fault in ("unplugged", "unplug"):
            self.unplug()
        elif fault in ("replug", "plugged"):
            self.replug()
        else:
            self._inject(fault)

    def _inject(self, fault: str) -> None:
        raise ValueError(f"{self.kind} simulator: unknown fault {fault!r}; known: {', '.join(self.FAULTS)}")

    def clear_faults(self) -> None:
        self.replug()

    def command(self, line: str) -> str:
        """One interactive command from `hallq devices simulate` (stdin). Returns a reply line."""
        words = line.split()
        if not words:
            return ""
        if words[0] in ("unplug", "replug", "fault"):
            if words[0] == "fault":
                for fault in words[1:]:
                    self.inject(fault)
                return f"faults: {' '.join(words[1:])}"
            self.inject(words[0])
            return words[0] + "ged" if words[0].endswith("plug") else words[0]
        if words[0] == "clear":
            self.clear_faults()
            return "faults cleared"
        return self._command(words)

    def _command(self, words: list[str]) -> str:
        return f"unknown command {words[0]!r}; try: fault NAME, clear, unplug, replug"

    def describe(self) -> str:
        return f"{self.kind} simulator{' (unplugged)' if self.unplugged else ''}"


class Endpoint:
    """Something that carries a simulator's bytes to a driver (SimPort, pty, socket)."""

    def disconnect(self) -> None:
        raise NotImplementedError

    def reconnect(self) -> None:
        raise NotImplementedError


class SimPort(Endpoint):
    """The pyserial subset (read/write/timeout/in_waiting/close) wired to an in-process simulator.

    `read(n)` returns bytes of at most one emitted chunk, so a reply the simulator splits reaches
    the driver split. While the device is unplugged, read and write raise SimUnplugged; the port
    stays dead after a replug (like a USB-serial adapter whose /dev node vanished) until reopened.
    """

    def __init__(self, device: DeviceSimulator, timeout: float | None = 0.05) -> None:
        self.device = device
        self.timeout = timeout
        self._chunks: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._open = True
        self._dead = False
        device.add_sink(self._on_chunk)
        device.add_endpoint(self)
        if device.unplugged:
            self._dead = True

    def _on_chunk(self, chunk: bytes) -> None:
        with self._cond:
            self._chunks.append(chunk)
            self._cond.notify_all()

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def in_waiting(self) -> int:
        self._check()
        with self._cond:
            return sum(len(c) for c in self._chunks)

    def _check(self) -> None:
        if not self._open:
            raise SimUnplugged("port is closed")
        if self._dead:
            raise SimUnplugged(f"{self.device.kind} simulator unplugged")

    def read(self, size: int = 1) -> bytes:
        self._check()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._cond:
            while not self._chunks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return b""
                self._cond.wait(remaining)
                self._check()
            chunk = self._chunks.popleft()
            if len(chunk) > size:
                self._chunks.appendleft(chunk[size:])
                chunk = chunk[:size]
            return chunk

    def write(self, data: bytes, /) -> int:
        self._check()
        self.device.receive(bytes(data))
        return len(data)

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._chunks.clear()

    def flush(self) -> None:
        self._check()

    def close(self) -> None:
        self._open = False
        self.device.remove_sink(self._on_chunk)
        self.device.remove_endpoint(self)
        with self._cond:
            self._cond.notify_all()

    def disconnect(self) -> None:
        with self._cond:
            self._dead = True
            self._chunks.clear()
            self._cond.notify_all()

    def reconnect(self) -> None:
        """A replug does not revive an old port: the driver has to open a new one."""


# -- registry of in-process simulators, by kind and name (`sim:` / `sim:front-desk`) ----------------
FACTORIES = {
    "idcard": "hardware.idcard.simulator:SimulatedIdCardReader",
    "printer": "hardware.printer.simulator:SimulatedPrinter",
    "scanner": "hardware.scanner.simulator:SimulatedScanner",
    "led": "hardware.led:SimulatedLed",
    "keypad": "hardware.keypad:SimulatedKeypad",
    "evaluator": "hardware.evaluator:SimulatedEvaluator",
    "locker": "hardware.locker:SimulatedLocker",
}
_registry: dict[tuple[str, str], DeviceSimulator] = {}
_registry_lock = threading.Lock()


def new_simulator(kind: str) -> DeviceSimulator:
    """A fresh simulator of one kind (not registered)."""
    try:
        module_name, class_name = FACTORIES[kind].split(":")
    except KeyError:
        raise ValueError(f"no simulator for {kind!r}; kinds: {', '.join(FACTORIES)}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    device: DeviceSimulator = cls()
    return device


def get_simulator(kind: str, name: str = "") -> DeviceSimulator:
    """The in-process simulator that `sim:NAME` URLs of this kind reach (created on first use)."""
    with _registry_lock:
        key = (kind, name)
        if key not in _registry:
            _registry[key] = new_simulator(kind)
        return _registry[key]


def reset_simulators() -> None:
    """Forget every in-process simulator (tests call this between cases)."""
    with _registry_lock:
        _registry.clear()


def attach_port(kind: str, url: DeviceUrl, timeout: float | None = 0.05) -> SimPort:
    """Open a SimPort to the simulator a `sim:` URL names, applying its `fault=` list."""
    if not kind:
        raise DeviceUrlError(url.text, "a sim: URL needs a device kind (open it through a device driver)")
    device = get_simulator(kind, url.path)
    if url.text != device.faults_from_url:
        # faults named in a URL apply once, not again each time a driver reopens the same URL
        # (a reader loop reopening after `clear_faults()` must not bring them back)
        device.faults_from_url = url.text
        for fault in url.faults:
            device.inject(fault)
    return SimPort(device, timeout=timeout)
