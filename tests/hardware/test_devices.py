"""LED screen, keypad, evaluator and locker drivers against their simulators (in process and over a pty)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hardware.evaluator import SimulatedEvaluator, open_evaluator
from hardware.keypad import KeyEvent, SimulatedKeypad, open_keypad
from hardware.led import SimulatedLed, open_led
from hardware.locker import LockerError, SimulatedLocker, SlotStatus, open_locker
from hardware.modbus import ModbusTimeout
from hardware.sim import get_simulator
from hardware.sim.endpoints import PtyEndpoint
from hardware.urls import DeviceUnavailable, DeviceUrlError


def test_led_shows_text_and_blinks() -> None:
    led = open_led("sim:?unit=3")
    sim = get_simulator("led")
    assert isinstance(sim, SimulatedLed)
    led.show("请A012到3号窗口", blink=True)
    assert sim.screen(3).text == "请A012到3号窗口" and sim.screen(3).blink
    led.show("暂停服务")
    assert sim.screen(3).text == "暂停服务" and not sim.screen(3).blink
    led.clear()
    assert sim.screen(3).text == "" and sim.current_text == ""  # unit 1 untouched


def test_led_unknown_protocol() -> None:
    with pytest.raises(DeviceUrlError, match="LED protocol 'vendorx' unknown"):
        open_led("sim:?protocol=vendorx")


def test_keypad_events_and_display() -> None:
    keypad = open_keypad("sim:")
    sim = get_simulator("keypad")
    assert isinstance(sim, SimulatedKeypad)
    assert keypad.poll() == []
    sim.press("call-next")
    sim.press("transfer", arg=4)
    events = keypad.poll()
    assert [(e.key, e.arg) for e in events] == [("call-next", 0), ("transfer", 4)]
    assert keypad.poll() == [] and sim.pending == 0
    keypad.show("A012 社保医保")
    assert sim.display_text() == "A012 社保医保"


def test_keypad_lost_ack_does_not_repeat_the_event() -> None:
    keypad = open_keypad("sim:")
    sim = get_simulator("keypad")
    assert isinstance(sim, SimulatedKeypad)
    sim.press("recall")
    unit = sim.keypad(1)
    original = unit.on_write
    unit.on_write = lambda address, values: None  # type: ignore[method-assign]  # the ACK gets lost
    assert [e.key for e in keypad.poll()] == ["recall"]
    unit.on_write = original  # type: ignore[method-assign]
    assert keypad.poll() == []  # read again with the same sequence number: skipped, then acknowledged
    assert sim.pending == 0


def test_keypad_listener_delivers_and_survives_outage() -> None:
    keypad = open_keypad("sim:?timeout=0.1")
    sim = get_simulator("keypad")
    assert isinstance(sim, SimulatedKeypad)
    got: list[KeyEvent] = []
    done = threading.Event()

    def on_key(event: KeyEvent) -> None:
        got.append(event)
        if len(got) == 2:
            done.set()

    listener = keypad.listen(on_key, interval=0.01)
    try:
        sim.press("pause")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        sim.inject("silent")
        time.sleep(0.3)
        assert not listener.online
        sim.clear_faults()
        sim.press("resume")
        assert done.wait(5)
    finally:
        listener.stop()
    assert [e.key for e in got] == ["pause", "resume"]


def test_evaluator_rating_and_timeout() -> None:
    evaluator = open_evaluator("sim:")
    sim = get_simulator("evaluator")
    assert isinstance(sim, SimulatedEvaluator)

    def citizen() -> None:
        while not sim.prompt():
            time.sleep(0.01)
        sim.rate(4)

    threading.Thread(target=citizen, daemon=True).start()
    assert evaluator.request_rating("A012", timeout=5) == 4
    assert sim.evaluator().pending_request == 0  # asking stopped
    assert evaluator.request_rating("A013", timeout=0.3) is None
    sim.auto_rating = 5
    assert evaluator.request_rating("A014", timeout=2) == 5


def test_evaluator_ignores_a_late_rating_for_the_previous_citizen() -> None:
    evaluator = open_evaluator("sim:")
    sim = get_simulator("evaluator")
    assert isinstance(sim, SimulatedEvaluator)
    sim.auto_rating = 2
    assert evaluator.request_rating("A001", timeout=2) == 2
    sim.auto_rating = None
    # RATED_ID still holds A001's request id and rating 2: the next request must not take it
    assert evaluator.request_rating("A002", timeout=0.3) is None


def test_locker_open_and_status() -> None:
    locker = open_locker("sim:")
    sim = get_simulator("locker")
    assert isinstance(sim, SimulatedLocker)
    sim.set_occupied(2)
    locker.open(5)
    status = locker.status()
    assert len(status) == 12
    assert status[1] == SlotStatus(2, door_open=False, occupied=True)
    assert status[4] == SlotStatus(5, door_open=True, occupied=False)
    sim.close_door(5)
    assert not locker.status()[4].door_open and sim.opened == [5]
    with pytest.raises(LockerError, match="slot 13"):
        locker.open(13)


def test_modbus_devices_over_a_pty(tmp_path: Path) -> None:
    """One RS-485 line (a pty) with a keypad simulator; the real driver opens it by serial:// URL."""
    device = SimulatedKeypad()
    endpoint = PtyEndpoint(device, link=tmp_path / "ttyRS485")
    try:
        keypad = open_keypad(endpoint.url + "?baudrate=9600&unit=7")
        device.press("no-show", unit=7)
        assert [e.key for e in keypad.poll()] == ["no-show"]
        keypad.show("呼叫 A012")
        assert device.display_text(7) == "呼叫 A012"
        device.inject("split")
        device.press("finish", unit=7)
        assert [e.key for e in keypad.poll()] == ["finish"]
        device.unplug()
        with pytest.raises((DeviceUnavailable, ModbusTimeout)):
            keypad.poll()
        device.replug()
        device.press("call-next", unit=7)
        assert [e.key for e in keypad.poll()] == ["call-next"]
    finally:
        endpoint.close()


def test_led_over_a_pty(tmp_path: Path) -> None:
    device = SimulatedLed()
    endpoint = PtyEndpoint(device)
    try:
        open_led(endpoint.url + "?unit=2").show("请A012到2号窗口", blink=True)
        assert device.screen(2).text == "请A012到2号窗口" and device.screen(2).blink
    finally:
        endpoint.close()
