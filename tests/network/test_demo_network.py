"""`hallq demo --network` comes up (a hub on PostgreSQL, four halls shipping to it, the simulator
busy) and its terminal cuts and restores the town's line: the hub stops hearing from the town (its
events wait in the town's outbox, /city shows it offline) and, once the line is back, holds them all."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from hallq.demo_network import CUT_HALL, HALLS
from tests.network.halls import wait_until
from tests.support.postgres import fresh_pg_database
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_pages import SCREENS

pytestmark = [pytest.mark.pg, pytest.mark.slow]
OFFLINE_WAIT_S = 120.0  # the demo's hub counts a hall offline 15 s after its last heartbeat (a city's: 60 s)


class Demo:
    def __init__(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}
        argv = [sys.executable, "-m", "hallq.cli", "demo", "--network", "--no-history", "--data-dir", str(tmp_path)]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = 240) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def arrived() -> bool:
            with contextlib.suppress(queue.Empty):
                line = self.lines.get(timeout=0.5)
                self.seen.append(line)
                if match := re.search(pattern, line):
                    found.append(match)
            assert self.proc.poll() is None or found, f"the demo exited: {self.seen[-20:]}"
            return bool(found)

        wait_until(arrived, f"the demo to print {pattern!r}", timeout)
        return found[0]

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with fresh_pg_database():  # skips, saying why, where no PostgreSQL answers
        running = Demo(tmp_path)
        try:
            yield running
        finally:
            running.stop()


def test_the_network_demo_comes_up_and_cuts_and_restores_a_towns_line(demo: Demo) -> None:
    hub = demo.expect(r"/city \(log in as admin / demo\): (http://\S+)/city")[1]
    offices = {hall.hall: demo.expect(rf"\({hall.hall}, \w+\): back office (http://\S+)/office")[1] for hall in HALLS}
    town = offices[CUT_HALL]
    demo.expect(r"type c and Enter to cut it")
    login = httpx.post(f"{hub}/api/v1/auth/login", json={"username": "admin", "password": "demo"}, timeout=30)
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def city() -> dict[str, dict[str, Any]]:
        answer = httpx.get(f"{hub}/api/v1/hub/live", headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return {row["hall"]: row for row in answer.json()["halls"]}

    def town_seq() -> int:
        return int(httpx.get(f"{town}/api/v1/halls/{CUT_HALL}/board", timeout=30).json()["seq"])

    wait_until(lambda: all(r["online"] and r["acked_seq"] > 0 for r in city().values()) and len(city()) == 4,
               "every hall online at the hub with events shipped")  # fmt: skip
    rows = city()
    assert [(r["hall"], r["kind"], r["parent"]) for r in rows.values()] == [
        ("jurong", "center", None), ("huayang", "sub_center", "jurong"),
        ("baohua", "town", "huayang"), ("xiashu", "town", "huayang"),
    ]  # fmt: skip
    assert httpx.get(f"{hub}/city", timeout=30).status_code == 200

    demo.type("c")
    demo.expect(r"line cut: baohua")
    cut_at = city()[CUT_HALL]["acked_seq"]
    wait_until(lambda: town_seq() > cut_at + 5, "the cut-off town to go on working")
    wait_until(lambda: not city()[CUT_HALL]["online"], "the hub to count the town offline", OFFLINE_WAIT_S)
    offline = city()[CUT_HALL]
    wait_until(lambda: town_seq() > offline["acked_seq"] + 5, "the town to go on working, still cut off")
    assert city()[CUT_HALL]["acked_seq"] == offline["acked_seq"], "nothing crossed the cut line"
    assert offline["offline_since"] is not None and offline["behind_s"] is not None
    assert offline["events_behind"] is not None, "the uplink said how far it had come before the cut"
    assert city()["xiashu"]["online"], "the other town's line is its own"
    screenshot_city(hub, "offline")

    demo.type("r")
    demo.expect(r"line restored: baohua")
    held = town_seq()
    wait_until(lambda: city()[CUT_HALL]["online"] and city()[CUT_HALL]["acked_seq"] >= held
               and city()[CUT_HALL]["events_behind"] == 0,
               "the town back online with every event that waited")  # fmt: skip
    demo.type("q")
    assert demo.proc.wait(60) == 0


def screenshot_city(hub: str, name: str) -> None:
    """/city as a supervisor sees it now (artifacts/screens/city-NAME.png), where Chromium is installed."""
    if CHROMIUM is None:
        return
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai")
        page.goto(f"{hub}/city")
        page.fill("#username", "admin")
        page.fill("#password", "demo")
        page.click("#login-button")
        page.wait_for_selector(f"#halls tr[data-hall='{CUT_HALL}'] .offline")
        page.wait_for_selector("body[data-ranked]")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"city-{name}.png"), full_page=True)
        browser.close()
