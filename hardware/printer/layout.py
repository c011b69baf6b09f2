"""Pure ESC/POS layouts: a queue ticket (取号凭条), a receipt notice (收件通知书) and a hand-over sheet
(材料交接表) → bytes.

No I/O: each layout draws on python-escpos's `Dummy` printer and returns `Dummy().output`, so tests
compare bytes and any transport can send them. Chinese text is sent as GB18030 after `FS &` (the
Chinese character mode of the printers sold in China); the QR code is native (`GS ( k`) where the
printer profile says it can, else rendered as a raster image.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import unicodedata
from collections.abc import Sequence

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

INIT = b"\x1b\x40"  # ESC @
CHINESE_ON = b"\x1c\x26"  # FS &  (GB18030 / GBK double-byte mode)
QR_MODES = ("auto", "native", "image")


@dataclasses.dataclass(frozen=True)
class TicketSlip:
    """What a queue ticket shows. No name or ID number: a ticket may be lost or thrown away."""

    hall_name: str
    number: str
    service_name: str
    ahead: int
    estimated_wait_s: int | None
    issued_at: dt.datetime
    status_url: str = ""
    advice: str = "请留意叫号屏幕和语音提示，过号请到取号机重新排队。"
    priority_label: str = ""  # e.g. 绿色通道 (printed under the number when set)


@dataclasses.dataclass(frozen=True)
class ReceiptSlip:
    """A 收件通知书: what the hall received for a case and what is still owed (容缺受理)."""

    hall_name: str
    receipt_number: str
    service_item: str
    applicant: str  # masked name (张*), never the whole name
    received_at: dt.datetime
    materials_received: Sequence[str]
    materials_missing: Sequence[str] = ()  # 容缺: accepted now, to be supplied later
    supplement_by: dt.date | None = None  # deadline to hand in the missing materials
    promised_by: dt.date | None = None  # 承诺办结日期
    status_url: str = ""
    contact: str = ""


@dataclasses.dataclass(frozen=True)
class HandoverLine:
    """One case on a hand-over sheet: its receipt number, item, masked applicant, what goes, by when."""

    receipt_number: str
    service_item: str
    applicant: str  # masked name only
    materials: Sequence[str]
    due: dt.datetime | None = None  # by when the paper must reach the department


@dataclasses.dataclass(frozen=True)
class HandoverSlip:
    """A 《材料交接表》 printed at the window that hands the paper over; the department signs it."""

    hall_name: str
    sheet_number: str
    title: str  # 材料交接表 / 办理结果交接表
    from_desk: str  # 1号窗口
    to_desk: str  # the department
    handed_by: str  # staff account, never a citizen's data
    created_at: dt.datetime
    lines: Sequence[HandoverLine]


@dataclasses.dataclass(frozen=True)
class LayoutOptions:
    """How to lay out for one printer: escpos profile, characters per line, QR mode."""

    profile: str = "default"
    columns: int = 32  # 58 mm paper: 32 half-width characters; 80 mm: 48
    qr: str = "auto"  # auto: native when the profile supports it, else image
    qr_size: int = 6
    cut: bool = True

    def __post_init__(self) -> None:
        if self.qr not in QR_MODES:
            raise ValueError(f"qr mode {self.qr!r}: choose one of {', '.join(QR_MODES)}")
        if not 16 <= self.columns <= 64:
            raise ValueError(f"columns {self.columns} is not a paper width (16..64)")
        from escpos.capabilities import CAPABILITIES

        if self.profile not in CAPABILITIES["profiles"]:
            similar = sorted(p for p in CAPABILITIES["profiles"] if p[:2].lower() == self.profile[:2].lower())
            raise ValueError(
                f"printer profile {self.profile!r} unknown to python-escpos"
                + (f"; similar: {', '.join(similar[:8])}" if similar else "; try default, TM-T20II, POS-5890")
            )


def text_width(text: str) -> int:
    """Printed width in half-width cells: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break text into lines of at most `columns` cells (CJK text breaks anywhere)."""
    lines: list[str] = []
    line, width = "", 0
    for char in text:
        w = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if width + w > columns:
            lines.append(line)
            line, width = "", 0
        line += char
        width += w
    if line or not lines:
        lines.append(line)
    return lines


def wait_text(estimated_wait_s: int | None) -> str:
    if estimated_wait_s is None:
        return ""
    if estimated_wait_s <= 0:
        return "预计等候：即将叫号"
    return f"预计等候：约 {math.ceil(estimated_wait_s / 60)} 分钟"


class _Page:
    """A thin drawing helper over Dummy: GB18030 text, sizes, rules, QR, cut."""

    def __init__(self, options: LayoutOptions) -> None:
        self.options = options
        self.printer = Dummy(profile=options.profile)
        self.printer._raw(INIT + CHINESE_ON)

    def text(self, line: str = "") -> None:
        self.printer._raw(line.encode("gb18030") + b"\n")

    def wrapped(self, text: str, columns: int | None = None) -> None:
        for line in wrap(text, columns or self.options.columns):
            self.text(line)

    def style(self, *, align: str = "left", bold: bool = False, size: int = 1) -> None:
        # GS ! for every size, 1 included: ESC ! would also reset bold and font
        self.printer.set(align=align, bold=bold, custom_size=True, width=size, height=size)

    def rule(self) -> None:
        self.style(align="left")
        self.text("-" * self.options.columns)

    def qr(self, content: str) -> None:
        if not content:
            return
        native = self.options.qr == "native" or (self.options.qr == "auto" and self.printer.profile.supports("qrCode"))
        self.style(align="center")
        if native:
            self.printer.qr(content, ec=QR_ECLEVEL_M, size=self.options.qr_size, native=True)
            self.printer._raw(b"\n")
        else:
            self.printer.qr(content, ec=QR_ECLEVEL_M, size=self.options.qr_size, native=False, center=False)

    def finish(self) -> bytes:
        self.style(align="left")
        if self.options.cut:
            self.printer.cut()
        else:
            self.printer.ln(4)
        return bytes(self.printer.output)


def render_ticket(slip: TicketSlip, options: LayoutOptions | None = None) -> bytes:
    """The bytes of one queue ticket."""
    page = _Page(options or LayoutOptions())
    big = text_width(slip.hall_name) * 2 <= page.options.columns  # double size when it fits one line
    page.style(align="center", bold=True, size=2 if big else 1)
    page.wrapped(slip.hall_name)
    page.style(align="center")
    page.text("排队凭条")
    page.rule()
    page.style(align="center", bold=True, size=4)
    page.text(slip.number)
    if slip.priority_label:
        page.style(align="center", bold=True, size=1)
        page.text(f"【{slip.priority_label}】")
    page.style(align="center", bold=True, size=2)
    page.wrapped(slip.service_name, page.options.columns // 2)
    page.style(align="left")
    page.text(f"您前面还有 {slip.ahead} 人等候")
    wait = wait_text(slip.estimated_wait_s)
    if wait:
        page.text(wait)
    page.text(f"取号时间：{slip.issued_at:%Y-%m-%d %H:%M}")
    if slip.status_url:
        page.qr(slip.status_url)
        page.style(align="center")
        page.text("微信/手机扫码查看排队进度")
    page.rule()
    page.wrapped(slip.advice)
    return page.finish()


def render_receipt(slip: ReceiptSlip, options: LayoutOptions | None = None) -> bytes:
    """The bytes of one 收件通知书 (receipt notice for a submitted case)."""
    page = _Page(options or LayoutOptions())
    page.style(align="center", bold=True)
    page.wrapped(slip.hall_name)
    page.style(align="center", bold=True, size=2)
    page.text("收件通知书")
    page.style(align="left")
    page.text(f"收件编号：{slip.receipt_number}")
    page.wrapped(f"办理事项：{slip.service_item}")
    page.text(f"申请人：{slip.applicant}")
    page.text(f"收件时间：{slip.received_at:%Y-%m-%d %H:%M}")
    page.rule()
    page.style(align="left", bold=True)
    page.text("已收材料：")
    page.style(align="left")
    for index, item in enumerate(slip.materials_received, start=1):
        page.wrapped(f"{index}. {item}")
    if slip.materials_missing:
        page.style(align="left", bold=True)
        page.text("容缺材料（请按期补交）：")
        page.style(align="left")
        for index, item in enumerate(slip.materials_missing, start=1):
            page.wrapped(f"{index}. {item}")
        if slip.supplement_by:
            page.text(f"补交期限：{slip.supplement_by:%Y-%m-%d}前")
    page.rule()
    if slip.promised_by:
        page.text(f"承诺办结：{slip.promised_by:%Y-%m-%d}前")
    if slip.status_url:
        page.qr(slip.status_url)
        page.style(align="center")
        page.text("扫码查看办理进度")
    if slip.contact:
        page.style(align="left")
        page.wrapped(f"咨询电话：{slip.contact}")
    page.style(align="left")
    page.wrapped("本通知书是收件凭证，请妥善保管，领取结果时出示。")
    return page.finish()


def render_handover(slip: HandoverSlip, options: LayoutOptions | None = None) -> bytes:
    """The bytes of one hand-over sheet, with lines for the receiving department's signature."""
    page = _Page(options or LayoutOptions())
    page.style(align="center", bold=True)
    page.wrapped(slip.hall_name)
    page.style(align="center", bold=True, size=2)
    page.text(slip.title)
    page.style(align="left")
    page.text(f"交接单号：{slip.sheet_number}")
    page.wrapped(f"移交：{slip.from_desk}（{slip.handed_by}）")
    page.wrapped(f"接收：{slip.to_desk}")
    page.text(f"移交时间：{slip.created_at:%Y-%m-%d %H:%M}")
    for index, line in enumerate(slip.lines, start=1):
        page.rule()
        page.style(align="left", bold=True)
        page.text(f"{index}. {line.receipt_number}")
        page.style(align="left")
        page.wrapped(f"事项：{line.service_item}")
        page.text(f"申请人：{line.applicant}")
        page.wrapped("材料：" + "、".join(line.materials))
        if line.due:
            page.text(f"送达时限：{line.due:%m-%d %H:%M}前")
    page.rule()
    page.text(f"共 {len(slip.lines)} 件")
    page.text("接收人签字：")
    page.text("")
    page.text("签收时间：")
    page.text("")
    return page.finish()


def sample_ticket(now: dt.datetime | None = None) -> TicketSlip:
    """The ticket `hallq devices test-print` prints."""
    return TicketSlip(
        hall_name="示范政务服务中心",
        number="A012",
        service_name="社保医保",
        ahead=3,
        estimated_wait_s=540,
        issued_at=now or dt.datetime(2026, 1, 5, 9, 15),
        status_url="https://hall.example.cn/t/demo/0b7c2e?k=3f9a",
    )
