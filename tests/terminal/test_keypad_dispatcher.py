"""The keypad bridge against a real Mosquitto and a real `hallq server`: the simulated keypad's
call-next calls a ticket at the dispatcher and its display shows it; a broker outage shows
网络故障 and the bridge recovers by itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from caller.keypad_bridge import NETWORK_FAULT, KeypadBinding, KeypadBridge
from hallq.bus import BusClient
from hallq.device import DeviceSettings
from tests.support.broker import Broker
from tests.support.dispatcher import Dispatcher

pytest.importorskip("hardware.keypad")
from hardware.keypad import SimulatedKeypad, open_keypad  # noqa: E402
from hardware.modbus import reset_masters  # noqa: E402
from hardware.sim import get_simulator, reset_simulators  # noqa: E402

WINDOW = "9"  # window 9 serves F (车驾管业务) and no other test uses it


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}") from None
        time.sleep(0.05)


@pytest.fixture
def keypad() -> Iterator[SimulatedKeypad]:
    reset_simulators()
    reset_masters()
    simulator = get_simulator("keypad", "window-9")
    assert isinstance(simulator, SimulatedKeypad)
    yield simulator
    reset_masters()
    reset_simulators()


@pytest.fixture
def bridge(hall: tuple[Broker, Dispatcher], keypad: SimulatedKeypad) -> Iterator[KeypadBridge]:
    broker, dispatcher = hall
    settings = DeviceSettings(
        kind="keypad-bridge", device="demo-device", token="demo-device-token", hall="demo",
        server=dispatcher.url, mqtt=broker.device_url("demo-device"),
    )  # fmt: skip
    bus = BusClient.for_device(settings, client_id="demo-device-keypad-test", max_backoff=2)
    plan = [KeypadBinding("sim:window-9?unit=4", WINDOW)]
    running = KeypadBridge(settings, plan, open_keypad, bus, reply_timeout_s=4.0, command_token=None)
    running.start()
    yield running
    running.stop()


def window(dispatcher: Dispatcher) -> dict[str, Any]:
    response = httpx.get(f"{dispatcher.api}/halls/demo/windows/{WINDOW}", headers=dispatcher.headers, timeout=10)
    return dict(response.json())


def test_keypad_call_next_calls_a_ticket_and_shows_it(
    hall: tuple[Broker, Dispatcher], keypad: SimulatedKeypad, bridge: KeypadBridge
) -> None:
    broker, dispatcher = hall
    dispatcher.login(f"clerk{WINDOW}", WINDOW)  # the clerk's login opens the window for the day
    body = {"service": "F", "channel": "kiosk"}
    ticket = httpx.post(f"{dispatcher.api}/halls/demo/tickets", json=body, headers=dispatcher.headers, timeout=10)
    number = ticket.json()["number"]
    wait_for(lambda: keypad.display_text(4) == "空闲 按叫号键", "the retained window state on the display")

    keypad.press("call-next", unit=4)
    wait_for(lambda: number in keypad.display_text(4), f"{number} on the keypad")
    assert window(dispatcher)["ticket"]["number"] == number
    wait_for(lambda: keypad.display_text(4) == f"当前 {number}", "the window state after the call")

    keypad.press("recall", unit=4)  # nothing changes at the window, so the reply stays on the display
    wait_for(lambda: keypad.display_text(4) == "已重呼", "the recall reply")

    broker.stop()
    wait_for(lambda: not bridge.bus.connected, "the bridge to notice the broker is gone")
    keypad.press("finish", unit=4)
    wait_for(lambda: keypad.display_text(4) == NETWORK_FAULT, "网络故障 while the broker is away")
    assert window(dispatcher)["ticket"]["number"] == number, "a press during the outage changed nothing"

    broker.start()
    wait_for(lambda: keypad.display_text(4) == f"当前 {number}", "the display back after the broker returns", 30)
    keypad.press("finish", unit=4)
    wait_for(lambda: (window(dispatcher)["ticket"] or {}).get("status", "done") == "done", "the finish")
    wait_for(lambda: keypad.display_text(4) == "空闲 按叫号键", "the idle line after finish")


def test_hallq_keypad_bridge_command_over_a_serial_line(hall: tuple[Broker, Dispatcher], tmp_path: Path) -> None:
    """The real command, its keypad on a serial line (TCP-tunnelled, as pyserial's socket://)."""
    from hardware.sim.endpoints import SocketEndpoint

    broker, dispatcher = hall
    dispatcher.login("clerk5", "5")
    body = {"service": "K", "channel": "kiosk"}  # window 5 serves K; window 4 (also K) stays closed
    number = httpx.post(f"{dispatcher.api}/halls/demo/tickets", json=body, headers=dispatcher.headers).json()["number"]
    simulator = SimulatedKeypad()
    endpoint = SocketEndpoint(simulator)
    command = [
        sys.executable, "-m", "hallq.cli", "keypad-bridge", "--demo", "--hall", "demo", "--server", dispatcher.url,
        "--mqtt", broker.device_url("demo-device"), "--keypad", f"{endpoint.url}?unit=2", "--window", "5",
    ]  # fmt: skip
    log_path = tmp_path / "bridge.log"
    with log_path.open("w") as log:
        bridge = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: simulator.display_text(2) == "空闲 按叫号键", "the bridge's first line", 30)
        simulator.press("call-next", unit=2)
        # the reply (请K001号 …) or, when the window's new state overtakes it, 当前 K001
        wait_for(lambda: number in simulator.display_text(2), f"{number} on the keypad")
        ticket = httpx.get(f"{dispatcher.api}/halls/demo/windows/5", headers=dispatcher.headers).json()["ticket"]
        assert ticket["number"] == number and ticket["status"] == "called"
    finally:
        bridge.send_signal(signal.SIGTERM)
        code = bridge.wait(15)
        endpoint.close()
    assert code == 0, log_path.read_text()[-3000:]
