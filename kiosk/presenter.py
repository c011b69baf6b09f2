"""The kiosk's behaviour in plain Python (no Kivy): what each tap, card swipe and scan does.

Screens call the public methods; the presenter answers by handing a view (kiosk/views.py) to
`show`. Slow work runs through `Tasks` (worker thread, result posted back to the UI thread), so
a dead dispatcher or a stuck printer never freezes a screen.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hallq.api_models import HallInfo, TicketAnswer
from hallq.appointment_models import CheckInAnswer
from hallq.client import DispatcherRefused, DispatcherUnreachable
from hallq.worker import Backoff
from kiosk.api import DispatcherClient, TicketRequest, parse_booking_url, parse_status_url
from kiosk.devices import PAPER_NEAR_END, PAPER_OK, PAPER_OUT, PrintJob, PrintOutcome, TicketPrinter
from kiosk.identity import CardIdentity
from kiosk.rating import RatingFlow
from kiosk.speech import Speaker
from kiosk.tasks import Cancel, Tasks
from kiosk.views import (
    GREEN_REASONS,
    STATUS_TEXT,
    BusyView,
    HomeView,
    MessageView,
    PriorityView,
    StatusLine,
    StatusView,
    TicketView,
    Tile,
    spoken_number,
    wait_text,
)

log = logging.getLogger(__name__)

CARD_HINT = "请将身份证平放在读卡区，保持不动，直到听到提示音"
OFFLINE_TEXT = "暂时无法连接叫号服务器，正在自动重试，请稍候。\n如长时间无法取号，请联系大厅工作人员。"
ShowFn = Callable[[Any], None]
StatusFn = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class KioskOptions:
    idle_timeout_s: float = 30.0
    elderly_age: int = 60
    refresh_s: float = 15.0
    retry_s: float = 3.0
    printer_poll_s: float = 60.0
    per_page: int = 12
    per_page_elderly: int = 4
    green_reasons: tuple[str, ...] = ("elderly", "disabled", "pregnant")
    device: str | None = None


class KioskPresenter:
    def __init__(
        self,
        client: DispatcherClient,
        tasks: Tasks,
        show: ShowFn,
        speaker: Speaker,
        printer: TicketPrinter,
        options: KioskOptions | None = None,
        *,
        report_status: StatusFn | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.tasks, self._show_fn, self.speaker, self.printer = client, tasks, show, speaker, printer
        self.options = options or KioskOptions()
        self._report_status = report_status
        self._today, self._now = today, monotonic
        self.hall: HallInfo | None = None
        self.offline = False
        self.citizen: CardIdentity | None = None
        self.green_reason: str | None = None
        self.elderly_mode = False
        self.page = 0
        self.pending: TicketRequest | None = None
        self.attempts = 0
        self.last_ticket: TicketAnswer | None = None
        self.current: Any = None
        self._retry: Cancel | None = None
        self._refresh: Cancel | None = None
        self._printer_poll: Cancel | None = None
        self._spoken: set[str] = set()
        self._status_entry = ""
        self._status_result: TicketAnswer | None = None
        self._status_access: str | None = None  # the scanned QR's key: only then may the ticket be rated
        self.rating = RatingFlow(client, tasks, self._show, self._rating_left)
        self._last_activity = monotonic()
        self.device_detail: dict[str, Any] = {"printer": {"paper": printer.paper()}, "dispatcher": "unknown"}
        self.print_started: dict[str, float] = {}
        # Another flow this presenter hands over to (the 24-hour submission, kiosk/submission): it owns
        # its views; card reads, receipt QR scans and idle ticks go to it while one of them shows.
        self.delegate: Any = None

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.show_home()
        self.refresh()
        self._printer_poll = self.tasks.later(self.options.printer_poll_s, self.poll_printer)

    def poll_printer(self) -> None:
        """Ask the printer for its paper now and then (DLE EOT 4), so staff see "near end" or "out"
        on MQTT before a citizen finds it out."""

        def polled(paper: str) -> None:
            self.printer_state_changed(paper)
            self._printer_poll = self.tasks.later(self.options.printer_poll_s, self.poll_printer)

        def failed(exc: Exception) -> None:
            log.warning("printer status poll failed: %s", exc)
            self._printer_poll = self.tasks.later(self.options.printer_poll_s, self.poll_printer)

        self.tasks.run(self.printer.paper, polled, failed)

    def stop(self) -> None:
        for cancel in (self._retry, self._refresh, self._printer_poll):
            if cancel:
                cancel()

    def refresh(self) -> None:
        """Fetch the hall and its waiting counts; again every `refresh_s` (sooner while offline)."""
        if self._refresh:
            self._refresh()
        self.tasks.run(self.client.hall_info, self._hall_loaded, self._hall_failed)

    def _hall_loaded(self, hall: HallInfo) -> None:
        self.hall = hall
        self._set_online(True)
        self._refresh = self.tasks.later(self.options.refresh_s, self.refresh)
        if isinstance(self.current, HomeView):
            self.show_home(speak=False)

    def _hall_failed(self, exc: Exception) -> None:
        log.warning("hall refresh failed: %s", exc)
        if isinstance(exc, DispatcherUnreachable):
            self._set_online(False)
        self._refresh = self.tasks.later(self.options.retry_s, self.refresh)
        if isinstance(self.current, HomeView):
            self.show_home(speak=False)

    def _set_online(self, online: bool) -> None:
        if self.offline == (not online) and self.device_detail["dispatcher"] != "unknown":
            return
        self.offline = not online
        self._update_status(dispatcher="ok" if online else "unreachable")

    # -- idle ----------------------------------------------------------------------------------
    def activity(self) -> None:
        """Any touch, swipe or scan: the citizen is still here."""
        self._last_activity = self._now()
        if self.delegate is not None:
            self.delegate.activity()

    def _delegated(self) -> bool:
        return self.delegate is not None and bool(self.delegate.owns(self.current))

    def tick(self) -> None:
        """Called every second: after `idle_timeout_s` without activity go home and forget the citizen."""
        if self._delegated():
            self.delegate.tick()  # the submission flow asks "您还在吗？" before it gives up
            return
        if isinstance(self.current, BusyView):
            return  # a request in flight finishes (or fails) by itself
        at_rest = isinstance(self.current, HomeView) and not self.citizen and not self.green_reason and not self.page
        if not at_rest and self._now() - self._last_activity >= self.options.idle_timeout_s:
            log.info("idle for %.0f s: back to the home screen", self.options.idle_timeout_s)
            self.reset()

    def reset(self) -> None:
        if self._retry:
            self._retry()
            self._retry = None
        self.pending = None
        self.citizen = None
        self.green_reason = None
        self.page = 0
        self._status_entry = ""
        self._status_result = None
        self._status_access = None
        self.show_home()
        if self.delegate is not None:
            self.delegate.left()

    # -- home ----------------------------------------------------------------------------------
    def show_home(self, speak: bool = True) -> None:
        self._show(self._home_view(), speak=speak)

    def _home_view(self) -> HomeView:
        hall = self.hall
        services = sorted(hall.services, key=lambda s: (s.department, s.code)) if hall else []
        departments: dict[str, int] = {}
        tiles = []
        for s in services:
            group = departments.setdefault(s.department, len(departments))
            tiles.append(Tile(s.code, s.name, s.department, s.waiting, wait_text(s.est_wait_s), s.open_now, group))
        per_page = self.options.per_page_elderly if self.elderly_mode else self.options.per_page
        pages = max(1, -(-len(tiles) // per_page))
        self.page = min(self.page, pages - 1)
        shown = tuple(tiles[self.page * per_page : (self.page + 1) * per_page])
        citizen = f"{self.citizen.masked}，您好" if self.citizen else ""
        reason = GREEN_REASONS.get(self.green_reason or "", "")
        green = f"绿色通道（{reason}）：请选择要办理的业务" if self.green_reason else ""
        offline = ""
        if self.offline:
            offline = "正在连接叫号服务器…" if hall is None else "服务器连接中断，正在重试；显示的等候人数可能不是最新"
        names = "、".join(t.name for t in shown)
        speech = "请选择要办理的业务：" + names if names else "正在连接叫号服务器，请稍候"
        if self.green_reason:
            speech = "已为您开通绿色通道。" + speech
        return HomeView(
            hall_name=hall.name if hall else "政务服务中心",
            notice=hall.notice if hall else "",
            tiles=shown,
            page=self.page,
            pages=pages,
            elderly=self.elderly_mode,
            citizen=citizen,
            green=green,
            offline=offline,
            speech=speech,
        )

    def next_page(self) -> None:
        self.activity()
        self.page += 1
        self.show_home()

    def previous_page(self) -> None:
        self.activity()
        self.page = max(0, self.page - 1)
        self.show_home()

    def toggle_elderly(self) -> None:
        self.activity()
        self.elderly_mode = not self.elderly_mode
        self.page = 0
        if isinstance(self.current, HomeView):
            self.show_home()
        else:
            self._show(self.current)
        if not self.elderly_mode:
            self.speaker.say("已退出长者模式")

    def open_handbook(self) -> None:
        """办事指南 / 24小时自助申报 on the home screen: the submission flow takes over."""
        self.activity()
        if self.delegate is not None:
            self.delegate.open_handbook()

    def go_home(self) -> None:
        """The citizen is done (or gives up): home, and the card is forgotten."""
        self.activity()
        self.reset()

    # -- green channel -------------------------------------------------------------------------
    def open_priority(self) -> None:
        self.activity()
        reasons = tuple((r, GREEN_REASONS[r]) for r in self.options.green_reasons if r in GREEN_REASONS)
        self._show(PriorityView(reasons=reasons, elderly=self.elderly_mode))

    def choose_green(self, reason: str) -> None:
        self.activity()
        if reason not in GREEN_REASONS:
            raise ValueError(f"unknown green-channel reason {reason!r}")
        self.green_reason = reason
        self.page = 0
        self.show_home()

    def cancel_green(self) -> None:
        self.activity()
        self.green_reason = None
        self.show_home()

    # -- ID card -------------------------------------------------------------------------------
    def card_read(self, card: CardIdentity) -> None:
        """A card at any screen identifies the citizen; 60+ get the green channel without asking."""
        self.activity()
        if self._delegated():
            self.delegate.card_read(card)
            return
        if isinstance(self.current, BusyView):
            return  # one action at a time; the card is read again after
        if isinstance(self.current, StatusView):
            self._card_at_status(card)  # 查询号码: the card checks in a booking, or finds a served ticket
            return
        self.citizen = card
        age = card.age_on(self._today())
        if age >= self.options.elderly_age:
            self.green_reason = "elderly"
        self.page = 0
        self.show_home(speak=False)
        self.speaker.say("您好，请选择要办理的业务" + ("，已为您开通绿色通道" if self.green_reason else ""))

    def card_reader_state(self, state: str) -> None:
        """The reader itself: "ok", or "no_reader: …" while it is unplugged (staff see it on MQTT)."""
        if self.device_detail.get("idcard") != state:
            self._update_status(idcard=state)

    def card_failed(self, reason: str) -> None:
        self.activity()
        log.info("card read failed: %s", reason)
        self._update_status(idcard=f"error: {reason}")
        if self._delegated():
            self.delegate.card_failed(reason)
            return
        if isinstance(self.current, BusyView):
            return
        self._show(
            MessageView(
                title="未能读取身份证",
                text=CARD_HINT,
                kind="card",
                button="知道了",
                speech="未能读取身份证。" + CARD_HINT,
            )
        )

    # -- tickets -------------------------------------------------------------------------------
    def choose_service(self, code: str) -> None:
        """The citizen taps a service: one ticket request, one Idempotency-Key, retried until answered."""
        self.activity()
        if self.pending is not None:
            return  # a double tap, or a request already on its way
        service = self.hall.service(code) if self.hall else None
        if service is None:
            text = "未找到该业务，请选择其他业务或咨询工作人员"
            self._show(MessageView(title="暂不能取号", text=text, kind="refused"))
            return
        if not service.open_now:
            self._show(
                MessageView(
                    title="暂不能取号", text=f"{service.name}当前不在办理时间，请在办公时间内取号", kind="refused"
                )
            )
            return
        self.pending = TicketRequest(
            service=code,
            priority="green" if self.green_reason else "normal",
            green_reason=self.green_reason,
            id_card=self.citizen,
            device=self.options.device,
        )
        self.attempts = 0
        self.print_started.pop(self.pending.key, None)
        self._send(self.pending)

    def _send(self, request: TicketRequest) -> None:
        if request is not self.pending:
            return
        self.attempts += 1
        self._retry = None
        self._show(BusyView(text="正在取号，请稍候…"), speak=False)
        self.tasks.run(
            lambda: self.client.issue_ticket(request),
            lambda ticket: self._issued(request, ticket),
            lambda exc: self._issue_failed(request, exc),
        )

    def _issue_failed(self, request: TicketRequest, exc: Exception) -> None:
        if request is not self.pending:
            return
        if isinstance(exc, DispatcherUnreachable):
            log.warning("ticket request failed (attempt %d), retrying: %s", self.attempts, exc)
            self._set_online(False)
            self._show(
                MessageView(
                    title="网络连接中断",
                    text=OFFLINE_TEXT + f"\n（已重试{self.attempts}次）",
                    kind="offline",
                    retrying=True,
                    button="取消",
                    speech="暂时无法连接服务器，正在自动重试，请稍候",
                ),
                speak=self.attempts == 1,
            )
            delay = Backoff((self.options.retry_s,)).delay(self.attempts)  # the same request, the same key
            self._retry = self.tasks.later(delay, lambda: self._send(request))
            return
        self.pending = None
        if isinstance(exc, DispatcherRefused):
            title = "抱歉，暂不能取号"
            text = exc.detail if exc.status in (404, 409) else f"取号请求有误：{exc.detail}。请联系工作人员"
        else:
            log.exception("ticket request failed", exc_info=exc)
            title, text = "抱歉，暂不能取号", "系统出现问题，请联系大厅工作人员"
        self._show(MessageView(title=title, text=text, kind="refused", speech=title + "。" + text))

    def cancel_pending(self) -> None:
        """The citizen gives up waiting for an unreachable dispatcher."""
        self.activity()
        self.reset()

    def _issued(self, request: TicketRequest, ticket: TicketAnswer) -> None:
        if request is not self.pending:
            log.warning("ticket %s arrived after its request was abandoned", ticket.number)
            return
        self.pending = None
        self._set_online(True)
        self._deliver(ticket, "绿色通道" if ticket.priority == "green" else "")

    def _deliver(self, ticket: TicketAnswer, priority_label: str, note: str = "") -> None:
        """Show the ticket, say its number once, and print it (a kiosk's ticket or a check-in's)."""
        self.last_ticket = ticket
        service_name = ticket.service_name
        view = TicketView(
            ticket_id=ticket.id,
            number=ticket.number,
            service_name=service_name,
            ahead=ticket.ahead,
            wait=wait_text(ticket.estimated_wait_s),
            qr=ticket.status_url or ticket.number,
            priority_label=priority_label,
            note=note,
        )
        self._show(view, speak=False)
        if ticket.id not in self._spoken:  # spoken once, whatever the printer does
            self._spoken.add(ticket.id)
            self.speaker.say(note + f"您的号码是{spoken_number(ticket.number)}，前面还有{ticket.ahead}人")
        job = PrintJob(
            hall_name=self.hall.name if self.hall else "",
            number=ticket.number,
            service=ticket.service,
            service_name=service_name,
            ahead=ticket.ahead,
            estimated_wait_s=ticket.estimated_wait_s,
            issued_at=ticket.issued_at,
            status_url=ticket.status_url,
            priority=ticket.priority,
        )
        self.tasks.run(
            lambda: self.printer.print_ticket(job),
            lambda o: self._printed(view, o),
            lambda exc: self._printed(view, _failed_print(exc)),
        )

    # -- 预约 check-in ---------------------------------------------------------------------------
    def check_in(self, appointment_id: str) -> None:
        """A booking's QR: check in, and the ticket is shown, spoken and printed like any other."""
        self._show(BusyView(text="正在签到，请稍候…"), speak=False)
        self.tasks.run(
            lambda: self.client.check_in_booking(appointment_id, self.options.device),
            self._checked_in,
            self._check_in_failed,
        )

    def _checked_in(self, answer: CheckInAnswer) -> None:
        self._set_online(True)
        label = "预约优先" if answer.on_time else ""
        self._deliver(answer.ticket, label, "" if answer.on_time else chinese_part(answer.message))

    def _check_in_failed(self, exc: Exception) -> None:
        if isinstance(exc, DispatcherUnreachable):
            self._set_online(False)
            text = "暂时无法连接服务器，请稍后再扫码签到"
        elif isinstance(exc, DispatcherRefused):
            text = chinese_part(exc.detail) if exc.status in (404, 409) else "签到请求有误，请联系工作人员"
        else:
            log.exception("check-in failed", exc_info=exc)
            text = "系统出现问题，请联系大厅工作人员"
        self._show(MessageView(title="预约签到未成功", text=text, kind="refused", speech="预约签到未成功。" + text))

    def _printed(self, view: TicketView, outcome: PrintOutcome) -> None:
        self._update_status(
            printer={"paper": outcome.paper, "error": outcome.error} if outcome.error else {"paper": outcome.paper}
        )
        if outcome.printed:
            low = "（打印纸即将用完，已通知工作人员）" if outcome.paper == PAPER_NEAR_END else ""
            message = "请取走号票，留意叫号" + low
            done = replace(view, printing=False, printed=True, print_message=message)
        else:
            reason = "打印机缺纸" if outcome.paper == PAPER_OUT else "打印机暂时无法出票"
            log.warning("ticket %s not printed: %s (%s)", view.number, outcome.error, outcome.paper)
            done = replace(
                view,
                printing=False,
                printed=False,
                print_message=f"{reason}。您的号码已取好，请用手机拍下本页二维码，凭号码等候叫号",
            )
            self.speaker.say(f"{reason}，请用手机拍下屏幕上的二维码")
        if isinstance(self.current, TicketView) and self.current.ticket_id == view.ticket_id:
            self._show(done, speak=False)

    # -- status look-up ------------------------------------------------------------------------
    def open_status(self) -> None:
        self.activity()
        self._status_entry, self._status_result, self._status_access = "", None, None
        self._show_status()

    def status_key(self, key: str) -> None:
        self.activity()
        if key == "back":
            self._status_entry = self._status_entry[:-1]
        elif key == "clear":
            self._status_entry = ""
        elif len(self._status_entry) < 6 and key.isalnum():
            self._status_entry += key.upper()
        self._show_status(speak=False)

    def look_up(self) -> None:
        self.activity()
        number = self._status_entry.strip()
        if not number:
            return
        self._status_access = None  # a typed number is anyone's: it can be looked up, not rated
        self._show_status(busy=True, speak=False)
        self.tasks.run(lambda: self.client.ticket_by_number(number), self._looked_up, self._look_up_failed)

    def scanned(self, text: str) -> None:
        """A QR at the scanner: a ticket's status URL, a booking's (预约 check-in), or a bare ticket
        number (a receipt's case QR goes to the submission flow, for corrections)."""
        self.activity()
        if self.delegate is not None and not isinstance(self.current, BusyView) and self.delegate.scanned(text):
            return
        if isinstance(self.current, BusyView):
            return
        booking = parse_booking_url(text)
        if booking:
            self.check_in(booking[0])
            return
        found = parse_status_url(text)
        self._status_result = None
        if found:
            ticket_id, access = found
            self._status_entry, self._status_access = "", access
            self._show_status(busy=True, speak=False)
            self.tasks.run(lambda: self.client.ticket(ticket_id, access), self._looked_up, self._look_up_failed)
        elif text.strip().isalnum() and 2 <= len(text.strip()) <= 6:
            self._status_entry = text.strip().upper()
            self.look_up()
        else:
            self._status_entry = ""
            self._show_status(error="无法识别该二维码，请扫描号票上的二维码")

    def _card_at_status(self, card: CardIdentity) -> None:
        """A card at 查询号码: check in the holder's booking due now (预约签到); without one, find the ticket
        served today, to rate it."""
        self._status_entry, self._status_result, self._status_access = "", None, None
        self._show_status(busy=True, speak=False)
        self.tasks.run(
            lambda: self.client.check_in_by_card(card, self.options.device),
            self._checked_in,
            lambda exc: self._no_booking_for_card(card, exc),
        )

    def _no_booking_for_card(self, card: CardIdentity, exc: Exception) -> None:
        if isinstance(exc, DispatcherRefused) and exc.status == 404:  # no booking today: a served ticket?
            self.tasks.run(lambda: self.client.served_by_card(card), self._served_found, self._served_not_found)
        else:
            self._check_in_failed(exc)  # a booking too early or missed: the dispatcher's sentence

    def _served_found(self, ticket: TicketAnswer) -> None:
        found = parse_status_url(ticket.status_url)
        self._status_access = found[1] if found else None  # the card was the proof; the QR's key rates
        self._looked_up(ticket)

    def _served_not_found(self, exc: Exception) -> None:
        if isinstance(exc, DispatcherRefused) and exc.status in (404, 422):
            self._show_status(error=exc.detail)  # the dispatcher's own sentence: nothing served today, a bad card
        else:
            self._look_up_failed(exc)

    def _looked_up(self, ticket: TicketAnswer) -> None:
        self._status_result = ticket
        self._status_entry = ticket.number
        self._show_status()

    def _look_up_failed(self, exc: Exception) -> None:
        if isinstance(exc, DispatcherRefused) and exc.status == 404:
            error = "未找到该号码，请核对号码（仅可查询今天的号票）"
        elif isinstance(exc, DispatcherUnreachable):
            error = "暂时无法连接服务器，请稍后再试"
        else:
            error = exc.detail if isinstance(exc, DispatcherRefused) else "查询失败，请联系工作人员"
        self._status_result = None
        self._show_status(error=error)

    def rejoin(self) -> None:
        self.activity()
        ticket = self._status_result
        if ticket is None or ticket.status != "no_show":
            return
        key = uuid.uuid4().hex
        self._show_status(busy=True, speak=False)
        self.tasks.run(lambda: self.client.rejoin(ticket.id, key), self._rejoined, self._look_up_failed)

    def _rejoined(self, ticket: TicketAnswer) -> None:
        self._status_result = ticket
        self._show_status()
        self.speaker.say(f"已重新排队，您的号码是{spoken_number(ticket.number)}，前面还有{ticket.ahead}人")

    # -- 好差评 of the service just had (kiosk/rating.py) -------------------------------------------
    def open_rating(self) -> None:
        self.activity()
        ticket, access = self._status_result, self._status_access
        if ticket is not None and access and self.rating.may_rate(ticket, access):
            self.rating.open(ticket, access)

    def _rating_left(self, ticket: TicketAnswer) -> None:
        self._status_result = ticket
        self._show_status(speak=False)

    def _show_status(self, busy: bool = False, error: str = "", speak: bool = True) -> None:
        ticket = self._status_result
        line = None
        speech = StatusView().speech
        if ticket:
            status_text = STATUS_TEXT.get(ticket.status, ticket.status)
            if ticket.status == "called" and ticket.window_name:
                status_text = f"已叫号，请到{ticket.window_name}办理"
            line = StatusLine(
                ticket.id,
                ticket.number,
                ticket.service_name,
                ticket.status,
                status_text,
                ticket.ahead,
                wait_text(ticket.estimated_wait_s),
            )
            speech = f"{spoken_number(ticket.number)}号，{status_text}"
            if ticket.status == "waiting":
                speech += f"，前面还有{ticket.ahead}人"
            if self.rating.may_rate(ticket, self._status_access):
                speech += "。欢迎评价本次服务"
        prefixes = tuple(sorted(s.code for s in self.hall.services)) if self.hall else ()
        self._show(
            StatusView(
                entry=self._status_entry,
                result=line,
                error=error,
                busy=busy,
                can_rejoin=bool(ticket and ticket.status == "no_show"),
                can_rate=self.rating.may_rate(ticket, self._status_access),
                prefixes=prefixes,
                speech=error or speech,
            ),
            speak=speak,
        )

    # -- plumbing ------------------------------------------------------------------------------
    def show_view(self, view: Any, speak: bool = True) -> None:
        """For a delegate flow: show its view through the same path (elderly mode reads it aloud)."""
        self._show(view, speak=speak)

    def _show(self, view: Any, speak: bool = True) -> None:
        self.current = view
        self._show_fn(view)
        speech: str = getattr(view, "speech", None) or ""
        if not speech and isinstance(view, MessageView):
            speech = f"{view.title}。{view.text}"
        if speak and self.elderly_mode and speech:
            self.speaker.say(speech)

    def _update_status(self, **changes: Any) -> None:
        self.device_detail.update(changes)
        if self._report_status:
            self._report_status(dict(self.device_detail))

    def printer_state_changed(self, paper: str) -> None:
        """The printer's own poll (paper loaded again, running low): reported at once."""
        if self.device_detail.get("printer", {}).get("paper") != paper:
            self._update_status(printer={"paper": paper})


def chinese_part(sentence: str) -> str:
    """The Chinese half of a dispatcher's "中文。 English." sentence, for the screen and the voice."""
    head, found, _english = sentence.partition("。 ")
    return head + "。" if found else sentence


def _failed_print(exc: Exception) -> PrintOutcome:
    log.warning("printer failed: %s", exc)
    return PrintOutcome(False, "no_answer", f"{type(exc).__name__}: {exc}")


__all__ = ["KioskOptions", "KioskPresenter", "PAPER_OK"]
