"""The statistics table as a file: CSV (UTF-8 with a BOM, so Excel shows the Chinese) or XLSX
(openpyxl), one line per row and the total last, with Chinese column headers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from hallq.stats_models import CaseNumbers, StatsAnswer, StatsRow

BY_HEADER = {"day": "日期", "hour": "时段", "service": "业务", "window": "窗口", "clerk": "工作人员", "item": "事项"}
Column = tuple[str, Callable[[StatsRow], object]]
COLUMNS: tuple[Column, ...] = (
    ("取号数", lambda r: r.issued),
    ("叫号数", lambda r: r.called),
    ("办结数", lambda r: r.served),
    ("过号数", lambda r: r.no_show),
    ("取消数", lambda r: r.cancelled),
    ("过期未办数", lambda r: r.expired),
    ("流失数", lambda r: r.abandoned),
    ("转移数", lambda r: r.transferred),
    ("重呼数", lambda r: r.recalled),
    ("平均等候(秒)", lambda r: r.wait_s.mean),
    ("等候P50(秒)", lambda r: r.wait_s.p50),
    ("等候P90(秒)", lambda r: r.wait_s.p90),
    ("最长等候(秒)", lambda r: r.wait_s.max),
    ("平均办理(秒)", lambda r: r.service_s.mean),
    ("办理P50(秒)", lambda r: r.service_s.p50),
    ("目标时间内叫号数", lambda r: r.within_target),
    ("目标时间内占比(%)", lambda r: r.within_target_pct),
    ("开窗时长(秒)", lambda r: r.open_s),
    ("窗口利用率(%)", lambda r: r.utilisation_pct),
    ("评价数", lambda r: r.rating.count),
    ("平均评分", lambda r: r.rating.mean),
    ("好评率(%)", lambda r: r.rating.good_pct),
    ("差评数", lambda r: r.rating.bad),
    ("平均排队人数", lambda r: r.queue_mean),  # by=hour only
    ("平均开放窗口数", lambda r: r.open_windows_mean),
)
# The cases' columns (by=day, by=service and the total; empty elsewhere and for a clerk).
CASE_COLUMNS: tuple[tuple[str, Callable[[CaseNumbers], object]], ...] = (
    ("收件数", lambda c: c.received),
    ("即办件数", lambda c: c.instant),
    ("即办件占比(%)", lambda c: c.instant_pct),
    ("容缺受理数", lambda c: c.deferred),
    ("受理数", lambda c: c.accepted),
    ("按期受理数", lambda c: c.accepted_in_time),
    ("按期受理率(%)", lambda c: c.accepted_in_time_pct),
    ("办件办结数", lambda c: c.decided),
    ("按时办结数", lambda c: c.decided_in_time),
    ("按时办结率(%)", lambda c: c.on_time_pct),
    ("逾期数", lambda c: c.overdue),
)


def _case_cells(row: StatsRow) -> list[object]:
    cases = row.cases
    return [value(cases) if cases is not None else None for _, value in CASE_COLUMNS]


def headers(answer: StatsAnswer) -> list[str]:
    return ["编号", BY_HEADER[answer.by], *(name for name, _ in COLUMNS), *(name for name, _ in CASE_COLUMNS)]


def table(answer: StatsAnswer) -> list[list[object]]:
    """The rows as cells: the key, the label, then COLUMNS (empty where there is no value)."""
    return [
        [row.key, row.label, *(value(row) for _, value in COLUMNS), *_case_cells(row)]
        for row in [*answer.rows, answer.total]
    ]


def file_name(answer: StatsAnswer, suffix: str) -> str:
    return f"stats-{answer.hall}-{answer.from_}-{answer.to}-{answer.by}.{suffix}"


def to_csv(answer: StatsAnswer) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(answer))
    writer.writerows([["" if cell is None else cell for cell in line] for line in table(answer)])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(answer: StatsAnswer) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "统计"
    sheet.append([f"{answer.hall} 统计 {answer.from_} 至 {answer.to}"])
    sheet.append(headers(answer))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for line in table(answer):
        sheet.append(line)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C3"
    sheet.column_dimensions["B"].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
