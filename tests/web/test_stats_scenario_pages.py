"""/office/stats over the hand-computed day of tests/stats/scenario.py (real waits of 10 to 46 minutes,
a no-show, a transfer, ratings), served by uvicorn in a thread so the scenario can run at its own
clock: the page must show exactly the numbers worked out by hand in tests/stats/test_scenario.py.
Screenshot: artifacts/screens/web-stats-scenario.png."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from hallq.config import HallConfig
from server.app import create_app
from server.cases.service import CaseService
from server.cases.uploads import FileStore
from server.engine import commands as c
from server.runtime import utcnow
from server.usecases.common import nothing
from tests.server.conftest import demo_config, make_settings
from tests.stats.cases_scenario import the_cases
from tests.stats.scenario import SHANGHAI, Hall, small_hall, the_day
from tests.support.ports import free_port
from tests.web.test_stats_pages import CHROMIUM, OFFICE_SCREEN, log_in, shot

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")
T = TypeVar("T")


@dataclass
class Served:
    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run in the server's event loop (where the dispatcher lives) and wait for the result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)


@contextlib.contextmanager
def served(tmp_path: Path, config: HallConfig | None = None) -> Iterator[Served]:
    """The small hall of tests/stats/scenario.py (or `config`) behind uvicorn, in a thread with its own
    event loop."""
    settings = make_settings(f"sqlite:///{tmp_path / 'hallq.sqlite3'}", config or small_hall())
    app = create_app(settings, start_bus=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=_serve, args=(loop, server), daemon=True)
    thread.start()
    try:
        it = Served(f"http://127.0.0.1:{port}", app, loop)
        it.run(_started(server))
        yield it
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _serve(loop: asyncio.AbstractEventLoop, server: uvicorn.Server) -> None:
    asyncio.set_event_loop(loop)
    loop.run_until_complete(server.serve())
    leftover = asyncio.all_tasks(loop)  # sse-starlette's shutdown watcher outlives the server
    for task in leftover:
        task.cancel()
    if leftover:
        loop.run_until_complete(asyncio.wait(leftover))
    loop.close()


async def _started(server: uvicorn.Server) -> None:
    async with asyncio.timeout(30):
        while not server.started:
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def scenario_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("stats-scenario")) as it:
        it.run(the_day(Hall(it.app.state.dispatcher)))
        assert it.app.state.stats_folder.wait_folded(30)
        yield it


@pytest.fixture
def page(scenario_server: Served) -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport=OFFICE_SCREEN, locale="zh-CN", timezone_id="Asia/Shanghai")
        yield context.new_page()
        browser.close()


def cells(page: Any, table: str, key: str) -> list[str]:
    return [td.inner_text() for td in page.query_selector_all(f"#table-{table} tr[data-key='{key}'] td")]


def test_the_day_on_the_page_is_the_day_worked_out_by_hand(scenario_server: Served, page: Any) -> None:
    log_in(page, scenario_server.url, "/office/stats")
    page.wait_for_selector("body[data-loaded]")
    page.fill("#from", "2036-12-02")
    page.fill("#to", "2036-12-02")
    page.click("#query")
    page.wait_for_selector("body[data-loaded='2036-12-02/2036-12-02']")
    # waits: 600, 600, 900, 2100, 2760, 1860 s; service: 480, 840, 1200, 540, 2100 s (test_scenario.py)
    kpis = page.inner_text("#kpis").split("\n")
    assert kpis == [
        "取号",
        "8",
        "办结",
        "5",
        "平均等候",
        "24分30秒",
        "目标时间内叫号",
        "33.3%",
        "好评率",
        "50.0%",
        "差评",
        "1",
    ]
    header = ["办结", "平均等候", "P90等候", "平均办理", "评价数", "好评率", "差评"]
    assert [th.inner_text() for th in page.query_selector_all("#table-window th")][1:] == header
    assert cells(page, "window", "1") == ["1号窗口", "3", "22分45秒", "35分00秒", "12分20秒", "1", "100.0%", "0"]
    assert cells(page, "window", "2") == ["2号窗口", "2", "28分00秒", "46分00秒", "24分30秒", "1", "0.0%", "1"]
    assert cells(page, "window", "total") == ["合计", "5", "24分30秒", "46分00秒", "17分12秒", "2", "50.0%", "1"]
    assert cells(page, "clerk", "clerk2") == ["clerk2", "2", "28分00秒", "46分00秒", "24分30秒", "1", "0.0%", "1"]
    assert not page.query_selector("#table-window tr[data-key='']")  # （未到窗口）: none of these columns
    bins = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-wait-bins')).getOption().series[0].data"
    )
    assert bins == [0, 2, 1, 0, 0, 2, 1, 0, 0, 0]  # 5-10: 600, 600; 10-15: 900; 30-45: 2100, 1860; 45-60: 2760
    hour_waits = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-hour-waits')).getOption().series"
        ".map((s) => s.data.filter((v) => v !== null && v !== undefined))"
    )
    assert hour_waits == [[17.5, 38.5], [35, 46]]  # 09时: mean 1050 s, p90 2100 s; 10时: 2310 s, 2760 s
    queue = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-hour-queue')).getOption().series"
        ".map((s) => s.data.slice(0, 4))"
    )
    assert queue == [[0.02, 2, 1.67, 1], [0, 2.02, 0.62, 0]]  # open windows, people waiting
    service_header = ["取号", "办结", "平均等候", "P90等候", "目标内叫号", "好评率", "差评"]
    assert [th.inner_text() for th in page.query_selector_all("#table-service th")][1:] == service_header
    assert cells(page, "service", "A") == ["社保业务", "5", "2", "18分20秒", "35分00秒", "66.7%", "100.0%", "0"]
    assert cells(page, "service", "B") == ["医保业务", "3", "3", "30分40秒", "46分00秒", "0.0%", "0.0%", "1"]
    assert cells(page, "service", "total") == ["合计", "8", "5", "24分30秒", "46分00秒", "33.3%", "50.0%", "1"]
    assert cells(page, "cases", "total") == ["合计", "0", "0", "0", "0", "—", "0", "—", "0"]  # no case that day
    for chart in ("chart-hour-counts", "chart-hour-waits", "chart-hour-queue", "chart-wait-bins", "chart-days"):
        page.wait_for_selector(f"#{chart}[data-drawn='1'] canvas")
    shot(page, "stats-scenario", full_page=True)


def test_the_cases_on_the_page_are_the_cases_worked_out_by_hand(tmp_path: Path, page: Any) -> None:
    """tests/stats/cases_scenario.py; the numbers of tests/stats/test_cases.py (2026-11-02 to 11-13)."""
    config = demo_config()
    with served(tmp_path, config) as it:
        store = it.app.state.dispatcher.store
        the_cases(CaseService(store.engine, config, FileStore(tmp_path / "files"), b"k" * 32))
        log_in(page, it.url, "/office/stats")
        page.wait_for_selector("body[data-loaded]")
        page.fill("#from", "2026-11-02")
        page.fill("#to", "2026-11-13")
        page.click("#query")
        page.wait_for_selector("body[data-loaded='2026-11-02/2026-11-13']")
        assert page.inner_text("#case-kpis").split("\n") == [
            "办件收件", "6", "即办件占比", "16.7%", "容缺受理", "2", "按期受理率", "60.0%", "办结", "4",
            "按时办结率", "75.0%", "逾期", "4",
        ]  # fmt: skip
        assert "bad" in page.get_attribute("#case-kpis .kpi:last-child .value", "class")
        assert cells(page, "cases", "C") == ["不动产登记", "3", "0", "1", "3", "33.3%", "3", "66.7%", "3"]
        assert cells(page, "cases", "E") == ["户籍业务", "2", "0", "1", "1", "100.0%", "0", "—", "1"]
        assert cells(page, "cases", "A") == ["社保业务", "1", "1", "0", "1", "100.0%", "1", "100.0%", "0"]
        assert cells(page, "cases", "total") == ["合计", "6", "1", "2", "5", "60.0%", "4", "75.0%", "4"]
        assert not page.query_selector("#table-service tr[data-key='C']")  # cases only: no queue numbers
        shot(page, "stats-cases", full_page=True)


async def busy_half_hour(hall: Hall) -> None:
    """The busy morning of tests/stats/test_live.py, ending now: 25 citizens for 社保 from 30 minutes ago,
    one for 医保 (target 10 min), one window calling, the other paused 25 minutes ago."""
    now = utcnow()

    async def at(minutes_ago: float, command: Any) -> None:
        await hall.dispatcher.execute("demo", command, nothing, now=now - dt.timedelta(minutes=minutes_ago))

    await at(31, c.OpenWindow(window="1", clerk="clerk1"))
    await at(31, c.OpenWindow(window="2", clerk="clerk2"))
    for i in range(25):
        await at(30 - i / 6, c.IssueTicket(service="A", ticket_id=f"busy-a-{i}", access="k" * 16))
    await at(29, c.IssueTicket(service="B", ticket_id="busy-b-0", access="k" * 16))
    await at(25, c.PauseWindow(window="2", reason="会议"))
    await at(24, c.CallNext(window="1"))


def test_live_page_shows_every_alert(tmp_path: Path, page: Any) -> None:
    if dt.datetime.now(SHANGHAI).hour == 0:
        pytest.skip("the half hour before now would start on the hall's previous day")
    with served(tmp_path) as it:
        it.run(busy_half_hour(Hall(it.app.state.dispatcher)))
        log_in(page, it.url, "/office/live")
        page.wait_for_selector("#alerts li.window_paused")
        alerts = [li.inner_text() for li in page.query_selector_all("#alerts li")]
        assert len(alerts) == 4, alerts
        # minutes as they stand when the page draws (a slow machine may have moved on by one)
        assert re.fullmatch("社保业务最长已等候(29|30)分钟，超过目标20分钟。", alerts[0]), alerts[0]
        assert alerts[1] == "社保业务每个开放窗口约24人等候，请增开窗口。"
        assert re.fullmatch("医保业务最长已等候(29|30)分钟，超过目标10分钟。", alerts[2]), alerts[2]
        assert re.fullmatch("2号窗口已暂停服务(25|26)分钟（超过15分钟）。", alerts[3]), alerts[3]
        row_a = page.query_selector("#services tr[data-service='A']")
        assert "over" in row_a.get_attribute("class") and row_a.query_selector(".waiting").inner_text() == "24"
        assert "alert" in page.get_attribute("#windows .window[data-window='2']", "class")
        shot(page, "live-alerts")
        page.goto("about:blank")  # the stream ends before the server stops
