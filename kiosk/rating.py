"""好差评 at the kiosk (DESIGN.md §11, channel `kiosk`): a citizen scans the QR of a ticket that was just
served and rates the service: one of the five levels, then, if they like, the reasons the hall offers
for that level (asked for after a 差评). Plain Python, no Kivy; the presenter owns one of these.

Only a scanned QR opens it: the QR carries the ticket's access key, the citizen's own proof, so a number
typed on the keypad (anyone's) cannot be rated. Nothing chosen is lost when the dispatcher is away: the
screen stays, says so, and the citizen sends again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hallq.api_models import TicketAnswer
from hallq.client import DispatcherRefused, DispatcherUnreachable
from hallq.evaluation_models import RatingBody, RatingOptions
from kiosk.api import DispatcherClient
from kiosk.tasks import Tasks
from kiosk.views import RATING_LEVELS, BusyView, MessageView, RatingView, ReasonChoice

LEVEL_NAMES = dict(RATING_LEVELS)
ASK_LEVEL = "请为本次服务评价：" + "、".join(name for _score, name in RATING_LEVELS)
ASK_REASONS = "请选择不满意的原因，再按提交评价"


@dataclass(frozen=True)
class RatedTicket:
    """The ticket being rated and the key that proves the citizen holds it."""

    ticket: TicketAnswer
    access: str


class RatingFlow:
    def __init__(
        self,
        client: DispatcherClient,
        tasks: Tasks,
        show: Callable[[Any], None],
        back_to_status: Callable[[TicketAnswer], None],
    ) -> None:
        self.client, self.tasks, self._show, self._back = client, tasks, show, back_to_status
        self._options: RatingOptions | None = None
        self._rated: RatedTicket | None = None
        self._view: RatingView | None = None
        self._key = ""
        self.rated_ids: set[str] = set()  # this kiosk has already sent these: no second button

    def may_rate(self, ticket: TicketAnswer | None, access: str | None) -> bool:
        return ticket is not None and ticket.status == "done" and bool(access) and ticket.id not in self.rated_ids

    def open(self, ticket: TicketAnswer, access: str) -> None:
        self._rated, self._key = RatedTicket(ticket, access), uuid.uuid4().hex
        self._view = RatingView(ticket.number, ticket.service_name, ticket.window_name or "", speech=ASK_LEVEL)
        self._show(self._view)
        if self._options is None:
            self.tasks.run(self.client.rating_options, self._options_loaded, lambda _exc: None)

    def owns(self, view: Any) -> bool:
        return isinstance(view, RatingView)

    def choose_level(self, score: int) -> None:
        if self._view is None or score not in LEVEL_NAMES:
            return
        bad = score <= 2
        self._view = replace(
            self._view, score=score, reasons=self._reasons_for(score), error="", speech=ASK_REASONS if bad else ""
        )
        self._show(self._view)

    def toggle_reason(self, code: str) -> None:
        if self._view is None:
            return
        reasons = tuple(replace(r, selected=not r.selected) if r.code == code else r for r in self._view.reasons)
        self._view = replace(self._view, reasons=reasons, error="", speech="")
        self._show(self._view)

    def send(self) -> None:
        view, rated = self._view, self._rated
        if view is None or rated is None or view.score is None:
            return
        chosen = [r.code for r in view.reasons if r.selected]
        if view.is_bad and view.reasons and not chosen:
            self._view = replace(view, error="请至少选择一项不满意的原因", speech="请至少选择一项不满意的原因")
            self._show(self._view)
            return
        body = RatingBody(score=view.score, reasons=chosen, channel="kiosk")
        self._show(BusyView("正在提交评价…"))
        self.tasks.run(
            lambda: self.client.rate(rated.ticket.id, rated.access, body, self._key), self._sent, self._failed
        )

    def back(self) -> None:
        if self._rated is not None:
            self._back(self._rated.ticket)

    # -- answers --------------------------------------------------------------------------------
    def _options_loaded(self, options: RatingOptions) -> None:
        self._options = options
        if self._view is not None and self._view.score is not None and not self._view.reasons:
            self._view = replace(self._view, reasons=self._reasons_for(self._view.score), speech="")
            self._show(self._view)

    def _reasons_for(self, score: int) -> tuple[ReasonChoice, ...]:
        if self._options is None:
            return ()
        level = next((lv for lv in self._options.levels if lv.score == score), None)
        return tuple(ReasonChoice(r.code, r.label) for r in level.reasons) if level else ()

    def _sent(self, _ticket: TicketAnswer) -> None:
        view = self._view
        if self._rated is not None:
            self.rated_ids.add(self._rated.ticket.id)
        name = LEVEL_NAMES.get(view.score or 0, "") if view else ""
        if view is not None and view.is_bad:
            text = f"您的评价：{name}。\n大厅负责人将核实情况并整改，谢谢您的监督。"
        else:
            text = f"您的评价：{name}。\n我们会继续努力，祝您生活愉快。"
        self._show(MessageView("感谢您的评价", text, speech=f"感谢您的评价。{name}"))
        self._view = self._rated = None

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, DispatcherRefused) and exc.status == 409 and self._rated is not None:
            self.rated_ids.add(self._rated.ticket.id)  # rated already (here, on the phone or at the window)
        if isinstance(exc, DispatcherRefused):
            self._show(MessageView("无法评价", exc.detail, kind="refused"))
            self._view = self._rated = None
            return
        error = "暂时无法连接服务器，您的选择已保留，请稍后再按提交评价"
        if not isinstance(exc, DispatcherUnreachable):
            error = "提交失败，请稍后再试或联系工作人员"
        if self._view is not None:
            self._view = replace(self._view, error=error, speech=error)
            self._show(self._view)
