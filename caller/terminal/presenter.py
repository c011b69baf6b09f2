"""The window terminal's presenter: plain Python, no Kivy, no threads of its own.

The screens hold properties and forward key presses and button taps here; the presenter decides,
runs HTTP through a `Runner` (a worker thread whose result comes back on the UI thread in the app,
synchronous in tests) and publishes a new `TerminalView` through `on_change`. MQTT messages from the
window's retained topic and the board arrive through `on_window_message` / `on_board`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from caller.terminal.api import TerminalApi
from caller.terminal.speech import SilentSpeaker, Speaker
from hallq.api_models import (
    Body,
    CallBackBody,
    CallNumberBody,
    HallInfo,
    LoginAnswer,
    PauseBody,
    QuickServeBody,
    TicketAtWindow,
    TransferBody,
    WindowAnswer,
)
from hallq.client import DispatcherError, DispatcherRefused, DispatcherUnreachable
from hallq.contract import BoardSnapshot, WindowStateMessage
from hallq.evaluation_models import RatingBody, RatingOptions
from hallq.worker import Backoff, Done

log = logging.getLogger(__name__)

T = TypeVar("T")

PAUSE_REASONS = ("午休", "临时离开", "系统故障")
OTHER_REASON = "其他"
RATING_LABELS = ("非常不满意", "不满意", "基本满意", "满意", "非常满意")  # by score - 1
RATING_ORDER = (5, 4, 3, 2, 1)  # as the national rating card shows them: 非常满意 first
ASK_RATING = "请您对本次服务进行评价"
THANKS = "感谢您的评价"
NEED_LEVEL = "请先选择满意程度"
NEED_REASON = "请至少选择一项不满意的原因"
BAD_FOLLOW_UP = "大厅负责人将核实情况并整改，谢谢您的监督。"
RETRY_DELAYS_S = (1.0, 2.0, 4.0, 5.0)
RETRY = Backoff(RETRY_DELAYS_S)
REFRESH_EVERY_S = 30.0
RATING_TIMEOUT_S = 60.0
THANKS_SHOWN_S = 3.0
NUMBER_PATTERN = re.compile(r"^[A-Z]{1,2}\d{1,5}$")

KEYS = {
    "f1": "call_next",
    "f2": "recall",
    "f3": "no_show",
    "f4": "finish",
    "f5": "open_transfer",
    "f6": "pause_or_resume",
    "f7": "open_call_number",
    "f8": "park_or_call_back",
    "f9": "open_quick_serve",
    "escape": "cancel",
}


class Runner(Protocol):
    """Where the presenter's slow work runs and how its results come back to the UI thread."""

    def submit(self, job: Callable[[], Any], done: Done) -> None: ...

    def later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run fn on the UI thread after delay_s; returns a function that cancels it."""
        ...


@dataclass(frozen=True)
class TicketView:
    number: str
    id: str | None = None
    service: str = ""
    service_name: str = ""
    priority: str = "normal"
    status: str = "called"
    waited_s: int | None = None
    called_at: dt.datetime | None = None
    transferred_from: str | None = None

    @property
    def green(self) -> bool:
        return self.priority == "green"

    @classmethod
    def from_api(cls, ticket: TicketAtWindow) -> TicketView:
        return cls(
            number=ticket.number,
            id=ticket.id,
            service=ticket.service,
            service_name=ticket.service_name,
            priority=ticket.priority,
            status=ticket.status,
            waited_s=ticket.waited_s,
            called_at=ticket.called_at,
            transferred_from=ticket.transferred_from,
        )


@dataclass(frozen=True)
class Target:
    """Somewhere a ticket can be transferred to: a service or another window."""

    kind: str  # "service" | "window"
    id: str
    label: str


@dataclass(frozen=True)
class ReasonToggle:
    """One of the hall's reasons for the chosen level, as a button the citizen toggles."""

    code: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class TerminalView:
    phase: str = "login"  # login | work | rating
    window: str = ""
    window_name: str = ""
    username: str = ""
    password: str = ""
    clerk: str = ""
    state: str = "closed"  # open | paused | closed, as the dispatcher says
    reason: str = ""
    ticket: TicketView | None = None
    led_text: str = ""
    waiting: dict[str, int] = field(default_factory=dict)
    service_names: dict[str, str] = field(default_factory=dict)
    served_today: int | None = None
    parked: tuple[TicketView, ...] = ()
    message: str = ""
    error: str = ""
    banner: str = ""
    busy: str = ""
    dialog: str = ""  # "" | transfer | pause | call-number | quick-serve | call-back
    targets: tuple[Target, ...] = ()
    my_services: tuple[str, ...] = ()
    window_states: dict[str, str] = field(default_factory=dict)  # other windows, from the board
    rating_ticket: TicketView | None = None
    rating_score: int | None = None  # the level the citizen touched, not yet sent
    rating_reasons: tuple[ReasonToggle, ...] = ()  # the hall's reasons for that level
    rating_done: str = ""  # the thanks, or the dispatcher's sentence when it refused (rating_refused)
    rating_refused: bool = False
    bus_online: bool = False
    bus_problem: str = ""  # e.g. the broker refused this terminal's credentials
    timezone: str = ""  # the hall's (GET /halls/{hall}): the clock shows hall time, not the machine's

    @property
    def rating_bad(self) -> bool:
        """A 差评 (1 or 2): at least one reason is needed before it is sent."""
        return self.rating_score is not None and self.rating_score <= 2

    @property
    def waiting_total(self) -> int:
        return sum(self.waiting.values())

    def waiting_lines(self) -> list[str]:
        return [f"{self.service_names.get(code, code)}（{code}）：{count}人" for code, count in self.waiting.items()]


class TerminalPresenter:
    def __init__(
        self,
        api: TerminalApi,
        runner: Runner,
        on_change: Callable[[TerminalView], None] = lambda view: None,
        demo: bool = False,
        rating: bool = True,
        new_key: Callable[[], str] = lambda: uuid.uuid4().hex,
        ask_evaluator: Callable[[TicketView], None] | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        self.api = api
        self.runner = runner
        self.on_change = on_change
        self.rating_enabled = rating
        # a hardware evaluator at the window (好差评评价器): asked in the background; its answer comes
        # back through `evaluator_rated`. The screen asks too; whichever the citizen uses first counts.
        self.ask_evaluator = ask_evaluator
        # the citizen's screen speaks where the terminal has a loudspeaker (--speak-rating)
        self.speaker: Speaker = speaker or SilentSpeaker()
        self._options: RatingOptions | None = None  # the hall's levels and reasons, loaded once
        self._options_loading = False
        self._new_key = new_key
        self.view = TerminalView(
            window=api.window,
            window_name=f"{api.window}号窗口",
            username=f"clerk{api.window}" if demo else "",
            password="demo" if demo else "",
        )
        self._last_seq = -1
        self._retry: _Pending | None = None
        self._inflight: _Pending | None = None
        self._queued: _Pending | None = None
        self._cancel_retry: Callable[[], None] | None = None
        self._cancel_refresh: Callable[[], None] | None = None
        self._cancel_rating: Callable[[], None] | None = None

    # --- view plumbing ------------------------------------------------------------------
    def _set(self, **changes: Any) -> None:
        self.view = replace(self.view, **changes)
        self.on_change(self.view)

    # --- keys -----------------------------------------------------------------------------
    def handle_key(self, key: str) -> bool:
        """A keyboard key by Kivy name (f1…f9, escape); True when it did something."""
        name = KEYS.get(key.lower())
        if name is None:
            return False
        if self.view.phase == "login":
            return False
        if self.view.phase == "rating" and name not in ("call_next", "cancel"):
            return True  # the citizen's screen: only F1 (next citizen) and Esc (skip) reach the clerk's actions
        getattr(self, name)()
        return True

    # --- login ----------------------------------------------------------------------------
    def login(self, username: str, password: str) -> None:
        username = username.strip()
        if not username or not password:
            self._set(error="请输入用户名和密码", username=username)
            return
        self._set(username=username, password="", error="")

        def job() -> tuple[LoginAnswer, HallInfo, WindowAnswer]:
            login = self.api.login(username, password)
            return login, self.api.hall_info(), self.api.window_info()

        def ok(result: tuple[LoginAnswer, HallInfo, WindowAnswer]) -> None:
            login, hall, window = result
            self._apply_hall(hall)
            self._apply_window(window)
            greeting = f"{login.display_name}，已登录{self.view.window_name}"
            self._set(phase="work", clerk=login.display_name, message=greeting)
            self._schedule_refresh()

        self._perform("login", job, ok, label="登录", retry=False)

    def logout(self) -> None:
        """Back to the login screen at once; the dispatcher is told (and closes the window) in the background."""

        def done(_result: Any, error: BaseException | None) -> None:
            if error is not None:
                log.warning("logout not confirmed by the dispatcher: %s", error)

        self.runner.submit(self.api.logout, done)
        self._stop_timers()
        self._set(phase="login", clerk="", ticket=None, dialog="", message="已退出登录", error="")

    # --- window actions -------------------------------------------------------------------
    def call_next(self) -> None:
        if self._retry_now("call-next"):
            return
        if self.view.phase == "rating":
            self._leave_rating()
        key = self._new_key()

        def ok(ticket: TicketAtWindow | None) -> None:
            if ticket is None:
                self._set(ticket=None, message="当前没有等候的号")
            else:
                view = TicketView.from_api(ticket)
                self._set(ticket=view, message=f"已呼叫 {view.number}")

        self._perform("call-next", lambda: self.api.call_next(key), ok, label="叫号")

    def recall(self) -> None:
        if self._needs_ticket("重呼"):
            self._simple("recall", "重呼", message=f"已重呼 {self._number()}")

    def no_show(self) -> None:
        if self._needs_ticket("过号"):
            self._simple("no-show", "过号", message=f"{self._number()} 已过号", clears=True)

    def finish(self) -> None:
        if not self._needs_ticket("办结"):
            return
        finished = self.view.ticket

        def ok(_: Any) -> None:
            self._set(ticket=None, message=f"{finished.number if finished else ''} 已办结")
            if self.rating_enabled and finished is not None and finished.id:
                self._ask_rating(finished)

        self._perform("finish", self._job("finish"), ok, label="办结")

    def park_or_call_back(self) -> None:
        if self.view.ticket is not None:
            parked = self.view.ticket

            def ok(_: Any) -> None:
                self._set(ticket=None, parked=(*self.view.parked, parked), message=f"{parked.number} 已挂起")

            self._perform("park", self._job("park"), ok, label="挂起")
        elif self.view.parked:
            self._set(dialog="call-back", error="")
        else:
            self._set(error="没有当前号，也没有挂起的号可以回呼")

    def call_back(self, number: str) -> None:
        ticket = next((t for t in self.view.parked if t.number == number), None)
        body = CallBackBody(ticket=ticket.id if ticket and ticket.id else number)

        def ok(result: TicketAtWindow | None) -> None:
            remaining = tuple(t for t in self.view.parked if t.number != number)
            called = _ticket_in(result)
            self._set(parked=remaining, dialog="", ticket=called or self.view.ticket, message=f"已回呼 {number}")

        self._perform("call-back", self._job("call-back", body), ok, label="回呼")

    def pause_or_resume(self) -> None:
        if self.view.state == "paused":
            self.resume()
        else:
            self.open_pause()

    def open_pause(self) -> None:
        self._set(dialog="pause", error="")

    def pause(self, reason: str) -> None:
        reason = reason.strip()
        if not reason:
            self._set(error="请选择或填写暂停原因")
            return
        try:
            body = PauseBody(reason=reason)
        except ValidationError:
            self._set(error="暂停原因太长，请写在40个字以内")
            return

        def ok(_: Any) -> None:
            self._set(dialog="", state="paused", reason=reason, message=f"已暂停服务：{reason}")

        self._perform("pause", self._job("pause", body), ok, label="暂停")

    def resume(self) -> None:
        def ok(_: Any) -> None:
            self._set(state="open", reason="", message="已恢复服务")

        self._perform("resume", self._job("resume"), ok, label="恢复")

    def open_transfer(self) -> None:
        if self._needs_ticket("转移"):
            self._set(dialog="transfer", error="")

    def transfer(self, target: Target) -> None:
        if not self._needs_ticket("转移"):
            return
        number = self._number()

        def ok(_: Any) -> None:
            self._set(dialog="", ticket=None, message=f"{number} 已转到{target.label}")

        body = TransferBody(service=target.id) if target.kind == "service" else TransferBody(window=target.id)
        self._perform("transfer", self._job("transfer", body), ok, label="转移")

    def open_call_number(self) -> None:
        self._set(dialog="call-number", error="")

    def call_number(self, number: str) -> None:
        number = number.strip().upper()
        if not NUMBER_PATTERN.match(number):
            self._set(error=f"号码“{number}”格式不对：应为字母加数字，如 A012")
            return

        def ok(result: TicketAtWindow | None) -> None:
            called = _ticket_in(result)
            self._set(dialog="", ticket=called or TicketView(number=number), message=f"已特呼 {number}")

        self._perform("call", self._job("call", CallNumberBody(number=number)), ok, label="特呼")

    def open_quick_serve(self) -> None:
        self._set(dialog="quick-serve", error="")

    def quick_serve(self, service: str) -> None:
        def ok(result: TicketAtWindow | None) -> None:
            called = _ticket_in(result)
            text = f"已为现场群众取号 {called.number}" if called else "已为现场群众取号"
            self._set(dialog="", ticket=called or self.view.ticket, message=text)

        body = QuickServeBody(service=service)
        self._perform("quick-serve", self._job("quick-serve", body), ok, label="现场取号")

    def cancel(self) -> None:
        """Escape: close a dialog, stop a pending retry, leave the rating screen."""
        if self._retry is not None:
            self._drop_retry()
            self._set(banner="", message="已取消重试")
        elif self.view.dialog:
            self._set(dialog="", error="")
        elif self.view.phase == "rating":
            self._leave_rating()
        elif self.view.error:
            self._set(error="")

    def close_dialog(self) -> None:
        self._set(dialog="", error="")

    # --- rating (好差评) -------------------------------------------------------------------
    def _ask_rating(self, ticket: TicketView) -> None:
        self._set(
            phase="rating", rating_ticket=ticket, rating_score=None, rating_reasons=(), rating_done="",
            rating_refused=False, error="",
        )  # fmt: skip
        self.speaker.say(ASK_RATING)
        self._load_rating_options()
        self._restart_rating_timer(RATING_TIMEOUT_S)
        if self.ask_evaluator is not None:
            self.ask_evaluator(ticket)

    def choose_level(self, score: int) -> None:
        """The citizen touched a level: its reasons show (needed after a 差评), its name is spoken."""
        if not self._rating_open():
            return
        if score not in range(1, 6):
            self._set(error="评价只能是1到5分")
            return
        self._set(rating_score=score, rating_reasons=self._reasons_for(score), error="")
        self.speaker.say(RATING_LABELS[score - 1])
        self._restart_rating_timer(RATING_TIMEOUT_S)  # the citizen is still at it

    def toggle_reason(self, code: str) -> None:
        if not self._rating_open():
            return
        reasons = tuple(replace(r, selected=not r.selected) if r.code == code else r for r in self.view.rating_reasons)
        self._set(rating_reasons=reasons, error="")

    def submit_rating(self) -> None:
        """提交: the chosen level with its reasons; a 差评 needs one reason when the hall offers any."""
        if not self._rating_open():
            return
        view = self.view
        if view.rating_score is None:
            self._set(error=NEED_LEVEL)
            return
        chosen = [r.code for r in view.rating_reasons if r.selected]
        if view.rating_bad and view.rating_reasons and not chosen:
            self._set(error=NEED_REASON)
            return
        self._post_rating(view.rating_score, chosen)

    def rate(self, score: int) -> None:
        """A level chosen and sent in one press (the hardware evaluator has no reasons to offer)."""
        if not self._rating_open():
            return
        if score not in range(1, 6):
            self._set(error="评价只能是1到5分")
            return
        self.speaker.say(RATING_LABELS[score - 1])
        self._post_rating(score, [])

    def evaluator_rated(self, ticket: TicketView, score: int | None) -> None:
        """The hardware evaluator's answer for `ticket` (None: nobody pressed)."""
        if score is None:
            return
        current = self.view.rating_ticket
        if self.view.phase == "rating" and current is not None and current.id == ticket.id:
            self.rate(score)
            return
        if not ticket.id:
            return
        ticket_id = ticket.id  # the screen has moved on: still book the citizen's rating, quietly
        body = RatingBody(score=score, channel="terminal")

        def done(_result: Any, error: BaseException | None) -> None:
            if error is not None:
                log.warning("evaluator rating %s for %s not stored: %s", score, ticket.number, error)

        self.runner.submit(lambda: self.api.evaluate(ticket_id, body, self._new_key()), done)

    def _rating_open(self) -> bool:
        view = self.view
        return (
            view.phase == "rating"
            and view.rating_ticket is not None
            and bool(view.rating_ticket.id)
            and not (view.rating_done or view.busy == "评价")
        )

    def _post_rating(self, score: int, reasons: list[str]) -> None:
        ticket = self.view.rating_ticket
        assert ticket is not None and ticket.id
        ticket_id, label = ticket.id, RATING_LABELS[score - 1]
        body = RatingBody(score=score, reasons=reasons, channel="terminal")
        key = self._new_key()

        def ok(_: Any) -> None:
            followed = f"\n{BAD_FOLLOW_UP}" if score <= 2 else ""  # a 差评 opened an order: say what comes next
            self._set(rating_score=score, rating_done=f"{THANKS}：{label}{followed}", error="")
            self.speaker.say(THANKS)
            self._restart_rating_timer(THANKS_SHOWN_S)

        self._perform("evaluation", lambda: self.api.evaluate(ticket_id, body, key), ok, label="评价")

    def _rating_refused(self, detail: str) -> None:
        """409 (rated already: on the evaluator, the phone …): the dispatcher's sentence, then back to work."""
        self._set(rating_done=detail, rating_refused=True, error="")
        self._restart_rating_timer(THANKS_SHOWN_S * 2)

    def _load_rating_options(self) -> None:
        """The hall's levels and reasons, once (asked again on the next rating if it failed)."""
        if self._options is not None or self._options_loading:
            return
        self._options_loading = True

        def done(options: RatingOptions | None, error: BaseException | None) -> None:
            self._options_loading = False
            if error is not None or options is None:
                log.warning("rating options not loaded: %s", error)
                return
            self._options = options
            view = self.view
            if view.phase == "rating" and view.rating_score is not None and not view.rating_reasons:
                self._set(rating_reasons=self._reasons_for(view.rating_score))

        self.runner.submit(self.api.rating_options, done)

    def _reasons_for(self, score: int) -> tuple[ReasonToggle, ...]:
        level = next((lv for lv in self._options.levels if lv.score == score), None) if self._options else None
        return tuple(ReasonToggle(r.code, r.label) for r in level.reasons) if level else ()

    def _restart_rating_timer(self, delay_s: float) -> None:
        if self._cancel_rating:
            self._cancel_rating()
        self._cancel_rating = self.runner.later(delay_s, self._leave_rating)

    def _leave_rating(self) -> None:
        if self._cancel_rating:
            self._cancel_rating()
            self._cancel_rating = None
        if self.view.phase == "rating":
            self._set(
                phase="work", rating_ticket=None, rating_score=None, rating_reasons=(), rating_done="",
                rating_refused=False, error="",
            )  # fmt: skip

    # --- MQTT -----------------------------------------------------------------------------
    def on_bus_problem(self, problem: str) -> None:
        if problem != self.view.bus_problem:
            self._set(bus_problem=problem)

    def on_bus(self, online: bool) -> None:
        self._set(bus_online=online, **({"bus_problem": ""} if online else {}))
        if online and self.view.phase != "login":
            self.refresh()

    def on_window_message(self, message: WindowStateMessage) -> None:
        """The window's retained state: shown at once, details fetched over HTTP when logged in."""
        if message.seq < self._last_seq and message.seq != 0:
            return  # an older message overtaken by a newer one
        self._last_seq = message.seq
        current = self.view.ticket
        changed = (current.number if current else None) != message.ticket
        ticket = current if not changed else (TicketView(number=message.ticket) if message.ticket else None)
        reason = self.view.reason if message.state == "paused" else ""
        self._set(state=message.state, ticket=ticket, led_text=message.text, reason=reason)
        if changed and self.view.phase != "login":
            self.refresh()

    def on_board(self, board: BoardSnapshot) -> None:
        services = self.view.my_services or tuple(self.view.waiting)
        waiting = {code: board.waiting[code].count for code in services if code in board.waiting}
        names = dict(self.view.service_names)
        names.update({code: board.waiting[code].name for code in services if code in board.waiting})
        mine = next((w for w in board.windows if w.window == self.view.window), None)
        states = {w.window: w.state for w in board.windows}
        changes: dict[str, Any] = {
            "waiting": {**self.view.waiting, **waiting},
            "service_names": names,
            "window_states": states,
        }
        if mine is not None and mine.state == "paused" and mine.reason:
            changes["reason"] = mine.reason
        self._set(**changes)

    # --- refresh --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Fetch the window's state; quietly, unless the dispatcher is down."""
        if self.view.phase == "login" or self._inflight is not None:
            return

        def ok(window: WindowAnswer) -> None:
            self._apply_window(window)

        self._perform("refresh", self.api.window_info, ok, label="", quiet=True)

    def _schedule_refresh(self) -> None:
        if self._cancel_refresh:
            self._cancel_refresh()

        def tick() -> None:
            self._cancel_refresh = None
            if self.view.phase != "login":
                self.refresh()
                self._schedule_refresh()

        self._cancel_refresh = self.runner.later(REFRESH_EVERY_S, tick)

    def _apply_hall(self, hall: HallInfo) -> None:
        services = {s.code: s.name for s in hall.services}
        windows = [w for w in hall.windows if w.id != self.view.window]
        mine = next((w for w in hall.windows if w.id == self.view.window), None)
        targets = [Target("service", code, f"{name}（{code}）") for code, name in services.items()]
        targets += [Target("window", w.id, w.name or f"{w.id}号窗口") for w in windows]
        changes: dict[str, Any] = {"service_names": services, "targets": tuple(targets), "timezone": hall.timezone}
        if mine is not None:
            changes["my_services"] = tuple(mine.services)
            changes["window_name"] = mine.name or self.view.window_name
        self._set(**changes)

    def _apply_window(self, window: WindowAnswer) -> None:
        ticket = window.ticket
        waiting = window.waiting_for_my_services
        changes: dict[str, Any] = {
            "state": window.state,
            "reason": window.reason or "",
            # the window may report its last ticket after finish; only a called one is "current"
            "ticket": TicketView.from_api(ticket) if ticket and ticket.status == "called" else None,
            "waiting": dict(waiting),
            "served_today": window.served_today,
        }
        if window.name:
            changes["window_name"] = window.name
        if not self.view.my_services and waiting:
            changes["my_services"] = tuple(waiting)
        self._set(**changes)

    # --- performing HTTP work ------------------------------------------------------------
    def _job(self, action: str, body: Body | None = None) -> Callable[[], Any]:
        key = self._new_key()  # one key per press, reused by every retry of it
        return lambda: self.api.action(action, body, key)

    def _simple(self, action: str, label: str, message: str, clears: bool = False) -> None:
        def ok(_: Any) -> None:
            self._set(message=message, **({"ticket": None} if clears else {}))

        self._perform(action, self._job(action), ok, label=label)

    def _perform(
        self,
        action: str,
        job: Callable[[], Any],
        ok: Callable[[Any], None],
        label: str | None = None,
        retry: bool = True,
        quiet: bool = False,
    ) -> None:
        pending = _Pending(action, label if label is not None else action, job, ok, retry, quiet)
        inflight = self._inflight
        if inflight is not None:
            if quiet:
                if self._queued is None:
                    self._queued = pending  # refresh once more after it: what runs may be stale
                return
            if inflight.quiet:
                self._queued = pending  # only a background refresh runs: the press goes right after it
                self._set(busy=pending.label)
                return
            self._set(message=f"正在{self.view.busy}，请稍候")  # one press at a time
            return
        if not quiet:
            self._drop_retry()
        self._run(pending)

    def _run(self, pending: _Pending) -> None:
        self._inflight = pending
        self._set(busy=pending.label or "刷新", **({} if pending.quiet else {"error": ""}))

        def done(result: Any, error: BaseException | None) -> None:
            self._inflight = None
            queued, self._queued = self._queued, None
            self._set(busy="")
            if error is None:
                self._succeeded(pending, result, refresh=queued is None)
            else:
                self._failed(pending, error)
            if queued is not None and self._inflight is None:
                self._drop_retry()
                self._run(queued)

        self.runner.submit(pending.job, done)

    def _succeeded(self, pending: _Pending, result: Any, refresh: bool = True) -> None:
        if self._retry is pending:
            self._retry = None
        self._set(banner="")
        pending.ok(result)
        quiet_actions = ("refresh", "evaluation", "login")
        if refresh and pending.action not in quiet_actions and self.view.phase != "login":
            self.refresh()

    def _failed(self, pending: _Pending, error: BaseException) -> None:
        if isinstance(error, DispatcherRefused) and error.status == 401 and self.view.phase != "login":
            self._stop_timers()  # the clerk's login ended
            self._set(phase="login", error=f"{error.detail}，请重新登录", dialog="")
        elif isinstance(error, DispatcherUnreachable) and (pending.retry or pending.quiet):
            self._schedule_retry(pending, error)
        elif pending.action == "evaluation" and isinstance(error, DispatcherRefused) and error.status == 409:
            self._rating_refused(error.detail)
        elif isinstance(error, DispatcherError):
            self._set(error=error.detail if not pending.label else f"{pending.label}失败：{error.detail}")
        else:
            log.exception("terminal action %s failed", pending.action, exc_info=error)
            self._set(error=f"{pending.label or '操作'}失败：程序错误（{type(error).__name__}），已记入日志")

    def _schedule_retry(self, pending: _Pending, error: DispatcherUnreachable) -> None:
        self._drop_retry()
        pending.attempts += 1
        delay = RETRY.delay(pending.attempts)
        what = f"“{pending.label}”" if pending.label and not pending.quiet else "刷新"
        self._retry = pending
        self._set(
            banner=f"调度服务器连接中断：{error.detail}。{what}将在{delay:.0f}秒后自动重试（第{pending.attempts}次）"
        )
        self._cancel_retry = self.runner.later(delay, lambda: self._fire_retry(pending))

    def _fire_retry(self, pending: _Pending) -> None:
        self._cancel_retry = None
        if self._retry is not pending:
            return
        if self._inflight is not None:
            self._cancel_retry = self.runner.later(RETRY_DELAYS_S[0], lambda: self._fire_retry(pending))
            return
        self._run(pending)

    def _retry_now(self, action: str) -> bool:
        """Pressing the same key while its retry waits retries it now, with the same key."""
        pending = self._retry
        if pending is None or pending.action != action or self._inflight is not None:
            return False
        if self._cancel_retry:
            self._cancel_retry()
            self._cancel_retry = None
        self._run(pending)
        return True

    def _drop_retry(self) -> None:
        if self._cancel_retry:
            self._cancel_retry()
        self._cancel_retry = None
        self._retry = None

    def _stop_timers(self) -> None:
        self._drop_retry()
        for cancel in (self._cancel_refresh, self._cancel_rating):
            if cancel:
                cancel()
        self._cancel_refresh = self._cancel_rating = None

    # --- helpers --------------------------------------------------------------------------
    def _needs_ticket(self, what: str) -> bool:
        if self.view.ticket is None:
            self._set(error=f"没有正在办理的号，无法{what}")
            return False
        return True

    def _number(self) -> str:
        return self.view.ticket.number if self.view.ticket else ""


@dataclass(eq=False)
class _Pending:
    action: str
    label: str
    job: Callable[[], Any]
    ok: Callable[[Any], None]
    retry: bool
    quiet: bool
    attempts: int = 0


def _ticket_in(result: TicketAtWindow | None) -> TicketView | None:
    return TicketView.from_api(result) if result is not None else None


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}小时{seconds % 3600 // 60:02d}分"
    return f"{seconds // 60}分{seconds % 60:02d}秒"


def serving_seconds(ticket: TicketView | None, now: dt.datetime) -> float | None:
    if ticket is None or ticket.called_at is None:
        return None
    called = ticket.called_at if ticket.called_at.tzinfo else ticket.called_at.replace(tzinfo=dt.UTC)
    return (now - called).total_seconds()
