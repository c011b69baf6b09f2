"""The cases' numbers (tests/stats/cases_scenario.py, worked out by hand) through `GET …/stats` and the
exports, on SQLite and PostgreSQL: every number exact; the overdue list; a clerk sees no cases."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from server.cases.service import CaseService
from server.cases.uploads import FileStore
from server.stats.cases import OverdueCase, case_stats
from tests.server.conftest import demo_config, make_settings, running_app
from tests.stats.cases_scenario import the_cases
from tests.stats.scenario import login

RANGE = {"from": "2026-11-02", "to": "2026-11-13"}
POPPLER = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (scripts/setup.sh) missing")


def tally(**counts: int) -> dict[str, Any]:
    """A `cases` object: the counts given, zero elsewhere, and the shares worked out from them."""
    c = {name: counts.get(name, 0) for name in ("received", "instant", "deferred", "accepted", "accepted_in_time",
                                               "decided", "decided_in_time", "overdue")}  # fmt: skip

    def pct(part: str, whole: str) -> float | None:
        return round(100 * c[part] / c[whole], 1) if c[whole] else None

    return {**c, "instant_pct": pct("instant", "received"), "accepted_in_time_pct": pct("accepted_in_time", "accepted"),
            "on_time_pct": pct("decided_in_time", "decided")}  # fmt: skip


TOTAL = tally(received=6, instant=1, deferred=2, accepted=5, accepted_in_time=3, decided=4, decided_in_time=3,
              overdue=4)  # fmt: skip
BY_DAY = {
    "2026-11-02": tally(received=2, deferred=1),  # c1 (容缺), c2
    "2026-11-03": tally(accepted=1, accepted_in_time=1, overdue=1),  # c1 accepted; c7's 受理 due
    "2026-11-04": tally(received=1, deferred=1, accepted=1, overdue=1),  # c3 (容缺); c7 accepted late; c2's 受理 due
    "2026-11-05": tally(received=1, instant=1, accepted=2, accepted_in_time=1, decided=1, decided_in_time=1),
    "2026-11-06": tally(received=1, overdue=1),  # c5; c3's 受理 due
    "2026-11-09": tally(received=1, decided=1, decided_in_time=1),  # c6; c1 approved
    "2026-11-10": tally(decided=1, decided_in_time=1),  # c7 approved
    "2026-11-11": tally(accepted=1, accepted_in_time=1),  # c6 accepted on its due day
    "2026-11-12": tally(overdue=1),  # c2's 办结 due
    "2026-11-13": tally(decided=1),  # c2 rejected, late
}
BY_SERVICE = {
    "A": tally(received=1, instant=1, accepted=1, accepted_in_time=1, decided=1, decided_in_time=1),
    "C": tally(received=3, deferred=1, accepted=3, accepted_in_time=1, decided=3, decided_in_time=2, overdue=3),
    "E": tally(received=2, deferred=1, accepted=1, accepted_in_time=1, overdue=1),
}
D = dt.date
OVERDUE = [
    ("SJ202610300001", "accept", D(2026, 11, 3), D(2026, 11, 4), 1),
    ("SJ202611020002", "accept", D(2026, 11, 4), D(2026, 11, 5), 1),
    ("SJ202611040001", "accept", D(2026, 11, 6), None, 7),
    ("SJ202611020002", "decide", D(2026, 11, 12), D(2026, 11, 13), 1),
]


def _one(case: OverdueCase) -> tuple[Any, ...]:
    return (case.receipt_no, case.step, case.due, case.done, case.days_over)


def test_the_cases_numbers_are_exact(database: str, tmp_path: Path) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, demo_config())) as (client, app):
            store = app.state.dispatcher.store
            config = app.state.dispatcher.runtime("demo").config
            cases = CaseService(store.engine, config, FileStore(tmp_path / "files"), b"k" * 32)
            await asyncio.to_thread(the_cases, cases)
            supervisor = await login(client, "supervisor")

            days = (await client.get("/halls/demo/stats", params={**RANGE, "by": "day"}, headers=supervisor)).json()
            assert {r["key"]: r["cases"] for r in days["rows"]} == {
                (D(2026, 11, 2) + dt.timedelta(days=n)).isoformat(): BY_DAY.get(
                    (D(2026, 11, 2) + dt.timedelta(days=n)).isoformat(), tally()
                )
                for n in range(12)
            }
            assert days["total"]["cases"] == TOTAL
            services = await client.get("/halls/demo/stats", params={**RANGE, "by": "service"}, headers=supervisor)
            body = services.json()
            assert [(r["key"], r["label"]) for r in body["rows"]] == [("A", "社保业务"), ("C", "不动产登记"),
                                                                     ("E", "户籍业务")]  # fmt: skip
            assert {r["key"]: r["cases"] for r in body["rows"]} == BY_SERVICE and body["total"]["cases"] == TOTAL
            items = (await client.get("/halls/demo/stats", params={**RANGE, "by": "item"}, headers=supervisor)).json()
            assert [(r["key"], r["label"], r["cases"]) for r in items["rows"]] == [
                ("sbk-replace", "社会保障卡补换", BY_SERVICE["A"]),
                ("realestate-transfer", "不动产转移登记（二手房买卖）", BY_SERVICE["C"]),
                ("hukou-move-in", "户口迁移（迁入）", BY_SERVICE["E"]),
            ]
            assert items["total"]["cases"] == TOTAL and all(r["issued"] == 0 for r in items["rows"])
            hours = (await client.get("/halls/demo/stats", params={**RANGE, "by": "hour"}, headers=supervisor)).json()
            assert hours["total"]["cases"] is None and all(r["cases"] is None for r in hours["rows"])

            csv = await client.get("/halls/demo/stats", params={**RANGE, "by": "service", "format": "csv"},
                                   headers=supervisor)  # fmt: skip
            lines = csv.content.decode("utf-8-sig").splitlines()
            header = lines[0].split(",")
            assert header[-11:] == ["收件数", "即办件数", "即办件占比(%)", "容缺受理数", "受理数", "按期受理数",
                                    "按期受理率(%)", "办件办结数", "按时办结数", "按时办结率(%)", "逾期数"]  # fmt: skip
            assert lines[-1].split(",")[-11:] == ["6", "1", "16.7", "2", "5", "3", "60.0", "4", "3", "75.0", "4"]
            xlsx = await client.get("/halls/demo/stats", params={**RANGE, "by": "day", "format": "xlsx"},
                                    headers=supervisor)  # fmt: skip
            sheet = load_workbook(io.BytesIO(xlsx.content)).active
            assert sheet is not None
            cells = [[c.value for c in line] for line in sheet.iter_rows()]
            assert cells[-1][-11:] == [6, 1, 16.7, 2, 5, 3, 60.0, 4, 3, 75.0, 4]

            clerk = await login(client, "clerk1", window="1")
            own = (await client.get("/halls/demo/stats", params={**RANGE, "by": "day"}, headers=clerk)).json()
            assert own["total"]["cases"] is None and all(r["cases"] is None for r in own["rows"])

            stats = await asyncio.to_thread(case_stats, store.engine, config, D(2026, 11, 2), D(2026, 11, 13),
                                            D(2026, 12, 1))  # fmt: skip
            assert [_one(c) for c in stats.overdue] == OVERDUE
            assert {c.item_name for c in stats.overdue} == {"不动产转移登记（二手房买卖）", "户口迁移（迁入）"}
            # judged on 11-09 instead: c3 is 3 days over, c2's 办结 (due 11-12) is not overdue yet
            early = await asyncio.to_thread(case_stats, store.engine, config, D(2026, 11, 2), D(2026, 11, 13),
                                            D(2026, 11, 9))  # fmt: skip
            assert [(c.receipt_no, c.step, c.days_over) for c in early.overdue][2:] == [("SJ202611040001", "accept", 3)]

    asyncio.run(main())


# The report of November 2026 (judged on 11-30, the month's end): c8 (received 11-16) is in, c7 (10-30)
# is not received this month; c6's 办结 (due 11-18) and c8's 受理 (due 11-18) were never done: 12 days.
MONTH_SUMMARY = {"收件数": "7件", "即办件数（占比）": "1（14.3%）", "容缺受理数": "2件", "受理数": "5件",
                 "2个工作日内受理率": "60.0%", "办结数（准予＋不予）": "4件", "按时办结数": "3件",
                 "按时办结率": "75.0%", "逾期数": "6件"}  # fmt: skip
# 事项 收件 即办件 容缺受理 受理 按期受理率% 办结 按时办结率% 逾期
ITEM_LINES = [
    ["社会保障卡补换", 1, 1, 0, 1, 100.0, 1, 100.0, 0],
    ["不动产转移登记（二手房买卖）", 3, 0, 1, 3, 33.3, 3, 66.7, 3],
    ["户口迁移（迁入）", 3, 0, 1, 1, 100.0, 0, None, 3],
    ["合计", 7, 1, 2, 5, 60.0, 4, 75.0, 6],
]
OVERDUE_LINES = [
    ["SJ202610300001", "不动产转移登记（二手房买卖）", "逾期受理", "2026-11-03", "2026-11-04", 1],
    ["SJ202611020002", "不动产转移登记（二手房买卖）", "逾期受理", "2026-11-04", "2026-11-05", 1],
    ["SJ202611040001", "户口迁移（迁入）", "逾期未受理", "2026-11-06", "未办理", 24],
    ["SJ202611020002", "不动产转移登记（二手房买卖）", "逾期办结", "2026-11-12", "2026-11-13", 1],
    ["SJ202611090001", "户口迁移（迁入）", "逾期未办结", "2026-11-18", "未办理", 12],
    ["SJ202611160001", "户口迁移（迁入）", "逾期未受理", "2026-11-18", "未办理", 12],
]


@POPPLER
def test_the_monthly_report_has_the_cases_and_the_overdue_list(database: str, tmp_path: Path) -> None:
    async def main() -> dict[str, bytes]:
        async with running_app(make_settings(database, demo_config())) as (client, app):
            store = app.state.dispatcher.store
            config = app.state.dispatcher.runtime("demo").config
            cases = CaseService(store.engine, config, FileStore(tmp_path / "files"), b"k" * 32)
            await asyncio.to_thread(the_cases, cases)
            supervisor = await login(client, "supervisor")
            files = {}
            for name in ("2026-11.pdf", "2026-11.xlsx"):
                response = await client.get(f"/halls/demo/reports/monthly/{name}", headers=supervisor)
                assert response.status_code == 200, response.text
                files[name] = response.content
            return files

    files = asyncio.run(main())
    book = load_workbook(io.BytesIO(files["2026-11.xlsx"]))
    sheet = [[c.value for c in line] for line in book["办件"].iter_rows()]
    assert {line[0]: line[1] for line in sheet[1:10]} == {
        "收件数": 7, "即办件数（占比）": "1（14.3%）", "容缺受理数": 2, "受理数": 5, "2个工作日内受理率": 60.0,
        "办结数（准予＋不予）": 4, "按时办结数": 3, "按时办结率": 75.0, "逾期数": 6,
    }  # fmt: skip
    assert sheet[11][0] == "事项" and sheet[12:] == ITEM_LINES
    overdue = [[c.value for c in line] for line in book["逾期办件"].iter_rows()]
    assert overdue[0] == ["收件编号", "事项", "环节", "期限", "办理日期", "超期天数"] and overdue[1:] == OVERDUE_LINES
    (tmp_path / "report.pdf").write_bytes(files["2026-11.pdf"])
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    flat = re.sub(r"\s+", " ", text)
    assert "八、办件情况" in text and "逾期办件清单" in text
    for name, value in MONTH_SUMMARY.items():
        assert f"{name} {value}" in flat, name
    for line in OVERDUE_LINES:
        assert " ".join(str(v) for v in line) in flat, line[0]
    assert "张" + "三" not in text and "321183" not in text and "13812345678" not in text  # no citizen data
