"""Colours and the few text formatters the .kv files use (plain Python, no Kivy)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caller.terminal.presenter import TerminalView, format_duration, serving_seconds


def _rgb(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


BACKGROUND = _rgb("#f3f5f8")
CITIZEN_BACKGROUND = _rgb("#eef4fb")
PANEL = _rgb("#ffffff")
TEXT = _rgb("#1c2430")
MUTED = _rgb("#5b6675")
NUMBER = _rgb("#c0392b")
PRIMARY = _rgb("#1f6fd1")
BUTTON = _rgb("#3d4b5f")
QUIET = _rgb("#7a8594")
OK = _rgb("#1e8e4f")
GREEN = _rgb("#18a058")
WARN = _rgb("#d9822b")
ERROR = _rgb("#c62828")
RATING = (_rgb("#c62828"), _rgb("#e4572e"), _rgb("#d9a400"), _rgb("#5aa02c"), _rgb("#1e8e4f"))

FADED = 0.35  # the levels not chosen, once one is (their words turn dark to stay readable)


def level_colour(score: int, chosen: int) -> tuple[float, float, float, float]:
    """A level's colour; faded when the citizen has chosen another one."""
    r, g, b, _a = RATING[score - 1]
    return (r, g, b, FADED if chosen and chosen != score else 1.0)


STATE_WORDS = {"open": "服务中", "paused": "暂停服务", "closed": "未开窗"}


def state_text(view: TerminalView) -> str:
    words = STATE_WORDS.get(view.state, view.state)
    return f"{words}：{view.reason}" if view.state == "paused" and view.reason else words


def state_color(view: TerminalView) -> tuple[float, float, float, float]:
    return {"open": OK, "paused": WARN}.get(view.state, QUIET)


def bus_text(view: TerminalView) -> str:
    if view.bus_online:
        return "● 消息在线"
    return "○ 消息离线：凭据被拒绝" if view.bus_problem else "○ 消息离线"


def clock_text(now: float, timezone: str = "") -> str:
    """The time in the hall's zone; the machine's zone only until the hall has been read."""
    if not now:
        return ""
    try:
        zone: dt.tzinfo | None = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return dt.datetime.fromtimestamp(now, zone).strftime("%H:%M:%S")


def ticket_lines(view: TerminalView, now: float) -> str:
    ticket = view.ticket
    if ticket is None:
        return ""
    service = f"{ticket.service_name}（{ticket.service}）" if ticket.service_name else ticket.service or "—"
    lines = [f"业务：{service}", f"等候时间：{format_duration(ticket.waited_s)}"]
    serving = serving_seconds(ticket, dt.datetime.fromtimestamp(now, dt.UTC)) if now else None
    if serving is not None:
        lines.append(f"已办理：{format_duration(serving)}")
    if ticket.transferred_from:
        lines.append(f"转自：{ticket.transferred_from}")
    if ticket.green:
        lines.append("优先：绿色通道")
    return "\n".join(lines)


def login_status(view: TerminalView) -> str:
    """Before login: what the window's retained topic says, so a restarted PC shows it at once."""
    if not view.bus_online and not view.led_text:
        waiting = "消息服务器拒绝连接" if view.bus_problem else "正在连接消息服务器…"
        return f"{view.window_name}  ·  {waiting}"
    parts = [view.window_name, state_text(view)]
    if view.ticket is not None:
        parts.append(f"当前 {view.ticket.number}")
    return "  ·  ".join(parts)


def idle_text(view: TerminalView) -> str:
    if view.state == "paused":
        return f"已暂停服务（{view.reason or '未填原因'}）。按 F6 恢复服务。"
    if view.waiting_total == 0:
        return "当前没有正在办理的号，也没有人等候。"
    return "当前没有正在办理的号。按 F1 叫下一位。"


def rating_subtitle(view: TerminalView) -> str:
    ticket = view.rating_ticket
    if ticket is None:
        return view.window_name
    service = f" · {ticket.service_name}" if ticket.service_name else ""
    return f"{ticket.number}{service} · {view.window_name}"


def reasons_caption(view: TerminalView) -> str:
    if view.rating_score is None:
        return "请点选满意程度，再按“提交评价”"
    if view.rating_bad:
        return "请选择不满意的原因（至少一项），再按“提交评价”"
    if not view.rating_reasons:
        return "请按“提交评价”"
    if view.rating_score >= 4:
        return "您满意的方面（可不选），再按“提交评价”"
    return "可选择有待改进的方面，再按“提交评价”"
