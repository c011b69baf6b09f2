"""What each submission screen shows, as frozen data (like kiosk/views.py). `speech` is read aloud in
elderly mode. Nothing here ever holds a whole name or ID number: the applicant is `masked` only."""

from __future__ import annotations

from dataclasses import dataclass, field

KIND_LABELS = {"instant": "即办件", "promised": "承诺件"}
FORM_LABELS = {"original": "原件", "copy": "复印件"}


@dataclass(frozen=True)
class HandbookEntry:
    code: str
    name: str
    kind_label: str


@dataclass(frozen=True)
class HandbookGroup:
    service: str
    name: str
    department: str
    items: tuple[HandbookEntry, ...]


@dataclass(frozen=True)
class HandbookView:
    groups: tuple[HandbookGroup, ...]
    speech: str = "办事指南。请选择要了解或申报的事项"


@dataclass(frozen=True)
class MaterialLine:
    name: str
    form: str  # 原件 / 复印件
    copies: int
    deferrable: bool


@dataclass(frozen=True)
class ItemView:
    code: str
    name: str
    service_code: str
    service_name: str
    kind_label: str
    promise: str  # "承诺 5 个工作日内办结" / "当场办结"
    fee: str
    conditions: str
    legal_basis: str
    materials: tuple[MaterialLine, ...]
    defer_days: int
    ticket_open: bool = True
    speech: str = ""


@dataclass(frozen=True)
class CardView:
    item_name: str
    error: str = ""
    speech: str = "请在读卡区刷身份证"


@dataclass(frozen=True)
class PhoneView:
    item_name: str
    masked_name: str
    entry: str = ""
    error: str = ""
    speech: str = "请输入手机号码，用于接收办理进度通知"


@dataclass(frozen=True)
class MaterialView:
    item_name: str
    index: int  # position in this pass (0-based)
    count: int  # materials in this pass
    idx: int  # the material's index in the case (API)
    name: str
    form: str
    copies: int
    deferrable: bool
    status: str  # missing / provided / deferred
    pages: int
    hint: str
    can_request: bool  # the source takes pages on a tap (camera, demo); a folder scanner has its own button
    uploading: bool = False
    error: str = ""
    preview: bytes = field(default=b"", repr=False)  # the last page scanned for it (JPEG/PNG), to check it
    preview_pdf: bool = False  # the last page is a PDF: no picture, a note
    correction: bool = False
    note: str = ""  # the office's correction note
    speech: str = ""


@dataclass(frozen=True)
class SignView:
    material_name: str
    promise: str
    error: str = ""
    speech: str = ""


@dataclass(frozen=True)
class LockerView:
    state: str  # offer / open / unavailable
    slot: str = ""
    text: str = ""
    demo: bool = False
    speech: str = ""


@dataclass(frozen=True)
class ConfirmLine:
    name: str
    state: str  # "已扫描 2 页" / "容缺（已签承诺）"
    ok: bool


@dataclass(frozen=True)
class ConfirmView:
    item_name: str
    masked_name: str
    phone: str  # masked
    lines: tuple[ConfirmLine, ...]
    locker: str = ""
    correction: bool = False
    speech: str = "请核对申报信息，确认无误后点击确认提交"


@dataclass(frozen=True)
class ReceiptView:
    receipt_no: str
    item_name: str
    masked_name: str
    received: tuple[str, ...]
    deferred: tuple[str, ...]
    deadlines: tuple[str, ...]  # "补交容缺材料：2026-11-30前", …
    qr: str
    title: str = "收件通知书"
    printing: bool = True
    printed: bool = False
    print_message: str = "正在打印收件通知书…"
    speech: str = ""


@dataclass(frozen=True)
class SubMessageView:
    """Resume offers, "still there?", the correction notice, refusals: a title, a text and buttons.
    `actions` are (label, action name) pairs; the screen calls `presenter.action(name)`."""

    title: str
    text: str
    actions: tuple[tuple[str, str], ...] = (("返回首页", "home"),)
    kind: str = "info"  # info / refused / offline / question
    speech: str = ""


SUBMISSION_VIEWS: tuple[type, ...] = (
    HandbookView,
    ItemView,
    CardView,
    PhoneView,
    MaterialView,
    SignView,
    LockerView,
    ConfirmView,
    ReceiptView,
    SubMessageView,
)
