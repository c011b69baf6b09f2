"""The supervisor's /office/stats and /office/live in headless Chromium against a real dispatcher with
served and rated tickets: the charts are drawn (their colours are on the canvases), the tables hold
the API's numbers, the exports download, and the live page follows the hall by push. Screenshots go
to artifacts/screens/web-stats-*.png and web-live-*.png (1366×768, an office screen)."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.conftest import CHROMIUM
from tests.web.test_pages import SCREENS

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")
OFFICE_SCREEN = {"width": 1366, "height": 768}
# (service, window, score): served one after another, so each window's numbers are known
SERVED = [("A", "1", 5), ("A", "1", 4), ("B", "1", None), ("A", "2", 2), ("G", "11", 5), ("G", "11", None)]
HALL_ZONE = ZoneInfo("Asia/Shanghai")  # the demo hall's
PUSH_TIMEOUT_MS = 3000  # "within a second or two": a commit, the coalescing (0.25 s), the page's redraw


def hall_today() -> dt.date:
    """The demo hall's day: from 16:00 UTC on it is already tomorrow in Beijing."""
    return dt.datetime.now(HALL_ZONE).date()


def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for something another process does (the statistics fold about a second after a commit)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("web-stats"))
    try:
        serve_and_rate(server)
        yield server
    finally:  # also when the set-up fails: a dispatcher left running outlives the test run
        server.terminate()


def serve_and_rate(d: Dispatcher) -> None:
    api = f"{d.api}/halls/demo"
    clerks = {window: d.clerk_headers(window) for window in {w for _, w, _ in SERVED}}
    for n, (service, window, score) in enumerate(SERVED):
        issued = httpx.post(
            f"{api}/tickets", headers={**d.headers, "Idempotency-Key": f"served-{n}"},
            json={"service": service, "channel": "kiosk"},
        )  # fmt: skip
        assert issued.status_code == 201, issued.text
        called = httpx.post(f"{api}/windows/{window}/call-next", headers=clerks[window])
        assert called.status_code == 200 and called.json()["ticket"]["id"] == issued.json()["id"], called.text
        assert httpx.post(f"{api}/windows/{window}/finish", headers=clerks[window]).status_code == 200
        if score is not None:
            key = parse_qs(urlsplit(issued.json()["status_url"]).query)["k"][0]
            rated = httpx.post(f"{api}/tickets/{issued.json()['id']}/evaluation?k={key}", json={"score": score})
            assert rated.status_code in (200, 201), rated.text
    headers = {"Authorization": f"Bearer {d.login('supervisor')}"}
    until(lambda: month_stats(d, headers, "day")["total"]["rating"]["count"] == 4)  # folded


def month_stats(d: Dispatcher, headers: dict[str, str], by: str) -> dict[str, Any]:
    """This month so far, as the page asks for it by default (the hall's days, whatever this machine's zone)."""
    day = hall_today().isoformat()
    answer = httpx.get(f"{d.api}/halls/demo/stats?from={day[:8]}01&to={day}&by={by}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=OFFICE_SCREEN, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)  # fmt: skip
    yield context.new_page()
    context.close()


def log_in(page: Any, url: str, path: str, username: str = "supervisor") -> None:
    page.goto(f"{url}{path}")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("#login-button")


def shot(page: Any, name: str, full_page: bool = False) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"web-{name}.png"), full_page=full_page)


# Share of a canvas's pixels within a small distance of a colour: the series drawn in that colour.
COLOUR_SHARE = """([id, hex]) => {
  const canvas = document.querySelector(`#${id} canvas`);
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let hits = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 200 && want.every((v, k) => Math.abs(data[i + k] - v) < 12)) hits += 1;
  }
  return hits / (data.length / 4);
}"""


def test_stats_page_draws_the_numbers_of_the_api(dispatcher: Dispatcher, page: Any) -> None:
    # TZ of the browser and of the demo hall agree (Asia/Shanghai): "this month" is the same days
    headers = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    log_in(page, dispatcher.url, "/office/stats")
    page.wait_for_selector("body[data-loaded]")
    for chart in ("chart-hour-counts", "chart-hour-waits", "chart-wait-bins", "chart-days"):
        page.wait_for_selector(f"#{chart}[data-drawn='1'] canvas")
    # the series are on the canvases in their colours (not an empty frame with axes only)
    assert page.evaluate(COLOUR_SHARE, ["chart-hour-counts", "#2563eb"]) > 0.001  # 取号 bars
    assert page.evaluate(COLOUR_SHARE, ["chart-hour-counts", "#16a34a"]) > 0.001  # 办结 bars
    assert page.evaluate(COLOUR_SHARE, ["chart-wait-bins", "#0891b2"]) > 0.001
    assert page.evaluate(COLOUR_SHARE, ["chart-days", "#2563eb"]) > 0.0002
    assert page.evaluate(COLOUR_SHARE, ["chart-hour-waits", "#f59e0b"]) > 0.0001  # a point of the mean at least
    total = month_stats(dispatcher, headers, "day")["total"]
    kpis = page.inner_text("#kpis")
    assert f"取号\n{total['issued']}" in kpis and f"办结\n{total['served']}" in kpis
    for by in ("window", "clerk"):
        rows = [r for r in month_stats(dispatcher, headers, by)["rows"] if r["key"]] + [total]
        assert len(rows) == 4  # windows 1, 2, 11 (clerks 1, 2, 11) and the total
        for row in rows:
            cells = {
                td.get_attribute("data-field"): td
                for td in page.query_selector_all(f"#table-{by} tr[data-key='{row['key']}'] td[data-field]")
            }
            assert cells["served"].inner_text() == str(row["served"])
            assert cells["wait_mean"].get_attribute("data-value") == num(row["wait_s"]["mean"])
            assert cells["wait_p90"].get_attribute("data-value") == num(row["wait_s"]["p90"])
            assert cells["service_mean"].get_attribute("data-value") == num(row["service_s"]["mean"])
            assert cells["good_pct"].get_attribute("data-value") == num(row["rating"]["good_pct"])
            assert cells["bad"].inner_text() == str(row["rating"]["bad"])
    window_1 = page.inner_text("#table-window tr[data-key='1']")
    assert window_1.startswith("1号窗口") and "100.0%" in window_1  # two ratings, 5 and 4: both 好评
    assert page.inner_text("#table-window tr[data-key='2'] td[data-field='bad']") == "1"
    shot(page, "stats-1366")
    shot(page, "stats-full", full_page=True)


def num(value: float | int | None) -> str:
    """A number as JavaScript's String() writes it (the cells' data-value)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def test_stats_exports_download(dispatcher: Dispatcher, page: Any) -> None:
    log_in(page, dispatcher.url, "/office/stats")
    page.wait_for_selector("body[data-loaded]")
    page.select_option("#export-by", "window")
    with page.expect_download() as csv_download:
        page.click("#export-csv")
    csv = csv_download.value
    assert csv.suggested_filename.endswith(".csv")
    text = Path(csv.path()).read_text(encoding="utf-8-sig")
    assert "办结数" in text.splitlines()[0] and "1号窗口" in text and text.splitlines()[-1].split(",")[1] == "合计"
    page.select_option("#export-by", "clerk")
    with page.expect_download() as xlsx_download:
        page.click("#export-xlsx")
    book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    cells = [[c.value for c in row] for row in book.active.iter_rows()]
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    assert any("办结数" in row for row in cells) and any(row[1] == "clerk1" for row in cells)
    assert cells[-1][1] == "合计"


def test_the_monthly_report_downloads_from_the_stats_page(dispatcher: Dispatcher, page: Any) -> None:
    log_in(page, dispatcher.url, "/office/stats")
    page.wait_for_selector("body[data-loaded]")
    this_month = hall_today().strftime("%Y-%m")
    page.select_option("#report-month", this_month)  # the month with the tickets served above
    with page.expect_download() as pdf_download:
        page.click("#report-pdf")
    pdf = Path(pdf_download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and pdf_download.value.suggested_filename.endswith(".pdf")
    with page.expect_download() as xlsx_download:
        page.click("#report-xlsx")
    book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    assert "汇总" in book.sheetnames
    labels = page.eval_on_selector_all("#report-month option", "os => os.map((o) => o.textContent)")
    assert len(labels) == 12 and all(label.endswith("月") for label in labels)


def test_the_date_range_is_the_halls_calendar_whatever_the_pcs_zone(dispatcher: Dispatcher, browser: Any) -> None:
    """A PC clock in UTC at 17:00 on 30 November: in Beijing it is already 1 December, and the page's
    本月, 今天, 近7天, 上月 and report months are the hall's, not the PC's."""
    context = browser.new_context(viewport=OFFICE_SCREEN, locale="zh-CN", timezone_id="UTC")
    try:
        page = context.new_page()
        page.clock.set_fixed_time(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC))
        log_in(page, dispatcher.url, "/office/stats")
        page.wait_for_selector("body[data-loaded]")
        shown = {}
        for kind in ("month", "today", "week", "last-month"):
            page.click(f"[data-range='{kind}']")
            shown[kind] = (page.input_value("#from"), page.input_value("#to"))
        assert shown == {
            "month": ("2026-12-01", "2026-12-01"),
            "today": ("2026-12-01", "2026-12-01"),
            "week": ("2026-11-25", "2026-12-01"),
            "last-month": ("2026-11-01", "2026-11-30"),
        }
        months = page.eval_on_selector_all("#report-month option", "os => os.map((o) => o.value)")
        assert months[:3] == ["2026-12", "2026-11", "2026-10"] and months[-1] == "2026-01"
        assert page.input_value("#report-month") == "2026-11"  # last month: the one that is reported
    finally:
        context.close()


def test_stats_page_is_for_supervisors(dispatcher: Dispatcher, page: Any) -> None:
    log_in(page, dispatcher.url, "/office/stats", username="clerk3")
    page.wait_for_selector("#login-msg:has-text('值班主任')")
    assert page.is_hidden("#page")
    page.fill("#username", "supervisor")
    page.fill("#password", "wrong")
    page.click("#login-button")
    page.wait_for_selector("#login-msg:has-text('密码')")


def waiting(page: Any, service: str) -> int:
    return int(page.inner_text(f"#services tr[data-service='{service}'] .waiting"))


def wait_for_waiting(page: Any, service: str, count: int) -> None:
    page.wait_for_function(
        "([s, n]) => { const c = document.querySelector(`#services tr[data-service='${s}'] .waiting`);"
        " return c && c.textContent === String(n); }",
        arg=[service, count],
        timeout=PUSH_TIMEOUT_MS,
    )


def test_live_page_follows_the_hall_by_push(dispatcher: Dispatcher, page: Any) -> None:
    log_in(page, dispatcher.url, "/office/live")
    page.wait_for_selector("#services tr[data-service='K']")
    page.wait_for_selector("#status.on")
    before = waiting(page, "K")
    issued = httpx.post(
        f"{dispatcher.api}/halls/demo/tickets", headers={**dispatcher.headers, "Idempotency-Key": "live-K-1"},
        json={"service": "K", "channel": "kiosk"},
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    wait_for_waiting(page, "K", before + 1)  # pushed: the page does not poll
    page.wait_for_selector("#alerts li.open_another_window:has-text('请增开窗口')")  # nobody at a K window
    shot(page, "live-waiting")
    clerk = dispatcher.clerk_headers("4")  # the login opens window 4
    page.wait_for_selector("#windows .window[data-window='4'][data-state='open']", timeout=PUSH_TIMEOUT_MS)
    called = httpx.post(f"{dispatcher.api}/halls/demo/windows/4/call-next", headers=clerk)
    assert called.status_code == 200 and called.json()["ticket"]["id"] == issued.json()["id"], called.text
    wait_for_waiting(page, "K", before)
    assert httpx.post(f"{dispatcher.api}/halls/demo/windows/4/finish", headers=clerk).status_code == 200
    paused = httpx.post(f"{dispatcher.api}/halls/demo/windows/4/pause", headers=clerk, json={"reason": "会议"})
    assert paused.status_code == 200, paused.text
    page.wait_for_selector("#windows .window[data-window='4'][data-state='paused']", timeout=PUSH_TIMEOUT_MS)
    assert "暂停" in page.inner_text("#windows .window[data-window='4']")
    assert not page.query_selector("#alerts li.open_another_window:has-text('税务业务')")  # window 4 serves K
    shot(page, "live-called")


def test_live_page_reconnects_after_a_restart(dispatcher: Dispatcher, page: Any) -> None:
    """A ticket opens one stream: after the dispatcher restarts, the page gets a new one by itself
    (the login survives the restart) and follows the hall again. Last in the module: it restarts it."""
    log_in(page, dispatcher.url, "/office/live")
    page.wait_for_selector("#status.on")
    dispatcher.terminate()
    page.wait_for_selector("#status.off", timeout=10_000)
    assert "重新连接" in page.inner_text("#status")
    dispatcher.restart()
    page.wait_for_selector("#status.on", timeout=30_000)  # the back-off is at most a few seconds here
    before = waiting(page, "L")
    dispatcher.issue("L", "after-restart-1")
    wait_for_waiting(page, "L", before + 1)
    shot(page, "live-reconnected")
