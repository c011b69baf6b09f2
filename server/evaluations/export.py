"""The monthly export for the provincial 好差评 platform (DESIGN.md §11): one record per rating, in the
platform's field names, as JSON lines or an XLSX sheet (openpyxl).

A record holds no personal data: the ticket's or case's number, the service, the window and the clerk's
staff id, whether the rating is 实名 (never the phone), and the rectification's texts as staff wrote them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

from server.evaluations.records import record_of
from server.evaluations.service import BadRating, EvaluationService

# (field, 中文列名): the platform's names first, then what the hall's assessment (考核) needs.
PLATFORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("projectno", "办件编号"),
    ("taskcode", "事项编码"),
    ("taskname", "事项名称"),
    ("pf", "评价渠道"),
    ("satisfaction", "满意度"),
    ("satisfactionname", "满意度名称"),
    ("reasons", "评价原因"),
    ("comment", "文字评价"),
    ("assesstime", "评价时间"),
    ("areacode", "行政区划代码"),
    ("deptcode", "实施机构代码"),
    ("window", "窗口"),
    ("staffid", "工作人员"),
    ("realname", "实名"),
    ("valid", "计入统计"),
    ("verification", "核实情况"),
    ("rectification", "整改措施"),
    ("rectifyresult", "整改结果"),
    ("callbackresult", "回访结果"),
    ("followup", "追评"),
)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The hall's local month `YYYY-MM` as [start, end) moments."""
    found = _MONTH.match(month)
    if not found:
        raise BadRating(f"月份应写作 YYYY-MM，例如 2026-11。 month must be YYYY-MM, not {month!r}.")
    year, number = int(found.group(1)), int(found.group(2))
    start = dt.datetime(year, number, 1, tzinfo=zone)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def records(service: EvaluationService, month: str) -> list[dict[str, Any]]:
    zone = service.config.hall.tz()
    start, end = month_bounds(month, zone)
    return [record_of(rating, order, service.rules, zone) for rating, order in service.ratings_with_orders(start, end)]


def to_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n" for row in rows)


def to_xlsx(rows: list[dict[str, Any]], month: str) -> bytes:
    from openpyxl import Workbook  # only the export needs it

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"好差评{month}"
    sheet.append([field for field, _ in PLATFORM_FIELDS])
    sheet.append([label for _, label in PLATFORM_FIELDS])
    for row in rows:
        sheet.append([",".join(row[f]) if f == "reasons" else row[f] for f, _ in PLATFORM_FIELDS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
