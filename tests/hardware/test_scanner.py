from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hardware.scanner import HidScanner, KeyDecoder, LineScanner, LineSplitter, open_scanner
from hardware.scanner.hid import KEY_ENTER, KEY_LEFTSHIFT
from hardware.scanner.simulator import SimulatedScanner
from hardware.sim import get_simulator
from hardware.sim.endpoints import PtyEndpoint
from hardware.urls import DeviceUnavailable, parse_device_url


def test_line_splitter_handles_cr_lf_crlf_and_splits() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"A0") == []
    assert splitter.feed(b"12\r") == ["A012"]
    assert splitter.feed(b"\nB7\nhttps://x/t/demo/1?k=2\r\n") == ["B7", "https://x/t/demo/1?k=2"]
    assert splitter.feed("社保\r".encode("gb18030")) == ["社保"]


def test_line_splitter_drops_runaway_noise() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"x" * 5000) == [] and splitter.buffer == bytearray()


def type_text(decoder: KeyDecoder, events: list[tuple[int, int]]) -> list[str]:
    return [code for code in (decoder.feed(c, v) for c, v in events) if code]


def test_key_decoder_letters_digits_shift_and_enter() -> None:
    # "Ab1?" + Enter: shift down, a, shift up, b, 1, shift+/, Enter
    events = [
        (KEY_LEFTSHIFT, 1),
        (30, 1),
        (30, 0),
        (KEY_LEFTSHIFT, 0),
        (48, 1),
        (48, 0),
        (2, 1),
        (2, 0),
        (KEY_LEFTSHIFT, 1),
        (53, 1),
        (53, 0),
        (KEY_LEFTSHIFT, 0),
        (KEY_ENTER, 1),
        (KEY_ENTER, 0),
    ]
    assert type_text(KeyDecoder(), events) == ["Ab1?"]


def test_key_decoder_url_and_repeat_ignored() -> None:
    decoder = KeyDecoder()
    # h t t p : / /  (':' is shift+';')
    keys = [(35, False), (20, False), (20, False), (25, False), (39, True), (53, False), (53, False)]
    events: list[tuple[int, int]] = []
    for code, shifted in keys:
        if shifted:
            events.append((KEY_LEFTSHIFT, 1))
        events += [(code, 1), (code, 2), (code, 0)]  # value 2 = autorepeat: must not double
        if shifted:
            events.append((KEY_LEFTSHIFT, 0))
    events.append((KEY_ENTER, 1))
    assert type_text(decoder, events) == ["http://"]


def test_empty_enter_gives_nothing() -> None:
    assert KeyDecoder().feed(KEY_ENTER, 1) is None


def test_open_scanner_picks_the_mode() -> None:
    assert isinstance(open_scanner("serial:///dev/ttyACM0"), LineScanner)
    assert isinstance(open_scanner("file:///dev/input/by-id/usb-scanner-event-kbd"), HidScanner)
    assert isinstance(open_scanner("usb://1eab:8003"), HidScanner)
    with pytest.raises(ValueError, match="a scanner is serial"):
        open_scanner("usb://1eab:8003?mode=line")  # a USB scanner in line mode shows up as a serial port


def test_hid_scanner_missing_device_is_clear() -> None:
    scanner = HidScanner(parse_device_url("file:///dev/input/does-not-exist"))
    with pytest.raises(DeviceUnavailable, match="cannot open /dev/input/does-not-exist"):
        scanner.find_device()


def collect(scanner: LineScanner, expected: int) -> tuple[list[str], threading.Event]:
    got: list[str] = []
    done = threading.Event()

    def on_scan(code: str) -> None:
        got.append(code)
        if len(got) >= expected:
            done.set()

    scanner.start(on_scan)
    return got, done


def wait_online(scanner: LineScanner) -> None:
    deadline = time.monotonic() + 5
    while not scanner.online:
        assert time.monotonic() < deadline, "scanner never came online"
        time.sleep(0.01)


def test_line_scanner_in_process_with_split_and_garbage() -> None:
    sim = get_simulator("scanner")
    assert isinstance(sim, SimulatedScanner)
    scanner = LineScanner("sim:")
    got, done = collect(scanner, 3)
    try:
        wait_online(scanner)
        sim.inject("split")
        sim.scan("A012")
        sim.inject("garbage")
        sim.scan("https://hall.example.cn/t/demo/9?k=1")
        assert done.wait(5)
    finally:
        scanner.stop()
    assert got[0] == "A012" and got[-1] == "https://hall.example.cn/t/demo/9?k=1"


def test_line_scanner_over_a_pty_survives_unplug(tmp_path: Path) -> None:
    sim = SimulatedScanner()
    endpoint = PtyEndpoint(sim, link=tmp_path / "ttyQR")
    scanner = LineScanner(endpoint.url, backoff=(0.05,))
    got, done = collect(scanner, 2)
    try:
        wait_online(scanner)
        sim.scan("A001")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        sim.unplug()
        deadline = time.monotonic() + 5
        while scanner.online and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not scanner.online
        sim.replug()
        wait_online(scanner)
        sim.scan("A002")
        assert done.wait(5)
    finally:
        scanner.stop()
        endpoint.close()
    assert got == ["A001", "A002"]


class FakeInputDevice:
    """Stands in for evdev.InputDevice: a pipe to make select() wake, and a list of key events."""

    def __init__(self, events: list[tuple[int, int]]) -> None:
        import os
        from types import SimpleNamespace

        self.read_fd, self.write_fd = os.pipe()
        self.fd = self.read_fd
        self.grabbed = False
        self.closed = False
        self._events = [SimpleNamespace(type=1, code=c, value=v) for c, v in events]
        os.write(self.write_fd, b"x")

    def grab(self) -> None:
        self.grabbed = True

    def read(self) -> list[object]:
        import os

        os.read(self.read_fd, 1)
        events, self._events = self._events, []
        return events

    def close(self) -> None:
        self.closed = True


def test_hid_scanner_grabs_the_device_and_decodes_events() -> None:
    pytest.importorskip("evdev")
    events = [(20, 1), (20, 0), (2, 1), (2, 0), (KEY_ENTER, 1), (KEY_ENTER, 0)]
    device = FakeInputDevice(events)
    scanner = HidScanner(parse_device_url("file:///dev/input/event-fake"))
    scanner.find_device = lambda: device  # type: ignore[method-assign]
    got: list[str] = []
    done = threading.Event()

    def on_scan(code: str) -> None:
        got.append(code)
        done.set()

    scanner.start(on_scan)
    try:
        assert done.wait(5)
    finally:
        scanner.stop()
    assert got == ["t1"] and device.grabbed and device.closed


def test_pty_simulator_never_blocks_when_nobody_reads() -> None:
    sim = SimulatedScanner()
    endpoint = PtyEndpoint(sim)
    try:
        done = threading.Event()

        def flood() -> None:
            for n in range(300):  # 300 kB: far more than a pty buffers
                sim.scan(f"{n:05d}" + "X" * 1000)
            done.set()

        threading.Thread(target=flood, daemon=True).start()
        assert done.wait(20), "the simulator blocked on a full pty"
    finally:
        endpoint.close()
