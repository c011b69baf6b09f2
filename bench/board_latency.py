"""Hall board: call made → board redrawn, p50/p99, with 50 boards running.

    xvfb-run -a -s "-screen 0 1920x1920x24" .venv/bin/python bench/board_latency.py [--boards 50] [--calls 100]

Starts a real Mosquitto (config/mosquitto.conf) and a real dispatcher (`hallq server --demo`,
SQLite), issues tickets, then makes `--calls` call-next requests over HTTP, one after another,
rotating over the windows. For each call it measures, from the moment the request is sent:

- the real Kivy board (`hallq board` in its own process, 1920×1080 under Xvfb): until the frame
  that shows the new number has been flipped to the screen (`--draw-log`);
- `--boards - 1` headless boards (the same BoardModel + BoardFeed + MQTT link, no Kivy, one MQTT
  connection each, in this process): until the presenter's current call is the new number;
- "all boards": until the last of the 50 has it.

The next call is made once every board has the previous one (or after 10 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from display.board.feed import BoardFeed  # noqa: E402
from display.board.model import BoardModel  # noqa: E402
from hallq.device import DeviceSettings  # noqa: E402
from tests.support.broker import start_mosquitto  # noqa: E402
from tests.support.dispatcher import Dispatcher, start_dispatcher  # noqa: E402

WINDOWS = [str(n) for n in range(1, 12)]  # 12 serves only Q (综合出件), which kiosks do not issue
SERVICES = "ABCDEFGHJKL"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class HeadlessBoard:
    """A board without a screen: BoardFeed → BoardModel on its own thread; notes when each ticket shows."""

    def __init__(self, settings: DeviceSettings) -> None:
        self.model = BoardModel(hall_name="bench")
        self.first_seen: dict[str, float] = {}
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.feed = BoardFeed(settings, self.model, post=self._jobs.put, on_change=self._changed)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.feed.start()

    def stop(self) -> None:
        self.feed.stop()
        self._jobs.put(None)

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                self.feed.tick()
                continue
            if job is None:
                return
            job()

    def _changed(self) -> None:
        view = self.model.view(dt.datetime.now(dt.UTC))
        current = view.current.ticket if view.current else ""
        if current and current not in self.first_seen:
            self.first_seen[current] = time.time()


def issue_tickets(dispatcher: Dispatcher, per_service: int) -> None:
    with httpx.Client(timeout=10) as client:
        for i in range(per_service):
            for service in SERVICES:
                response = client.post(
                    f"{dispatcher.api}/halls/demo/tickets",
                    json={"service": service, "channel": "kiosk"},
                    headers={**dispatcher.headers, "Idempotency-Key": f"bench-{service}-{i}"},
                )
                response.raise_for_status()


def kivy_entries(path: Path) -> dict[str, dict[str, float]]:
    """The Kivy board's draw log: per ticket, when its message arrived, the model changed, the frame flipped."""
    entries: dict[str, dict[str, float]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            entries.setdefault(entry["ticket"], entry)
    return entries


def kivy_draws(path: Path) -> dict[str, float]:
    return {ticket: entry["drawn_at"] for ticket, entry in kivy_entries(path).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hallq-board-bench-") as folder:
        work = Path(folder)
        broker = start_mosquitto(work)
        dispatcher = start_dispatcher(work, mqtt_url=broker.url)
        boards: list[HeadlessBoard] = []
        kivy: subprocess.Popen[bytes] | None = None
        try:
            issue_tickets(dispatcher, per_service=args.calls // 4)
            clerks = {w: dispatcher.clerk_headers(w) for w in WINDOWS}
            for n in range(args.boards - 1):
                device = f"bench-board-{n}"
                settings = DeviceSettings(
                    kind="board", device=device, hall="demo", server=dispatcher.url,
                    mqtt=broker.device_url(device), token="demo-device-token",
                )  # fmt: skip
                board = HeadlessBoard(settings)
                board.start()
                boards.append(board)
            draw_log = work / "draws.jsonl"
            kivy_device = "bench-board-kivy"
            kivy = subprocess.Popen(
                [
                    sys.executable, "-m", "hallq.cli", "board", "--windowed", "--size", "1920x1080",
                    "--hall", "demo", "--device", kivy_device, "--token", "demo-device-token",
                    "--mqtt", broker.device_url(kivy_device), "--server", dispatcher.url, "--draw-log", str(draw_log),
                ],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (
                all(b.model.has_state and b.model.broker_connected for b in boards) and draw_log.exists()
            ):
                time.sleep(0.2)
            time.sleep(2)
            sent: dict[str, float] = {}
            with httpx.Client(timeout=10) as client:
                for i in range(args.calls):
                    window = WINDOWS[i % len(WINDOWS)]
                    at = time.time()
                    response = client.post(
                        f"{dispatcher.api}/halls/demo/windows/{window}/call-next",
                        headers={**clerks[window], "Idempotency-Key": f"bench-call-{i}"},
                    )
                    if response.status_code != 200:
                        continue  # nobody waiting for this window's services any more
                    ticket = response.json()["ticket"]["number"]
                    sent[ticket] = at
                    wait_until = time.monotonic() + 10
                    while time.monotonic() < wait_until:
                        if all(ticket in b.first_seen for b in boards) and ticket in kivy_draws(draw_log):
                            break
                        time.sleep(0.005)
            time.sleep(0.5)
            report(sent, boards, kivy_draws(draw_log), args.boards)
            inside = [(e["drawn_at"] - e["received_at"]) * 1000 for t, e in kivy_entries(draw_log).items() if t in sent]
            if inside:
                print(
                    f"{'Kivy: MQTT in→flip':20s} p50 {statistics.median(inside):7.1f} ms  "
                    f"p99 {percentile(inside, 0.99):7.1f} ms  max {max(inside):7.1f} ms  (n={len(inside)})"
                )
        finally:
            for board in boards:
                board.stop()
            if kivy is not None:
                kivy.terminate()
                kivy.wait(10)
            dispatcher.stop()
            broker.stop()
    return 0


def report(sent: dict[str, float], boards: list[HeadlessBoard], drawn: dict[str, float], total: int) -> None:
    kivy_ms = [(drawn[t] - at) * 1000 for t, at in sent.items() if t in drawn]
    headless_ms = [(b.first_seen[t] - at) * 1000 for b in boards for t, at in sent.items() if t in b.first_seen]
    last_ms = []
    for ticket, at in sent.items():
        times = [b.first_seen.get(ticket) for b in boards] + [drawn.get(ticket)]
        if all(t is not None for t in times):
            last_ms.append((max(t for t in times if t is not None) - at) * 1000)
    missed = sum(1 for b in boards for t in sent if t not in b.first_seen) + sum(1 for t in sent if t not in drawn)
    print(f"machine: {platform.machine()} {platform.python_version()}, {total} boards, {len(sent)} calls")
    for name, values in (("Kivy board redrawn", kivy_ms), ("headless boards", headless_ms), ("all 50", last_ms)):
        if values:
            print(
                f"{name:20s} p50 {statistics.median(values):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms"
                f"  max {max(values):7.1f} ms  (n={len(values)})"
            )
    print(f"missed (never shown): {missed}")


if __name__ == "__main__":
    sys.exit(main())
