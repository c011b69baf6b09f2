"""The monthly report (PDF and XLSX) of the hand-computed day (tests/stats/scenario.py): the numbers
worked out in test_scenario.py are in the PDF's text and in the workbook, the Chinese font is embedded,
the pages render; an empty month says so; bad and future months are refused with a sentence."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from server.stats.pdf_font import has_truetype_outlines, pdf_cjk_font
from tests.stats.scenario import folded, hall_app, login, the_day

REPORT = "/halls/demo/reports/monthly"
POPPLER = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (scripts/setup.sh) missing")
# The day's totals as the report writes them (test_scenario.TOTAL): mean wait 1470 s = 24.5 min,
# p90 2760 s = 46.0 min, longest 46.0, within target 33.3 %, mean service 1032 s = 17.2 min,
# open 16860 s = 4.7 h, utilisation 30.6 %, 2 ratings, 好评率 50.0 %, 1 差评.
SUMMARY = {
    "取号数": "8张", "叫号数": "6次", "办结数": "5件", "过号数": "1次", "流失数（取消＋过期未办）": "2张",
    "转移数": "1次", "平均等候": "24.5分钟", "等候P90": "46.0分钟", "目标时间内叫号占比": "33.3%",
    "平均办理时长": "17.2分钟", "窗口开放时长": "4.7小时", "窗口利用率": "30.6%", "评价数": "2条",
    "好评率": "50.0%", "差评数": "1条",
}  # fmt: skip
# 业务 取号 办结 过号 流失 平均等候 P90 目标内% 好评率% 差评 (BY_SERVICE of test_scenario)
SERVICE_LINES = [
    ["社保业务", "5", "2", "0", "2", "18.3", "35.0", "66.7", "100.0", "0"],
    ["医保业务", "3", "3", "1", "0", "30.7", "46.0", "0.0", "0.0", "1"],
    ["合计", "8", "5", "1", "2", "24.5", "46.0", "33.3", "50.0", "1"],
]
# 窗口 叫号 办结 过号 转移 平均办理 开窗(小时) 利用率% 好评率% 差评 (WINDOW_1, WINDOW_2)
WINDOW_LINES = [
    ["1号窗口", "4", "3", "1", "0", "12.3", "1.7", "36.6", "100.0", "0"],
    ["2号窗口", "2", "2", "0", "1", "24.5", "3.0", "27.2", "0.0", "1"],
]
# First waits 600, 600, 900, 2100, 2760, 1860 s into 0-5, 5-10, 10-15, 15-20, 20-30, 30-45, 45-60, 60+ min.
WAIT_BANDS = [0, 2, 1, 0, 0, 2, 1, 0]


async def fetch(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> httpx.Response:
    return await client.get(f"{REPORT}/{name}", headers=headers)


def scenario_reports(database: str) -> dict[str, bytes]:
    async def main() -> dict[str, bytes]:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            supervisor = await login(client, "supervisor")
            files = {}
            for name in ("2036-12.pdf", "2036-12.xlsx", "2036-11.pdf", "2036-11.xlsx"):
                response = await fetch(client, supervisor, name)
                assert response.status_code == 200, response.text
                assert f"monthly-demo-{name}" in response.headers["content-disposition"]
                files[name] = response.content
            return files

    return asyncio.run(main())


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def words_of_line(text: str, first: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.split() and line.split()[0] == first)
    return line.split()


@POPPLER
def test_the_pdf_holds_the_hand_computed_numbers_with_its_font_embedded(database: str, tmp_path: Path) -> None:
    files = scenario_reports(database)
    pdf = files["2036-12.pdf"]
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "2036年12月政务服务运行情况月报" in text and "统计期间：2036-12-01 至 2036-12-" in text
    flat = re.sub(r"\s+", " ", text)
    for name, value in SUMMARY.items():
        assert f"{name} {value}" in flat, name
    for line in SERVICE_LINES + WINDOW_LINES:
        assert words_of_line(text, line[0])[: len(line)] == line, line[0]
    for heading in ("分时段取号量", "等候时间分布", "每日取号与办结", "评价情况（好差评）"):
        assert heading in text
    fonts = subprocess.run(["pdffonts", str(tmp_path / "report.pdf")], capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows and all(row[-5] == "yes" for row in rows), fonts  # emb column: every font embedded
    assert any("WenQuanYi" in row[0] or "CJK" in row[0] or "Hei" in row[0] for row in rows), fonts
    pages = subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
                           capture_output=True)  # fmt: skip
    assert pages.returncode == 0 and len(list(tmp_path.glob("page-*.png"))) >= 2
    empty = pdf_text(files["2036-11.pdf"], tmp_path)
    assert "2036年11月" in empty and "暂无统计数据" in empty and "合计" not in empty


def numeric(line: list[Any]) -> list[Any]:
    """A table line with its numbers as floats (the workbook keeps 35.0 as 35)."""
    return [line[0], *(float(value) for value in line[1:])]


def test_the_pdf_font_is_a_chinese_face_with_truetype_outlines() -> None:
    font = pdf_cjk_font()
    assert has_truetype_outlines(font.path, font.index)
    noto = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if noto.exists():  # the devices' font: CFF outlines, which ReportLab cannot embed
        assert not has_truetype_outlines(str(noto), 2)


def sheet_cells(book: Any, name: str) -> list[list[Any]]:
    return [[cell.value for cell in line] for line in book[name].iter_rows()]


def test_the_workbook_holds_the_same_numbers(tmp_path: Path, sqlite_url: str) -> None:
    files = scenario_reports(sqlite_url)
    book = load_workbook(io.BytesIO(files["2036-12.xlsx"]))
    assert book.sheetnames == ["汇总", "分业务", "分窗口", "分时段", "等候分布", "每日", "评价", "办件"]
    assert sheet_cells(book, "办件") == [["本月无办件记录。"]]
    summary = {line[0]: line[1] for line in sheet_cells(book, "汇总")[5:]}
    assert summary["取号数"] == 8 and summary["办结数"] == 5 and summary["平均等候"] == 24.5
    assert summary["目标时间内叫号占比"] == 33.3 and summary["好评率"] == 50.0 and summary["差评数"] == 1
    services = sheet_cells(book, "分业务")
    assert services[0][:3] == ["业务", "取号", "办结"]
    assert [numeric(line) for line in services[1:]] == [numeric(line) for line in SERVICE_LINES]
    windows = sheet_cells(book, "分窗口")
    assert [numeric(line) for line in windows[1:3]] == [numeric(line) for line in WINDOW_LINES]
    assert windows[-1][0] == "合计" and len(windows) == 4
    assert [line[1] for line in sheet_cells(book, "等候分布")[1:]] == WAIT_BANDS
    hours = sheet_cells(book, "分时段")
    assert hours[1:] == [["08:00-09:00", 0, 0], ["09:00-10:00", 6, 2], ["10:00-11:00", 1, 3], ["11:00-12:00", 1, 0]]
    days = sheet_cells(book, "每日")
    assert days[1:] == [["2036-12-01", 0, 0], ["2036-12-02", 8, 5]]  # the current month: up to the hall's day
    assert book["分时段"]._charts and book["等候分布"]._charts  # native bar charts
    empty = load_workbook(io.BytesIO(files["2036-11.xlsx"]))
    assert empty.sheetnames == ["汇总"] and "暂无统计数据" in str(sheet_cells(empty, "汇总")[4][0])


def test_bad_future_and_unauthorised_requests_are_refused(sqlite_url: str) -> None:
    async def main() -> None:
        async with hall_app(sqlite_url) as (client, app, hall):
            await the_day(hall)  # the hall's day is now 2036-12-02: 2036-12 is this month, 2037-01 the future
            supervisor = await login(client, "supervisor")
            for name, words in (("2036-13.pdf", "YYYY-MM"), ("December.pdf", "YYYY-MM"), ("2036-12.doc", ".xlsx"),
                                ("2037-01.pdf", "not begun")):  # fmt: skip
                refused = await fetch(client, supervisor, name)
                assert refused.status_code == 422 and words in refused.json()["detail"], (name, refused.text)
            assert (await client.get(f"{REPORT}/2036-12.pdf")).status_code == 401
            clerk = await fetch(client, await login(client, "clerk1", window="1"), "2036-12.pdf")
            assert clerk.status_code == 403
            admin = await fetch(client, await login(client, "admin"), "2036-12.xlsx")
            assert admin.status_code == 200
            assert (
                await client.get("/halls/nowhere/reports/monthly/2036-12.pdf", headers=supervisor)
            ).status_code == 404

    asyncio.run(main())
