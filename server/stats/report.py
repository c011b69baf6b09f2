"""The monthly report (月度运行情况报告, the 统一情况汇总 a sub-centre sends to the city) as PDF and XLSX.

Pure: a `MonthlyNumbers` in, the file's bytes out. The PDF is drawn with ReportLab, its charts with
reportlab.graphics (vector, in the same embedded font, no second plotting library); the Chinese font
is embedded as a subset (pdf_font.py) so the file reads the same on every machine. The XLSX (openpyxl)
has one sheet per table and native bar charts.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence

from hallq.stats_models import CaseNumbers, StatsRow
from server.stats.cases import CaseTally
from server.stats.monthly import MonthlyNumbers
from server.stats.pdf_font import PdfFont, pdf_cjk_font

FONT = "HallqCJK"
NO_DATA = "本月无取号、叫号、开窗、评价或办件记录，暂无统计数据。"
NO_CASES = "本月无办件记录。"
NO_OVERDUE = "本月无逾期办件。"
Column = tuple[str, Callable[[StatsRow], object]]


# ---- numbers as a person reads them ------------------------------------------------------------


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


def shown(value: object, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    return f"{value}{unit}"


def summary(numbers: MonthlyNumbers) -> list[tuple[str, object, str]]:
    """(指标, value, unit) of the totals, in the order the city's summary reads them."""
    t = numbers.total
    return [
        ("取号数", t.issued, "张"),
        ("叫号数", t.called, "次"),
        ("办结数", t.served, "件"),
        ("过号数", t.no_show, "次"),
        ("流失数（取消＋过期未办）", t.abandoned, "张"),
        ("转移数", t.transferred, "次"),
        ("平均等候", minutes(t.wait_s.mean), "分钟"),
        ("等候P90", minutes(t.wait_s.p90), "分钟"),
        ("最长等候", minutes(t.wait_s.max), "分钟"),
        ("目标时间内叫号占比", t.within_target_pct, "%"),
        ("平均办理时长", minutes(t.service_s.mean), "分钟"),
        ("窗口开放时长", hours(t.open_s), "小时"),
        ("窗口利用率", t.utilisation_pct, "%"),
        ("评价数", t.rating.count, "条"),
        ("好评率", t.rating.good_pct, "%"),
        ("差评数", t.rating.bad, "条"),
    ]


SERVICE_COLUMNS: tuple[Column, ...] = (
    ("取号", lambda r: r.issued),
    ("办结", lambda r: r.served),
    ("过号", lambda r: r.no_show),
    ("流失", lambda r: r.abandoned),
    ("平均等候(分)", lambda r: minutes(r.wait_s.mean)),
    ("P90等候(分)", lambda r: minutes(r.wait_s.p90)),
    ("目标内占比%", lambda r: r.within_target_pct),
    ("好评率%", lambda r: r.rating.good_pct),
    ("差评", lambda r: r.rating.bad),
)
WINDOW_COLUMNS: tuple[Column, ...] = (
    ("叫号", lambda r: r.called),
    ("办结", lambda r: r.served),
    ("过号", lambda r: r.no_show),
    ("转移", lambda r: r.transferred),
    ("平均办理(分)", lambda r: minutes(r.service_s.mean)),
    ("开窗(小时)", lambda r: hours(r.open_s)),
    ("利用率%", lambda r: r.utilisation_pct),
    ("好评率%", lambda r: r.rating.good_pct),
    ("差评", lambda r: r.rating.bad),
)
RATING_COLUMNS: tuple[Column, ...] = (
    ("评价数", lambda r: r.rating.count),
    ("平均评分", lambda r: r.rating.mean),
    ("好评率%(4-5分)", lambda r: r.rating.good_pct),
    ("差评数(1-2分)", lambda r: r.rating.bad),
)


CaseColumn = tuple[str, Callable[[CaseNumbers], object]]
CASE_COLUMNS: tuple[CaseColumn, ...] = (
    ("收件", lambda c: c.received),
    ("即办件", lambda c: c.instant),
    ("容缺受理", lambda c: c.deferred),
    ("受理", lambda c: c.accepted),
    ("按期受理率%", lambda c: c.accepted_in_time_pct),
    ("办结", lambda c: c.decided),
    ("按时办结率%", lambda c: c.on_time_pct),
    ("逾期", lambda c: c.overdue),
)
OVERDUE_HEADER = ("收件编号", "事项", "环节", "期限", "办理日期", "超期天数")


def case_summary(numbers: MonthlyNumbers) -> list[tuple[str, object, str]]:
    """(指标, value, unit) of the month's cases."""
    c = numbers.cases.total.numbers()
    return [
        ("收件数", c.received, "件"),
        ("即办件数（占比）", f"{c.instant}（{shown(c.instant_pct, '%')}）", ""),
        ("容缺受理数", c.deferred, "件"),
        ("受理数", c.accepted, "件"),
        ("2个工作日内受理率", c.accepted_in_time_pct, "%"),
        ("办结数（准予＋不予）", c.decided, "件"),
        ("按时办结数", c.decided_in_time, "件"),
        ("按时办结率", c.on_time_pct, "%"),
        ("逾期数", c.overdue, "件"),
    ]


def case_item_cells(numbers: MonthlyNumbers) -> list[list[object]]:
    """Per item (事项) in the hall config's order, then 合计."""
    lines: list[tuple[str, CaseTally]] = [(name, tally) for _, name, tally in numbers.cases.items()]
    lines.append(("合计", numbers.cases.total))
    return [[label, *(value(tally.numbers()) for _, value in CASE_COLUMNS)] for label, tally in lines]


def overdue_cells(numbers: MonthlyNumbers) -> list[list[object]]:
    """The overdue list: receipt number, item, step, deadline, the day it was done, days over — no
    citizen data."""
    return [
        [case.receipt_no, case.item_name, case.label, case.due.isoformat(),
         case.done.isoformat() if case.done else "未办理", case.days_over]
        for case in numbers.cases.overdue
    ]  # fmt: skip


def window_rows(numbers: MonthlyNumbers) -> list[StatsRow]:
    """The windows; the row of what no window had (issues, cancels) carries none of these columns."""
    return [row for row in numbers.by_window if row.key]


def table_cells(rows: Sequence[StatsRow], total: StatsRow, columns: Sequence[Column]) -> list[list[object]]:
    return [[row.label, *(value(row) for _, value in columns)] for row in [*rows, total]]


def period(numbers: MonthlyNumbers) -> str:
    return f"统计期间：{numbers.month.isoformat()} 至 {numbers.last_day.isoformat()}"


def generated(numbers: MonthlyNumbers) -> str:
    return f"生成时间：{numbers.generated_at:%Y-%m-%d %H:%M}"


def file_name(numbers: MonthlyNumbers, suffix: str) -> str:
    return f"monthly-{numbers.hall}-{numbers.month:%Y-%m}.{suffix}"


# ---- PDF ---------------------------------------------------------------------------------------


def to_pdf(numbers: MonthlyNumbers, font: PdfFont | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    _register(font or pdf_cjk_font())
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{numbers.hall_name} {numbers.title}运行情况月报",
        author="hallq",
        # The canvas would start each page in Helvetica, named though never drawn: start it in ours, so
        # the file names no font it does not embed.
        initialFontName=FONT,
    )
    doc.build(_story(numbers, doc.width), onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


_REGISTERING = threading.Lock()  # reports are drawn in worker threads; ReportLab's font registry is global


def _register(font: PdfFont) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _REGISTERING:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT, font.path, subfontIndex=font.index))


def _footer(canvas, doc) -> None:  # type: ignore[no-untyped-def]  # ReportLab's callbacks are untyped
    from reportlab.lib.units import mm

    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawCentredString(doc.pagesize[0] / 2, 9 * mm, f"第 {doc.page} 页")
    canvas.restoreState()


def _styles() -> dict[str, object]:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=14, leading=22, alignment=TA_CENTER),
        "meta": ParagraphStyle("meta", parent=base, fontSize=9.5, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=20, spaceBefore=10, spaceAfter=5, keepWithNext=1),
        "body": base,
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12),
        "h3": ParagraphStyle("h3", parent=base, fontSize=10.5, leading=16, spaceBefore=6, spaceAfter=3, keepWithNext=1),
    }


def _story(numbers: MonthlyNumbers, width: float) -> list[object]:
    from reportlab.platypus import Paragraph, Spacer

    s = _styles()
    story: list[object] = [
        Paragraph(numbers.hall_name, s["title"]),
        Paragraph(f"{numbers.title}政务服务运行情况月报", s["subtitle"]),
        Paragraph(period(numbers), s["meta"]),
        Paragraph(generated(numbers), s["meta"]),
        Spacer(1, 10),
    ]
    if numbers.empty:
        return [*story, Paragraph(NO_DATA, s["h2"])]
    story += [Paragraph("一、总体情况", s["h2"]), _summary_table(numbers, width)]
    story += [Paragraph("二、分业务情况", s["h2"])]
    story += [_grid("业务", table_cells(numbers.by_service, numbers.total, SERVICE_COLUMNS), SERVICE_COLUMNS, width)]
    story += [Paragraph("三、分窗口情况", s["h2"])]
    story += [_grid("窗口", table_cells(window_rows(numbers), numbers.total, WINDOW_COLUMNS), WINDOW_COLUMNS, width)]
    story += _charts(numbers, width, s)
    story += [Paragraph("七、评价情况（好差评）", s["h2"])]
    rating_rows = [row for row in numbers.by_service if row.rating.count]
    story += [_grid("业务", table_cells(rating_rows, numbers.total, RATING_COLUMNS), RATING_COLUMNS, width)]
    story += _cases(numbers, width, s)
    story += [Spacer(1, 8), Paragraph(_notes(numbers), s["note"])]
    return story


def _cases(numbers: MonthlyNumbers, width: float, s: dict[str, object]) -> list[object]:
    """八、办件情况: the month's numbers, per item, and the overdue list."""
    from reportlab.platypus import Paragraph

    story: list[object] = [Paragraph("八、办件情况", s["h2"])]
    if not numbers.has_cases:
        return [*story, Paragraph(numbers.cases_note or NO_CASES, s["body"])]
    story += [_pairs_table(case_summary(numbers), width), Paragraph("分事项", s["h3"])]
    headers = [name for name, _ in CASE_COLUMNS]
    story += [_wrapped_grid(["事项", *headers], case_item_cells(numbers), width, first_share=0.3)]
    story += [Paragraph("逾期办件清单", s["h3"])]
    overdue = overdue_cells(numbers)
    if not overdue:
        return [*story, Paragraph(NO_OVERDUE, s["body"])]
    shares = (0.2, 0.34, 0.12, 0.12, 0.12)
    story += [_wrapped_grid(list(OVERDUE_HEADER), overdue, width, first_share=0.0, shares=shares, total=False)]
    return story


def _notes(numbers: MonthlyNumbers) -> str:
    return (
        "说明：等候时间为取号至首次叫号；办理时长为最后一次叫号至办结；目标时间内叫号占比按各业务的目标等候时间计算；"
        "流失为取消与过期未办之和；窗口利用率为办理时长÷开窗时长；好评为4-5分，差评为1-2分。"
        "办件：收件按首次收件日计，受理、办结按其办理日计；按期受理为收件后2个工作日内受理；按时办结率为承诺期限内"
        "办结（准予或不予）的件数÷办结件数；逾期为期限在本月、到期未办理（受理或补正告知、办结）的环节，超期天数为"
        "期限至办理日（未办理的至统计期末）的自然日数。"
        f"数据含截至第 {numbers.folded_seq} 号事件的记录。"
    )


def _table_style(header_rows: int = 1, total_row: bool = True) -> object:
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    commands: list[tuple[object, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8a8a8a")),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e4ebf5")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if total_row:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f3f3f3")))
    return TableStyle(commands)


def _summary_table(numbers: MonthlyNumbers, width: float) -> object:
    return _pairs_table(summary(numbers), width)


def _pairs_table(numbers: list[tuple[str, object, str]], width: float) -> object:
    """指标 and value, two pairs a line."""
    from reportlab.platypus import Table

    items = [(name, shown(value, unit if value is not None else "")) for name, value, unit in numbers]
    half = (len(items) + 1) // 2
    left, right = items[:half], items[half:] + [("", "")] * (2 * half - len(items))
    cells = [[a, b, c, d] for (a, b), (c, d) in zip(left, right, strict=True)]
    table = Table(cells, colWidths=[width * 0.3, width * 0.2, width * 0.3, width * 0.2])
    table.setStyle(_table_style(header_rows=0, total_row=False))
    table.setStyle([("ALIGN", (2, 0), (2, -1), "LEFT")])
    return table


def _grid(first: str, cells: list[list[object]], columns: Sequence[Column], width: float) -> object:
    from reportlab.platypus import Table

    header = [_header_cell(first), *(_header_cell(name) for name, _ in columns)]
    body = [[str(line[0]), *(shown(v) for v in line[1:])] for line in cells]
    first_width = width * 0.19
    rest = (width - first_width) / len(columns)
    table = Table([header, *body], colWidths=[first_width, *([rest] * len(columns))], repeatRows=1)
    table.setStyle(_table_style())
    return table


def _wrapped_grid(header: list[str], cells: list[list[object]], width: float, first_share: float,
                  shares: Sequence[float] = (), total: bool = True) -> object:  # fmt: skip
    """A table whose text cells wrap (long item names); `shares` of the width per column, or the first
    column `first_share` and the rest evenly."""
    from reportlab.platypus import Table

    count = len(header)
    widths = [width * share for share in shares]
    if not shares:
        widths = [width * first_share, *([width * (1 - first_share) / (count - 1)] * (count - 1))]
    if len(widths) < count:
        widths += [(width - sum(widths)) / (count - len(widths))] * (count - len(widths))
    body = [[_text_cell(v) if isinstance(v, str) else shown(v) for v in line] for line in cells]
    table = Table([[_header_cell(h) for h in header], *body], colWidths=widths, repeatRows=1)
    table.setStyle(_table_style(total_row=total))
    return table


def _text_cell(text: str) -> object:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    return Paragraph(text, ParagraphStyle("td", fontName=FONT, fontSize=8.5, leading=10.5, wordWrap="CJK"))


def _header_cell(text: str) -> object:
    """A column header that wraps inside its column instead of running into the next."""
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    style = ParagraphStyle("th", fontName=FONT, fontSize=8, leading=10, alignment=TA_CENTER, wordWrap="CJK")
    return Paragraph(text, style)


def _charts(numbers: MonthlyNumbers, width: float, s: dict[str, object]) -> list[object]:
    from reportlab.platypus import KeepTogether, Paragraph

    hours_ = numbers.by_hour
    days = numbers.by_day
    bands = numbers.wait_bands
    return [
        KeepTogether([
            Paragraph("四、分时段取号量（各小时合计）", s["h2"]),
            _bars(width, [r.key for r in hours_], [("取号", [r.issued for r in hours_]),
                                                  ("办结", [r.served for r in hours_])]),
        ]),
        KeepTogether([
            Paragraph("五、等候时间分布（首次叫号）", s["h2"]),
            _bars(width, [b.label for b in bands], [("叫号", [b.count for b in bands])]),
        ]),
        KeepTogether([
            Paragraph("六、每日取号与办结", s["h2"]),
            _bars(width, [r.key[8:] for r in days], [("取号", [r.issued for r in days]),
                                                    ("办结", [r.served for r in days])]),
        ]),
    ]  # fmt: skip


SERIES_COLOURS = ("#3b6fb6", "#e08a2c")


def nice_step(highest: int, ticks: int = 5) -> int:
    """A whole 1, 2 or 5 × 10^k step giving about `ticks` gridlines up to `highest` (counts)."""
    rough = max(highest / ticks, 1)
    power = 10 ** math.floor(math.log10(rough))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= rough))


def _bars(width: float, labels: list[str], series: list[tuple[str, list[int]]]) -> object:
    """A vertical bar chart with its values written above the bars and a legend."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    height = 170.0
    drawing = Drawing(width, height, initialFontName=FONT, initialFontSize=8)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 32, 28, width - 44, height - 58
    chart.data = [values or [0] for _, values in series]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7 if len(labels) > 12 else 8
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    highest = max((max(values) for _, values in series if values), default=0)
    chart.valueAxis.valueStep = nice_step(highest)
    chart.barLabelFormat = "%d" if len(labels) <= 16 else None  # a month of days: the axis says enough
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6 if len(labels) * len(series) > 24 else 7
    chart.barLabels.nudge = 6
    chart.groupSpacing = 3
    for index, _ in enumerate(series):
        chart.bars[index].fillColor = colors.HexColor(SERIES_COLOURS[index % len(SERIES_COLOURS)])
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.fontName = FONT
    legend.fontSize = 8
    legend.x, legend.y = width - 12 - 60 * len(series), height - 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [
        (colors.HexColor(SERIES_COLOURS[i % len(SERIES_COLOURS)]), name) for i, (name, _) in enumerate(series)
    ]
    drawing.add(legend)
    return drawing


# ---- XLSX --------------------------------------------------------------------------------------


def to_xlsx(numbers: MonthlyNumbers) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "汇总"
    sheet.append([f"{numbers.hall_name} {numbers.title}政务服务运行情况月报"])
    sheet.append([period(numbers)])
    sheet.append([generated(numbers)])
    sheet.append([])
    if numbers.empty:
        sheet.append([NO_DATA])
    else:
        _summary_sheet(sheet, numbers)
        _table_sheet(book, "分业务", "业务", table_cells(numbers.by_service, numbers.total, SERVICE_COLUMNS),
                     SERVICE_COLUMNS)  # fmt: skip
        _table_sheet(book, "分窗口", "窗口", table_cells(window_rows(numbers), numbers.total, WINDOW_COLUMNS),
                     WINDOW_COLUMNS)  # fmt: skip
        _series_sheet(book, "分时段", "时段", [(r.label, r.issued, r.served) for r in numbers.by_hour])
        _series_sheet(book, "等候分布", "等候时间", [(b.label, b.count) for b in numbers.wait_bands], ("叫号",))
        _series_sheet(book, "每日", "日期", [(r.key, r.issued, r.served) for r in numbers.by_day])
        rating_rows = [row for row in numbers.by_service if row.rating.count]
        _table_sheet(book, "评价", "业务", table_cells(rating_rows, numbers.total, RATING_COLUMNS), RATING_COLUMNS)
        _cases_sheets(book, numbers)
    sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bold_row(sheet, row: int) -> None:  # type: ignore[no-untyped-def]
    from openpyxl.styles import Font

    for cell in sheet[row]:
        cell.font = Font(bold=True)


def _summary_sheet(sheet, numbers: MonthlyNumbers) -> None:  # type: ignore[no-untyped-def]
    sheet.append(["指标", "数值", "单位"])
    _bold_row(sheet, sheet.max_row)
    for name, value, unit in summary(numbers):
        sheet.append([name, value, unit])


def _table_sheet(book, title: str, first: str, cells: list[list[object]],  # type: ignore[no-untyped-def]
                 columns: Sequence[Column]) -> None:  # fmt: skip
    sheet = book.create_sheet(title)
    sheet.append([first, *(name for name, _ in columns)])
    _bold_row(sheet, 1)
    for line in cells:
        sheet.append(line)
    _bold_row(sheet, sheet.max_row)
    sheet.column_dimensions["A"].width = 18
    sheet.freeze_panes = "B2"


def _cases_sheets(book, numbers: MonthlyNumbers) -> None:  # type: ignore[no-untyped-def]
    """办件: the month's numbers and per item; 逾期办件: the overdue list."""
    sheet = book.create_sheet("办件")
    if not numbers.has_cases:
        sheet.append([numbers.cases_note or NO_CASES])
        return
    sheet.append(["指标", "数值", "单位"])
    _bold_row(sheet, 1)
    for name, value, unit in case_summary(numbers):
        sheet.append([name, value, unit])
    sheet.append([])
    sheet.append(["事项", *(name for name, _ in CASE_COLUMNS)])
    _bold_row(sheet, sheet.max_row)
    for line in case_item_cells(numbers):
        sheet.append(line)
    _bold_row(sheet, sheet.max_row)
    sheet.column_dimensions["A"].width = 30
    overdue = book.create_sheet("逾期办件")
    overdue.append(list(OVERDUE_HEADER))
    _bold_row(overdue, 1)
    for line in overdue_cells(numbers):
        overdue.append(line)
    overdue.column_dimensions["A"].width = 18
    overdue.column_dimensions["B"].width = 30


def _series_sheet(book, title: str, first: str, lines: list[tuple[object, ...]],  # type: ignore[no-untyped-def]
                  names: tuple[str, ...] = ("取号", "办结")) -> None:  # fmt: skip
    """A small table and its native bar chart beside it."""
    from openpyxl.chart import BarChart, Reference

    sheet = book.create_sheet(title)
    sheet.append([first, *names])
    _bold_row(sheet, 1)
    for line in lines:
        sheet.append(list(line))
    sheet.column_dimensions["A"].width = 14
    if not lines:
        return
    chart = BarChart()
    chart.title = title
    chart.width, chart.height = 22, 9
    data = Reference(sheet, min_col=2, max_col=1 + len(names), min_row=1, max_row=1 + len(lines))
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=1 + len(lines)))
    sheet.add_chart(chart, "E2")
