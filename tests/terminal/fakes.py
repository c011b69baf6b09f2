"""Fast fakes for the presenter's unit tests only; the integration tests use a real dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hallq.api_models import Body, HallInfo, LoginAnswer, TicketAnswer, TicketAtWindow, WindowAnswer
from hallq.client import DispatcherRefused, DispatcherUnreachable
from hallq.evaluation_models import RatingBody, RatingOptions
from hallq.worker import Done


class ManualRunner:
    """Runs jobs at once; `later` callbacks wait until the test advances the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0

    def submit(self, job: Callable[[], Any], done: Done) -> None:
        try:
            result = job()
        except Exception as exc:  # the real runner hands every failure to `done` too
            done(None, exc)
        else:
            done(result, None)

    def later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        self._seq += 1
        entry = (self.now + delay_s, self._seq, fn)
        self.timers.append(entry)

        def cancel() -> None:
            if entry in self.timers:
                self.timers.remove(entry)

        return cancel

    def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while True:
            due = sorted(t for t in self.timers if t[0] <= target)
            if not due:
                break
            entry = due[0]
            self.timers.remove(entry)
            self.now = entry[0]
            entry[2]()
        self.now = target


def at_window(data: dict[str, Any]) -> TicketAtWindow:
    """A ticket as the dispatcher sends it to the terminal; the tests give only the fields they care about."""
    number = str(data["number"])
    defaults = {
        "service": number[0],
        "service_name": "社保业务",
        "priority": "normal",
        "status": "called",
        "waited_s": 0,
        "issued_at": "2026-11-23T11:48:00+00:00",
        "channel": "kiosk",
    }
    return TicketAtWindow.model_validate({**defaults, **data})


def recorded(body: Body | None) -> dict[str, Any] | None:
    return body.model_dump(mode="json", exclude_none=True) if body is not None else None


class FakeApi:
    """Records calls; `failures` makes the next calls raise (DispatcherUnreachable or DispatcherRefused)."""

    window = "1"
    hall = "demo"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, str | None]] = []
        self.failures: list[Exception] = []
        self.waiting = ["A001", "A002", "B001"]
        self.current: dict[str, Any] | None = None
        self.state = "open"
        self.reason = ""
        self.served = 0
        self.keys_seen: dict[str, dict[str, Any] | None] = {}

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def login(self, username: str, password: str) -> LoginAnswer:
        self.calls.append(("login", username, None))
        self._maybe_fail()
        if password != "demo":
            raise DispatcherRefused(401, "用户名或密码不对")
        return LoginAnswer(access_token="tok", role="clerk", window=self.window, display_name="王*")

    def logout(self) -> None:
        pass

    def hall_info(self) -> HallInfo:
        return HallInfo.model_validate(
            {
                "id": self.hall,
                "name": "句容市政务服务中心",
                "services": [{"code": "A", "name": "社保业务"}, {"code": "B", "name": "医保业务"}],
                "windows": [
                    {"id": "1", "name": "1号窗口", "services": ["A", "B"]},
                    {"id": "2", "name": "2号窗口", "services": ["B"]},
                ],
            }
        )

    def window_info(self) -> WindowAnswer:
        self.calls.append(("window", None, None))
        self._maybe_fail()
        return self._window()

    def _window(self) -> WindowAnswer:
        return WindowAnswer(
            window="1",
            name="1号窗口",
            state=self.state,  # type: ignore[arg-type]
            reason=self.reason,
            ticket=at_window(self.current) if self.current else None,
            waiting_for_my_services={
                "A": sum(n.startswith("A") for n in self.waiting),
                "B": sum(n.startswith("B") for n in self.waiting),
            },
            served_today=self.served,
        )

    def call_next(self, idempotency_key: str) -> TicketAtWindow | None:
        self.calls.append(("call-next", None, idempotency_key))
        self._maybe_fail()
        if idempotency_key in self.keys_seen:
            return self.keys_seen[idempotency_key]
        if self.current is not None:
            self.served += 1
        self.current = None
        if self.waiting:
            number = self.waiting.pop(0)
            self.current = {
                "id": f"t-{number}",
                "number": number,
                "service": number[0],
                "service_name": "社保业务",
                "priority": "green" if number == "A002" else "normal",
                "status": "called",
                "waited_s": 754,
                "called_at": "2026-11-23T12:00:00+00:00",
                "transferred_from": None,
            }
        self.keys_seen[idempotency_key] = self.current
        return at_window(self.current) if self.current else None

    def action(
        self, name: str, body: Body | None = None, key: str | None = None
    ) -> WindowAnswer | TicketAtWindow | None:
        sent = recorded(body)
        self.calls.append((name, sent, key))
        self._maybe_fail()
        if name in ("finish", "no-show", "transfer", "park"):
            if self.current is None:
                raise DispatcherRefused(409, "窗口当前没有正在办理的号")
            self.served += name == "finish"
            self.current = None
        elif name == "pause":
            self.state, self.reason = "paused", (sent or {})["reason"]
        elif name == "resume":
            self.state, self.reason = "open", ""
        elif name == "call":
            number = (sent or {})["number"]
            if number not in self.waiting:
                raise DispatcherRefused(409, f"今天没有{number}号，或它已办结")
            self.waiting.remove(number)
            self.current = {"id": f"t-{number}", "number": number, "service": number[0]}
            return at_window(self.current)
        elif name in ("call-back", "quick-serve"):
            return None
        return self._window()

    def rating_options(self) -> RatingOptions:
        self.calls.append(("options", None, None))
        self._maybe_fail()
        bad = [{"code": "attitude", "label": "服务态度差"}, {"code": "efficiency", "label": "办事效率低"}]
        good = [{"code": "skill", "label": "业务熟练"}]
        levels = [
            {"score": s, "label": n, "is_bad": s <= 2, "reasons": bad if s <= 2 else good if s >= 4 else []}
            for s, n in ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"))
        ]
        return RatingOptions.model_validate({"levels": levels, "window_days": 7})

    def evaluate(self, ticket_id: str, body: RatingBody, key: str | None = None) -> TicketAnswer:
        sent = {"ticket": ticket_id, "score": body.score}
        if body.reasons:
            sent["reasons"] = list(body.reasons)
        self.calls.append(("evaluation", {**sent, "channel": body.channel}, key))
        self._maybe_fail()
        return TicketAnswer.model_validate(
            {
                "id": ticket_id,
                "number": ticket_id.removeprefix("t-"),
                "service": "A",
                "service_name": "社保业务",
                "priority": "normal",
                "status": "done",
                "ahead": 0,
                "estimated_wait_s": 0,
                "issued_at": "2026-11-23T11:48:00+00:00",
                "channel": "kiosk",
                "status_url": f"http://127.0.0.1:8000/t/demo/{ticket_id}?k=x",
            }
        )


def down() -> DispatcherUnreachable:
    return DispatcherUnreachable("无法连接调度服务器（ConnectError）")


class HeldRunner(ManualRunner):
    """Like ManualRunner, but jobs wait until `release()`: requests in flight, as in the app."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[Callable[[], Any], Done]] = []

    def submit(self, job: Callable[[], Any], done: Done) -> None:
        self.held.append((job, done))

    def release(self) -> None:
        while self.held:
            job, done = self.held.pop(0)
            super().submit(job, done)
