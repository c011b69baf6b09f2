"""Window terminal and keypad bridge: how long a clerk waits after pressing call-next.

    .venv/bin/python bench/terminal_latency.py [--calls 200]

Against a real Mosquitto (config/mosquitto.conf) and a real `hallq server --demo` (SQLite), both
started here on free ports:
- terminal: `TerminalApi.call_next` (the HTTP POST the terminal's worker thread makes, with its
  Idempotency-Key) → the called ticket back; the screen shows it on the next frame;
- keypad: a key press on the simulated keypad (real Modbus RTU codec, in-process line) → the bridge
  polls it, publishes the WindowCommand, the dispatcher replies over MQTT → the called ticket's
  number is on the keypad's display.
Numbers are printed; record them in bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from caller.keypad_bridge import KeypadBinding, KeypadBridge  # noqa: E402
from caller.terminal.api import TerminalApi  # noqa: E402
from hallq.bus import BusClient  # noqa: E402
from hallq.device import DeviceSettings  # noqa: E402
from hardware.keypad import SimulatedKeypad, open_keypad  # noqa: E402
from hardware.sim import get_simulator  # noqa: E402
from tests.support.broker import start_mosquitto  # noqa: E402
from tests.support.dispatcher import start_dispatcher  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms  p99 {p99 * 1000:.1f} ms  max {ordered[-1] * 1000:.1f} ms"


def issue(api: str, headers: dict[str, str], service: str, count: int) -> None:
    with httpx.Client(timeout=10) as client:
        for _ in range(count):
            response = client.post(f"{api}/halls/demo/tickets", json={"service": service, "channel": "kiosk"},
                                   headers=headers)  # fmt: skip
            response.raise_for_status()


def bench_terminal(dispatcher_url: str, api: str, headers: dict[str, str], calls: int) -> list[float]:
    issue(api, headers, "Q", calls)  # window 12 alone serves Q (综合出件, no daily quota)
    terminal = TerminalApi(dispatcher_url, "demo", "12", device_token="demo-device-token")
    terminal.login("clerk12", "demo")
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        ticket = terminal.call_next(uuid.uuid4().hex)
        samples.append(time.perf_counter() - started)
        assert ticket is not None
    terminal.close()
    return samples


def bench_keypad(dispatcher_url: str, api: str, headers: dict[str, str], mqtt: str, calls: int) -> list[float]:
    issue(api, headers, "F", calls)  # windows 9 and 10 serve F (quota 150); only 9 opens
    httpx.post(f"{api}/auth/login", json={"username": "clerk9", "password": "demo", "window": "9"}).raise_for_status()
    simulator = get_simulator("keypad", "bench")
    assert isinstance(simulator, SimulatedKeypad)
    settings = DeviceSettings(kind="keypad-bridge", device="demo-device", token="demo-device-token",
                              server=dispatcher_url, mqtt=mqtt)  # fmt: skip
    bus = BusClient.for_device(settings, client_id="demo-device-bench")
    bridge = KeypadBridge(settings, [KeypadBinding("sim:bench?unit=1", "9")], open_keypad, bus, 5.0, None)
    bridge.start()
    bus.wait_connected(10)
    samples = []
    try:
        for i in range(1, calls + 1):
            number = f"F{i:03d}"
            started = time.perf_counter()
            simulator.press("call-next", unit=1)
            while number not in simulator.display_text(1):
                if time.perf_counter() - started > 10:
                    raise RuntimeError(f"{number} never reached the keypad: {simulator.display_text(1)!r}")
                time.sleep(0.001)
            samples.append(time.perf_counter() - started)
    finally:
        bridge.stop()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=140, help="at most 150 (service F's daily quota)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_mosquitto(Path(tmp))
        dispatcher = start_dispatcher(Path(tmp), mqtt_url=broker.url)
        try:
            terminal = bench_terminal(dispatcher.url, dispatcher.api, dispatcher.headers, args.calls)
            print(f"terminal call-next (HTTP round trip), {len(terminal)} calls: {percentiles(terminal)}")
            keypad = bench_keypad(dispatcher.url, dispatcher.api, dispatcher.headers,
                                  broker.device_url("demo-device"), args.calls)  # fmt: skip
            print(
                f"keypad press → ticket on its display (Modbus poll + MQTT), {len(keypad)} calls: {percentiles(keypad)}"
            )
        finally:
            dispatcher.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
