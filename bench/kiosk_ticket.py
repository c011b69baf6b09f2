"""Tap-to-ticket-printed time of the kiosk: from the finger leaving a service tile to the last
byte of the ticket reaching the (simulated) ESC/POS printer, through the real Kivy app, the real
dispatcher (`hallq server --demo`, SQLite) and the hardware/ printer driver + simulator.

    xvfb-run -a -s "-screen 0 1920x1920x24" .venv/bin/python bench/kiosk_ticket.py [--tickets 60]

Also measures the same path without the UI (presenter + worker threads only), to show what the
window adds. Prints p50/p90/p99/max in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<28} n={len(ms):<4} p50={percentile(ms, 50):7.1f} ms  p90={percentile(ms, 90):7.1f} ms  "
        f"p99={percentile(ms, 99):7.1f} ms  max={max(ms):7.1f} ms  mean={statistics.mean(ms):7.1f} ms"
    )


class PrintClock:
    """Wraps the printer: notes when each ticket's bytes have all been written."""

    def __init__(self, printer: Any) -> None:
        self.printer = printer
        self.done = threading.Event()
        self.at = 0.0

    def print_ticket(self, job: Any) -> Any:
        outcome = self.printer.print_ticket(job)
        self.at = time.perf_counter()
        self.done.set()
        return outcome

    def paper(self) -> str:
        return str(self.printer.paper())

    def close(self) -> None:
        self.printer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=60, help="tickets per measurement (default 60)")
    args = parser.parse_args()

    from hallq.device import DeviceSettings
    from kiosk.presenter import KioskOptions
    from kiosk.runtime import build_runtime
    from tests.support.dispatcher import start_dispatcher

    dispatcher = start_dispatcher(Path(tempfile.mkdtemp(prefix="kiosk-bench-")))
    try:
        mqtt = f"mqtt://127.0.0.1:{dispatcher.embedded_mqtt_port}"
        settings = DeviceSettings(
            kind="kiosk",
            server=dispatcher.url,
            mqtt=mqtt,
            hall="demo",
            device="kiosk-bench",
            token="demo-device-token",
            demo=True,
            printer="sim:bench",
            idcard="sim:bench",
            scanner="sim:bench",
        )
        runtime = build_runtime(settings, {"speech": False})
        runtime.options = KioskOptions(device="kiosk-bench", refresh_s=3600)
        clock = PrintClock(runtime.printer)
        runtime.printer = clock
        from tests.kiosk.ui_driver import KioskDriver

        driver = KioskDriver(runtime)
        driver.wait_for(lambda: driver.presenter.hall is not None, what="the hall")
        services = [t.name for t in driver.presenter.current.tiles if t.open_now]
        ui_times: list[float] = []
        ticket_screen = driver.app.root.ids.sm.get_screen("ticket")
        from kivy.tests.common import UnitTestTouch

        for i in range(args.tickets):
            tile = driver.find(services[i % len(services)])
            x, y = tile.to_window(*tile.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            driver.pump(0.02)
            clock.done.clear()
            start = time.perf_counter()
            touch.touch_up()
            while not clock.done.is_set():
                driver.pump(0)
            ui_times.append(clock.at - start)
            driver.wait_for(lambda: driver.screen == "ticket" and not ticket_screen.printing)
            driver.presenter.go_home()
            driver.pump(0.05)

        presenter_times: list[float] = []
        for i in range(args.tickets):
            clock.done.clear()
            start = time.perf_counter()
            driver.presenter.choose_service(driver.presenter.hall.services[i % len(services)].code)
            while not clock.done.is_set():
                driver.pump(0)
            presenter_times.append(clock.at - start)
            driver.wait_for(lambda: driver.presenter.pending is None and driver.screen == "ticket")
            driver.presenter.go_home()
        driver.stop()
        print(summary("tap → printed (Kivy UI)", ui_times))
        print(summary("presenter → printed", presenter_times))
    finally:
        dispatcher.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
