"""The keypad bridge's rules, fast: a simulated keypad on the real Modbus codec, a fake bus.

The run against a real Mosquitto and a real dispatcher is in test_keypad_dispatcher.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from caller.keypad_bridge import (
    NETWORK_FAULT,
    BridgeConfigError,
    KeypadBinding,
    KeypadBridge,
    KeypadStation,
    bridge_plan,
    command_for,
    reply_line,
    state_line,
    token_in_commands,
    with_unit,
)
from hallq.contract import CommandReply, Topics, WindowCommand, WindowStateMessage
from hallq.device import DeviceSettings

keypad_module = pytest.importorskip("hardware.keypad")
from hardware.keypad import SimulatedKeypad, open_keypad  # noqa: E402
from hardware.modbus import reset_masters  # noqa: E402
from hardware.sim import get_simulator, reset_simulators  # noqa: E402

SETTINGS = DeviceSettings(kind="keypad-bridge", device="kb-1", token="tok", mqtt="mqtt://10.0.0.5:1883")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- plans -----------------------------------------------------------------------------------------
def test_keypads_pair_with_windows_in_order() -> None:
    plan = bridge_plan(["sim:a", "sim:b"], ["3", "4"], None)
    assert plan == [KeypadBinding("sim:a", "3"), KeypadBinding("sim:b", "4")]
    with pytest.raises(BridgeConfigError, match="one --window after each --keypad"):
        bridge_plan(["sim:a", "sim:b"], ["3"], None)
    with pytest.raises(BridgeConfigError, match="no keypads"):
        bridge_plan([], [], None)
    with pytest.raises(BridgeConfigError, match="window 3 has two keypads"):
        bridge_plan(["sim:a", "sim:b"], ["3", "3"], None)


def test_keypads_file_maps_bus_addresses(tmp_path: Path) -> None:
    good = tmp_path / "keypads.yaml"
    good.write_text("bus: serial:///dev/ttyUSB0?baudrate=9600\nkeypads:\n- {address: 1, window: 3}\n"
                    "- {address: 2, window: '4'}\n", encoding="utf-8")  # fmt: skip
    plan = bridge_plan([], [], str(good))
    assert plan == [
        KeypadBinding("serial:///dev/ttyUSB0?baudrate=9600&unit=1", "3"),
        KeypadBinding("serial:///dev/ttyUSB0?baudrate=9600&unit=2", "4"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("keypads:\n- {address: 1, window: 3}\n- {address: 900, window: 4}\n- {window: 5}\n")
    with pytest.raises(BridgeConfigError) as error:
        bridge_plan([], [], str(bad))
    text = str(error.value)
    assert "keypads[0]: an address needs `bus: URL`" in text and "keypads[2]: needs window and address" in text


def test_with_unit_replaces_an_existing_unit() -> None:
    assert with_unit("sim:kp?unit=3", 5) == "sim:kp?unit=5"
    assert with_unit("socket://127.0.0.1:7001", 2) == "socket://127.0.0.1:7001?unit=2"


# --- what the display says -------------------------------------------------------------------------
def test_lines_for_states_and_replies() -> None:
    assert state_line(None) == "等待调度服务器"
    assert state_line(WindowStateMessage(seq=1, state="open", ticket="A012", text="请A012号")) == "当前 A012"
    assert state_line(WindowStateMessage(seq=1, state="open", ticket=None, text="1号窗口")) == "空闲 按叫号键"
    assert state_line(WindowStateMessage(seq=1, state="paused", ticket=None, text="暂停服务")) == "暂停服务"
    ok = CommandReply(request_id="r", status="ok", data={"ticket": {"number": "A012", "service_name": "社保业务"}})
    assert reply_line("call-next", ok) == "请A012号 社保业务"
    assert reply_line("call-next", CommandReply(request_id="r", status="ok", data={"ticket": None})) == "无人等候"
    long_error = "窗口当前没有正在办理的号，无法重呼。请先按叫号键叫号，再按重呼键重呼。"
    error = CommandReply(request_id="r", status="error", error=long_error)
    line = reply_line("recall", error)
    assert line.startswith("错误:窗口当前没有") and line.endswith("…")
    assert len(line.encode("gb18030")) <= 64
    assert reply_line("finish", CommandReply(request_id="r", status="ok", data={})) == "已办结"


def test_keys_become_commands() -> None:
    assert command_for("call-next", 0) == ("call-next", {})
    assert command_for("transfer", 0) == "先输入目标窗口号再按转移"
    assert command_for("transfer", 7) == ("transfer", {"window": "7"})
    assert command_for("pause", 1) == ("pause", {"reason": "午休"})
    assert command_for("pause", 0) == ("pause", {"reason": "临时离开"})


def test_token_goes_into_commands_only_for_a_local_broker() -> None:
    assert token_in_commands(SETTINGS) is None
    local = SETTINGS.model_copy(update={"mqtt": "mqtt://127.0.0.1:1883"})
    assert token_in_commands(local) == "tok"
    assert token_in_commands(local, "no") is None and token_in_commands(SETTINGS, "yes") == "tok"
    with pytest.raises(ValueError, match="auto, yes or no"):
        token_in_commands(SETTINGS, "maybe")


def test_a_reply_shows_for_a_while_then_the_window_state_returns() -> None:
    class Display:
        def __init__(self) -> None:
            self.lines: list[str] = []
            self.broken = False

        def show(self, text: str) -> None:
            if self.broken:
                raise OSError("unplugged")
            self.lines.append(text)

    now = [100.0]
    display = Display()
    station = KeypadStation(KeypadBinding("sim:x", "1"), display, clock=lambda: now[0])
    station.set_state(WindowStateMessage(seq=3, state="open", ticket="A001", text=""))
    station.show_reply("已重呼")
    now[0] += 1
    station.set_state(WindowStateMessage(seq=4, state="open", ticket="A001", text=""))  # same window state
    assert display.lines == ["当前 A001", "已重呼"]
    now[0] += 10
    station.flush()
    assert display.lines[-1] == "当前 A001"
    station.set_offline(True)
    assert display.lines[-1] == NETWORK_FAULT
    display.broken = True
    station.set_offline(False)
    assert station.flush() is False and display.lines[-1] == NETWORK_FAULT
    display.broken = False
    assert station.flush() is True and display.lines[-1] == "当前 A001"


# --- the bridge with a fake bus --------------------------------------------------------------------
class FakeBus:
    """Subscriptions and publishes in memory; `answer` plays the dispatcher's part."""

    def __init__(self, answer: Callable[[WindowCommand], CommandReply | None]) -> None:
        self.answer = answer
        self.connected = True
        self.handlers: dict[str, list[Any]] = {}
        self.connection_listeners: list[Callable[[bool], None]] = []
        self.published: list[tuple[str, WindowCommand, str | None]] = []
        self.detail: dict[str, Any] = {}

    def subscribe_model(self, topic: str, model: Any, handler: Any) -> Callable[[], None]:
        self.handlers.setdefault(topic, []).append((model, handler))
        return lambda: None

    def on_connection_change(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        self.connection_listeners.append(listener)
        return lambda: None

    def deliver(self, topic: str, payload: bytes) -> None:
        message = type("Msg", (), {"topic": topic, "payload": payload})()
        for model, handler in self.handlers.get(topic, []):
            handler(model.model_validate_json(payload), message)

    def publish(self, topic: str, payload: Any, **kwargs: Any) -> None:
        self.published.append((topic, payload, kwargs.get("response_topic")))
        reply = self.answer(payload)
        if reply is not None:
            reply_topic = kwargs.get("response_topic") or topic.replace("/commands", "/replies")
            threading.Timer(0.05, lambda: self.deliver(reply_topic, reply.to_json())).start()

    def set_status_detail(self, detail: dict[str, Any]) -> None:
        self.detail = detail

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def sim() -> Iterator[SimulatedKeypad]:
    reset_simulators()
    reset_masters()
    simulator = get_simulator("keypad", "bridge-test")
    assert isinstance(simulator, SimulatedKeypad)
    yield simulator
    reset_masters()
    reset_simulators()


def make_bridge(bus: FakeBus, timeout: float = 1.0) -> KeypadBridge:
    plan = [KeypadBinding("sim:bridge-test?unit=1", "1"), KeypadBinding("sim:bridge-test?unit=2", "2")]
    bridge = KeypadBridge(SETTINGS, plan, open_keypad, bus, reply_timeout_s=timeout, command_token=None)
    bridge.start()
    return bridge


def called(command: WindowCommand) -> CommandReply:
    ticket = {"number": "A001", "service_name": "社保业务"} if command.command == "call-next" else None
    return CommandReply(request_id=command.request_id, status="ok", data={"ticket": ticket})


def test_call_next_on_the_keypad_shows_the_called_ticket(sim: SimulatedKeypad) -> None:
    bus = FakeBus(called)
    bridge = make_bridge(bus)
    try:
        sim.press("call-next", unit=1)
        wait_for(lambda: sim.display_text(1) == "请A001号 社保业务", "the ticket on keypad 1")
        topic, command, response_topic = bus.published[0]
        topics = Topics("demo")
        assert topic == topics.window_commands("1") and response_topic == topics.window_replies("1")
        assert command.command == "call-next" and command.device == "kb-1" and command.token is None
        assert sim.display_text(2) == "等待调度服务器"  # the other window's keypad is untouched
        bus.deliver(topics.window("1"), WindowStateMessage(seq=5, state="open", ticket="A001", text="").to_json())
        wait_for(lambda: sim.display_text(1) == "当前 A001", "the window state on keypad 1")
        bus.deliver(topics.window("1"), WindowStateMessage(seq=4, state="paused", text="").to_json())
        time.sleep(0.1)
        assert sim.display_text(1) == "当前 A001"  # an older seq is ignored
    finally:
        bridge.stop()


def test_no_reply_shows_network_fault(sim: SimulatedKeypad) -> None:
    bus = FakeBus(lambda command: None)
    bridge = make_bridge(bus, timeout=0.3)
    try:
        sim.press("recall", unit=2)
        wait_for(lambda: sim.display_text(2) == NETWORK_FAULT, "网络故障 on keypad 2")
        assert len(bus.published) == 1
    finally:
        bridge.stop()


def test_broker_away_refuses_at_once_and_sends_nothing(sim: SimulatedKeypad) -> None:
    bus = FakeBus(called)
    bus.connected = False
    bridge = make_bridge(bus)
    try:
        sim.press("call-next", unit=1)
        wait_for(lambda: sim.display_text(1) == NETWORK_FAULT, "网络故障 on keypad 1")
        assert bus.published == []
    finally:
        bridge.stop()


def test_error_reply_is_shown_in_words(sim: SimulatedKeypad) -> None:
    bus = FakeBus(lambda c: CommandReply(request_id=c.request_id, status="error", error="没有正在办理的号"))
    bridge = make_bridge(bus)
    try:
        sim.press("finish", unit=1)
        wait_for(lambda: sim.display_text(1) == "错误:没有正在办理的号", "the error on keypad 1")
    finally:
        bridge.stop()


def test_display_is_written_again_after_the_keypad_comes_back(sim: SimulatedKeypad) -> None:
    bus = FakeBus(called)
    bridge = make_bridge(bus)
    try:
        wait_for(lambda: sim.display_text(1) == "等待调度服务器", "the first line")
        sim.unplug()
        state = WindowStateMessage(seq=9, state="open", ticket="B007", text="")
        bus.deliver(Topics("demo").window("1"), state.to_json())
        time.sleep(0.3)
        sim.replug()
        wait_for(lambda: sim.display_text(1) == "当前 B007", "the line after replug", timeout=15)
    finally:
        bridge.stop()
