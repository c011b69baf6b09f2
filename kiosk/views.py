"""What each kiosk screen shows, as plain frozen data. The presenter builds them; a Kivy screen
renders one. Adding a screen = a view class here + a screen (kv + py) registered in kiosk/app.py.
`speech` is what elderly mode reads aloud when the screen appears."""

from __future__ import annotations

from dataclasses import dataclass, field

GREEN_REASONS: dict[str, str] = {
    "elderly": "60岁以上老人",
    "disabled": "残疾人",
    "pregnant": "孕妇",
    "military": "军人",
}

STATUS_TEXT: dict[str, str] = {
    "waiting": "等候中",
    "called": "已叫号，请前往窗口",
    "done": "已办结",
    "no_show": "已过号",
    "parked": "挂起，等待补充材料",
    "cancelled": "已取消",
    "expired": "已过期",
}


def wait_text(seconds: int) -> str:
    if seconds <= 0:
        return "无需等候"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"约{minutes}分钟"
    return f"约{minutes // 60}小时{minutes % 60}分钟" if minutes % 60 else f"约{minutes // 60}小时"


def spoken_number(number: str) -> str:
    """A012 → "A零一二": letters as letters, digits one by one (as the voice caller reads them)."""
    digits = "零一二三四五六七八九"
    return "".join(digits[int(c)] if c.isdigit() else c for c in number)


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    department: str
    waiting: int
    wait: str
    open_now: bool
    group: int  # index of the department, for alternating colours


@dataclass(frozen=True)
class HomeView:
    hall_name: str
    notice: str
    tiles: tuple[Tile, ...]
    page: int = 0
    pages: int = 1
    elderly: bool = False
    citizen: str = ""  # "张*，您好"
    green: str = ""  # "绿色通道（60岁以上老人）：请选择业务"
    offline: str = ""  # a banner while the dispatcher cannot be reached
    speech: str = ""


@dataclass(frozen=True)
class PriorityView:
    reasons: tuple[tuple[str, str], ...]
    elderly: bool = False
    speech: str = "绿色通道。请选择您的情况"


@dataclass(frozen=True)
class BusyView:
    text: str
    speech: str = ""


@dataclass(frozen=True)
class TicketView:
    ticket_id: str
    number: str
    service_name: str
    ahead: int
    wait: str
    qr: str
    priority_label: str = ""
    note: str = ""  # a sentence above the number's details (a late check-in: a normal ticket)
    printing: bool = True
    printed: bool = False
    print_message: str = "正在打印号票…"
    speech: str = ""


@dataclass(frozen=True)
class MessageView:
    title: str
    text: str
    kind: str = "info"  # info | refused | offline | card
    retrying: bool = False
    button: str = "返回首页"
    speech: str = ""


@dataclass(frozen=True)
class StatusLine:
    ticket_id: str
    number: str
    service_name: str
    status: str
    status_text: str
    ahead: int
    wait: str


@dataclass(frozen=True)
class StatusView:
    entry: str = ""
    result: StatusLine | None = None
    error: str = ""
    busy: bool = False
    can_rejoin: bool = False
    can_rate: bool = False
    prefixes: tuple[str, ...] = field(default_factory=tuple)
    speech: str = "查询号码。请扫描号票上的二维码，或输入号码"


# 好差评 levels as the national system names them (DESIGN.md §11); 1 and 2 are 差评.
RATING_LEVELS: tuple[tuple[int, str], ...] = (
    (5, "非常满意"),
    (4, "满意"),
    (3, "基本满意"),
    (2, "不满意"),
    (1, "非常不满意"),
)


@dataclass(frozen=True)
class ReasonChoice:
    code: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class RatingView:
    """好差评 of a served ticket on the kiosk: the level, then (optional, asked for after a 差评) reasons."""

    number: str
    service_name: str
    window_name: str
    score: int | None = None
    reasons: tuple[ReasonChoice, ...] = ()
    error: str = ""
    speech: str = ""

    @property
    def is_bad(self) -> bool:
        return self.score is not None and self.score <= 2
