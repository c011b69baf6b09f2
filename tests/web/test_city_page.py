"""/city at the hub in headless Chromium at a desktop size, with real processes (a hub and two halls
shipping to it, tests/network/city.py): the halls live by level, the page following new tickets by
itself, the rankings, a hall's monthly report downloaded. Screenshots: artifacts/screens/city-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.network.city import CENTER, TOWN, all_shipped, live, small_city
from tests.network.halls import CityHall
from tests.support.hub import Hub
from tests.web.test_pages import SCREENS

pytestmark = [pytest.mark.slow]
DESKTOP = {"width": 1600, "height": 1000}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, dict[str, CityHall]]]:
    with small_city(tmp_path_factory.mktemp("city-page")) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    yield context.new_page()
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"city-{name}.png"), full_page=True)


def cells(page: Any, hall: str) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        f"#halls tr[data-hall='{hall}'] td", "tds => tds.map(td => td.textContent)"
    )
    return texts


def log_in(page: Any, hub: Hub) -> None:
    page.goto(f"{hub.url}/city")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#username", "admin")
    page.fill("#password", "demo")
    page.click("#login-button")
    page.wait_for_selector("body[data-live]")
    page.wait_for_selector("body[data-ranked]")


def test_city_shows_every_hall_live_by_level(city: tuple[Hub, dict[str, CityHall]], page: Any) -> None:
    hub, halls = city
    log_in(page, hub)
    answer = live(hub)
    rows = {row["hall"]: row for row in answer["halls"]}
    levels = page.eval_on_selector_all("#halls tr.level td", "tds => tds.map(td => td.textContent)")
    assert levels == ["市中心", "便民服务中心"]
    town = cells(page, TOWN)
    assert town[:4] == [halls[TOWN].name, "便民服务中心", halls[CENTER].name, "在线"]
    assert (
        town[4] == str(rows[TOWN]["waiting"]) and town[6] == f"{rows[TOWN]['windows_open']} / {rows[TOWN]['windows']}"
    )
    totals = page.eval_on_selector_all("#halls tr.total", "trs => trs.map(tr => tr.cells[0].textContent)")
    assert totals == ["市中心小计", "便民服务中心小计", "全市合计"]
    page.wait_for_selector("#chart-waiting canvas")
    shot(page, "live")

    # New tickets at the town: the page shows them by itself (it polls the hub every few seconds).
    before = rows[TOWN]["waiting"]
    for _ in range(3):
        halls[TOWN].issue("A")
    all_shipped(hub, halls)
    page.wait_for_function(
        f"() => (document.querySelector(\"#halls tr[data-hall='{TOWN}']\") || {{cells: []}}).cells[4]?.textContent"
        f" === '{before + 3}'"
    )


def test_city_ranks_the_halls_and_hands_out_monthly_reports(
    city: tuple[Hub, dict[str, CityHall]], page: Any, tmp_path: Path
) -> None:
    hub, halls = city
    log_in(page, hub)
    titles = page.eval_on_selector_all("#rankings h4", "hs => hs.map(h => h.textContent)")
    assert titles[0] == "好评率排名（%）" and len(titles) == 5
    first = page.eval_on_selector_all("#rankings .card:first-child td", "tds => tds.map(td => td.textContent)")
    assert first[:3] == ["1", halls[CENTER].name, "100"], "the centre rated 5 twice, the town 5 and 1"
    page.locator("#rankings").scroll_into_view_if_needed()
    shot(page, "rankings")
    with page.expect_download() as download:
        page.click(f"#halls tr[data-hall='{TOWN}'] button:has-text('月报PDF')")
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.startswith(f"monthly-{TOWN}-")
