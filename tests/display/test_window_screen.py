"""The window-screen bridge: what each LED strip shows, re-sending after a strip comes back, and the
whole bridge against a real Mosquitto and the Modbus LED simulator."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from display.window_screen import LedFrame, LedWriter, WindowScreenBridge, WindowScreens
from hallq.contract import Topics, WindowStateMessage
from hallq.device import DeviceSettings
from tests.display.harness import Publisher
from tests.display.samples import T0, call
from tests.support.broker import Broker, start_mosquitto

TOPICS = Topics("demo")


def secs(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def state(seq: int, state: str = "open", ticket: str | None = None, text: str = "") -> WindowStateMessage:
    return WindowStateMessage(seq=seq, state=state, ticket=ticket, text=text)  # type: ignore[arg-type]


# ---- what a strip shows -----------------------------------------------------------------------------


def test_frames_for_each_window_state() -> None:
    screens = WindowScreens({"3": "3号窗口", "4": "4号窗口"}, blink_s=10)
    assert screens.frame("3", T0) == LedFrame("3号窗口")  # nothing known yet: the name
    screens.apply_state("3", state(5, ticket="A012", text="请A012号"))
    assert screens.frame("3", T0) == LedFrame("请A012号")  # retained state at start: no blink
    screens.apply_state("4", state(6, "paused", text="暂停服务"))
    assert screens.frame("4", T0) == LedFrame("暂停服务")
    screens.apply_state("4", state(7, "closed", text=""))
    assert screens.frame("4", T0) == LedFrame("4号窗口")
    screens.apply_state("4", state(8, "open", text="4号窗口"))
    assert screens.frame("4", T0) == LedFrame("4号窗口")


def test_a_call_blinks_then_stays() -> None:
    screens = WindowScreens({"3": "3号窗口"}, blink_s=10)
    screens.apply_state("3", state(5))
    assert screens.apply_call(call(6, "A013", "3", at=T0), T0)
    assert screens.frame("3", T0 + secs(1)) == LedFrame("请A013号", blink=True)  # before the window state
    screens.apply_state("3", state(6, ticket="A013", text="请A013号"))
    assert screens.frame("3", T0 + secs(5)) == LedFrame("请A013号", blink=True)
    assert screens.next_change(T0 + secs(5)) == T0 + secs(10)
    assert screens.frame("3", T0 + secs(11)) == LedFrame("请A013号")
    # a recall blinks again; a call for another window does nothing here
    assert screens.apply_call(call(7, "A013", "3", at=T0 + secs(30), kind="recall"), T0 + secs(30))
    assert screens.frame("3", T0 + secs(31)).blink
    assert not screens.apply_call(call(8, "B001", "5", at=T0), T0)
    # a stale call after an outage does not blink
    assert not screens.apply_call(call(9, "A014", "3", at=T0), T0 + secs(600))


def test_older_state_and_malformed_messages_are_ignored() -> None:
    screens = WindowScreens({"3": "3号窗口"})
    screens.apply_state("3", state(9, ticket="A020", text="请A020号"))
    assert not screens.apply_state("3", state(4, ticket="A001", text="请A001号"))
    assert not screens.apply_message("3", "window", b"{bad", T0)
    assert not screens.apply_message("3", "window", b'{"seq": 10, "state": "sleeping", "text": ""}', T0)
    assert not screens.apply_message(None, "calls", b"[]", T0)
    assert screens.malformed == 3
    assert screens.frame("3", T0) == LedFrame("请A020号")


class FlakyScreen:
    def __init__(self) -> None:
        self.shown: list[tuple[str, bool]] = []
        self.broken = False

    def show(self, text: str, blink: bool = False) -> None:
        if self.broken:
            raise OSError("line gone")
        self.shown.append((text, blink))


def test_writer_sends_changes_only_and_resends_after_the_strip_comes_back() -> None:
    strip = FlakyScreen()
    writer = LedWriter({"3": strip}, retry_s=2, refresh_s=60)
    writer.sync({"3": LedFrame("3号窗口")}, T0)
    writer.sync({"3": LedFrame("3号窗口")}, T0 + secs(1))
    assert strip.shown == [("3号窗口", False)]
    strip.broken = True
    assert writer.sync({"3": LedFrame("请A001号", True)}, T0 + secs(2))  # failing set changed
    assert writer.errors == {"3": "line gone"}
    strip.broken = False
    writer.sync({"3": LedFrame("请A001号")}, T0 + secs(3))  # too soon to retry
    assert strip.shown == [("3号窗口", False)]
    assert writer.sync({"3": LedFrame("请A001号")}, T0 + secs(4.5))
    assert strip.shown[-1] == ("请A001号", False) and not writer.errors
    writer.sync({"3": LedFrame("请A001号")}, T0 + secs(70))  # periodic refresh for a strip that lost power
    assert len(strip.shown) == 3


# ---- the bridge with a real broker and the LED simulator ------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = start_mosquitto(tmp_path)
    yield b
    b.stop()


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_bridge_drives_simulated_led_strips(broker: Broker) -> None:
    from hardware.led import SimulatedLed, open_led
    from hardware.modbus import reset_masters
    from hardware.sim import get_simulator, reset_simulators

    reset_simulators()
    reset_masters()
    sim = get_simulator("led", "line1")
    assert isinstance(sim, SimulatedLed)
    screens = {"3": open_led("sim:line1?unit=3"), "4": open_led("sim:line1?unit=4")}
    url = broker.device_url("ws-test")
    settings = DeviceSettings(kind="window-screen", device="ws-test", hall="demo", mqtt=url, token="demo-device-token")
    pub = Publisher(broker.url)
    pub.send(TOPICS.window("4"), state(3, "paused", text="暂停服务"), retain=True)
    bridge = WindowScreenBridge(settings, screens, names={"3": "3号窗口", "4": "4号窗口"}, blink_s=1.5, retry_s=0.3)
    bridge.start()
    try:
        eventually(lambda: sim.screen(4).text == "暂停服务")  # retained state at start
        eventually(lambda: sim.screen(3).text == "3号窗口")  # nothing known: the window's name
        now = dt.datetime.now(dt.UTC)
        pub.send(TOPICS.calls, call(10, "A012", "3", at=now))
        pub.send(TOPICS.window("3"), state(10, ticket="A012", text="请A012号"), retain=True)
        eventually(lambda: sim.screen(3).text == "请A012号" and sim.screen(3).blink)
        eventually(lambda: not sim.screen(3).blink)  # the blink ends, the ticket stays
        assert sim.screen(3).text == "请A012号"

        pub.send(TOPICS.window("3"), b"garbage")  # changes nothing
        sim.unplug()  # the RS-485 line goes away while the window is paused
        pub.send(TOPICS.window("3"), state(11, "paused", text="暂停服务"), retain=True)
        eventually(lambda: "3" in bridge.writer.errors)
        assert sim.screen(3).text == "请A012号"
        sim.replug()
        eventually(lambda: sim.screen(3).text == "暂停服务" and not bridge.writer.errors)
        assert bridge.model.malformed == 1
    finally:
        bridge.stop()
        pub.close()
        reset_simulators()
        reset_masters()
