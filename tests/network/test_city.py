"""/city's API with real processes (issue 16): the hub's live view of each hall is the hall's own
`GET …/stats/live`, the rankings and the monthly reports are the hub's numbers of the shipped events."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

from tests.network.city import CENTER, TOWN, live, own_live, small_city
from tests.network.halls import CityHall, local_days
from tests.support.hub import Hub

pytestmark = [pytest.mark.slow]
SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, dict[str, CityHall]]]:
    with small_city(tmp_path_factory.mktemp("city")) as running:
        yield running


def as_hall_sees_it(answer: dict[str, Any]) -> tuple[int, int, dt.datetime | None]:
    """(waiting, windows open, when the longest-waiting ticket was issued) from a hall's own answer."""
    at = dt.datetime.fromisoformat(answer["at"])
    waiting = sum(s["waiting"] for s in answer["services"])
    longest = max((s["longest_wait_s"] for s in answer["services"]), default=0)
    opened = sum(1 for w in answer["windows"] if w["state"] == "open")
    return waiting, opened, at - dt.timedelta(seconds=longest) if longest else None


def test_the_hub_sees_each_hall_as_the_hall_sees_itself(city: tuple[Hub, dict[str, CityHall]]) -> None:
    hub, halls = city
    answer = live(hub)
    rows = {row["hall"]: row for row in answer["halls"]}
    assert [row["hall"] for row in answer["halls"]] == [CENTER, TOWN]
    for name, hall in halls.items():
        own = own_live(hall)
        waiting, opened, oldest = as_hall_sees_it(own)
        row = rows[name]
        assert (row["waiting"], row["windows_open"]) == (waiting, opened), name
        assert oldest is not None and row["oldest_issued_at"] is not None
        # the hall answers whole seconds of wait at its own moment: the issue time within a second
        assert abs((dt.datetime.fromisoformat(row["oldest_issued_at"]) - oldest).total_seconds()) <= 1, name
        assert row["online"] is True and row["offline_since"] is None and row["behind_s"] == 0
        assert row["events_behind"] == 0, "the uplink said what it had, and the hub holds it all"
        assert row["acked_seq"] == hall.last_seq() and row["unfolded"] == 0
        assert row["windows"] == len(own["windows"])
    assert rows[TOWN]["waiting"] == 9 - 3 and rows[CENTER]["waiting"] == 5 - 3
    assert rows[TOWN]["windows_open"] == 2, "windows 1 and 2 open, window 3 paused"
    assert (rows[TOWN]["area"], rows[CENTER]["area"]) == (CENTER, CENTER)
    assert [(a["key"], a["halls"], a["waiting"]) for a in answer["areas"]] == [(CENTER, 2, 8)]
    assert [(lv["label"], lv["waiting"]) for lv in answer["levels"]] == [("市中心", 2), ("便民服务中心", 6)]
    assert answer["total"]["windows_open"] == 4 and answer["total"]["online"] == 2


def test_the_halls_are_ranked_by_the_hubs_numbers(city: tuple[Hub, dict[str, CityHall]]) -> None:
    hub, _ = city
    start, end = local_days()
    answer = httpx.get(f"{hub.api}/hub/rankings", params={"from": start, "to": end}, headers=hub.headers(), timeout=30)
    assert answer.status_code == 200, answer.text
    ranked = {
        r["metric"]: [(row["rank"], row["hall"], row["value"]) for row in r["rows"]] for r in answer.json()["rankings"]
    }
    assert ranked["good_pct"] == [(1, CENTER, 100.0), (2, TOWN, 50.0)]
    assert ranked["served"] == [(1, CENTER, 2.0), (1, TOWN, 2.0)], "a tie shares the rank"
    stats = {row["key"]: row for row in hub.stats(start, end)["rows"]}
    waits = sorted((round(stats[h]["wait_s"]["mean"] / 60, 1), h) for h in (CENTER, TOWN))
    assert [(hall, value) for _, hall, value in ranked["wait_mean"]] == [(h, w) for w, h in waits]
    bad = httpx.get(f"{hub.api}/hub/rankings", params={"from": end, "to": start}, headers=hub.headers(), timeout=30)
    assert bad.status_code == 422
    assert httpx.get(f"{hub.api}/hub/live", timeout=30).status_code == 401


def test_each_halls_monthly_report_comes_from_the_hub(city: tuple[Hub, dict[str, CityHall]], tmp_path: Path) -> None:
    hub, halls = city
    month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    base = f"{hub.api}/hub/halls/{TOWN}/reports/monthly"
    xlsx = httpx.get(f"{base}/{month}.xlsx", headers=hub.headers(), timeout=60)
    assert xlsx.status_code == 200, xlsx.text
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    rows = [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    assert any(halls[TOWN].name in str(row[0]) for row in rows)
    start, end = local_days()
    own = halls[TOWN].own_stats(start, end)["total"]
    assert ("取号数", own["issued"]) in [row[:2] for row in rows], "issued as the hall counts it"
    rated = own["rating"]
    assert ("合计", rated["count"], rated["mean"], rated["good_pct"], rated["bad"]) in [row[:5] for row in rows]
    assert ("办件数据不上传市中心，请查阅各大厅自行生成的月报。",) in [row[:1] for row in rows], "no cases at the hub"

    pdf = httpx.get(f"{base}/{month}.pdf", headers=hub.headers(), timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert f"monthly-{TOWN}-{month}.pdf" in pdf.headers["content-disposition"]
    area_base = f"{hub.api}/hub/areas/{CENTER}/reports/monthly/{month}"
    area_book = openpyxl.load_workbook(
        io.BytesIO(httpx.get(f"{area_base}.xlsx", headers=hub.headers(), timeout=60).content)
    )
    area_rows = [row[:2] for sheet in area_book.worksheets for row in sheet.iter_rows(values_only=True)]
    issued = sum(hall.own_stats(start, end)["total"]["issued"] for hall in halls.values())
    assert ("取号数", issued) in area_rows, "the area's month is its halls' months together"
    area = httpx.get(f"{area_base}.pdf", headers=hub.headers(), timeout=60)
    assert area.status_code == 200 and area.content.startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        SCREENS.mkdir(parents=True, exist_ok=True)
        for name, body in (("city-report-town", pdf.content), ("city-report-area", area.content)):
            source = tmp_path / f"{name}.pdf"
            source.write_bytes(body)
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", source, SCREENS / name], check=True)

    nowhere = f"{hub.api}/hub/halls/nowhere/reports/monthly/{month}.pdf"
    assert httpx.get(nowhere, headers=hub.headers()).status_code == 404
    assert httpx.get(f"{base}/{month}.doc", headers=hub.headers()).status_code == 422
    assert httpx.get(f"{base}/2999-01.pdf", headers=hub.headers()).status_code == 422
    assert httpx.get(f"{base}/{month}.pdf").status_code == 401
