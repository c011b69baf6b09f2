"""Fast fakes for the presenter's unit tests only; the integration tests use a real dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caller.terminal.api import ApiError, DispatcherDown, Login
from caller.terminal.presenter import Done


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


class FakeApi:
    """Records calls; `fail_next` makes the next calls raise (DispatcherDown or ApiError)."""

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

    def login(self, username: str, password: str) -> Login:
        self.calls.append(("login", username, None))
        self._maybe_fail()
        if password != "demo":
            raise ApiError("用户名或密码不对", 401)
        return Login("tok", "clerk", self.window, "王*")

    def logout(self) -> None:
        pass

    def hall_info(self) -> dict[str, Any]:
        return {
            "services": [{"code": "A", "name": "社保业务"}, {"code": "B", "name": "医保业务"}],
            "windows": [
                {"id": "1", "name": "1号窗口", "services": ["A", "B"]},
                {"id": "2", "name": "2号窗口", "services": ["B"]},
            ],
        }

    def window_info(self) -> dict[str, Any]:
        self.calls.append(("window", None, None))
        self._maybe_fail()
        return {
            "window": "1",
            "name": "1号窗口",
            "state": self.state,
            "reason": self.reason,
            "ticket": self.current,
            "waiting_for_my_services": {
                "A": sum(n.startswith("A") for n in self.waiting),
                "B": sum(n.startswith("B") for n in self.waiting),
            },
            "served_today": self.served,
        }

    def call_next(self, idempotency_key: str) -> dict[str, Any] | None:
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
        return self.current

    def action(self, name: str, body: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
        self.calls.append((name, body, key))
        self._maybe_fail()
        if name in ("finish", "no-show", "transfer", "park"):
            if self.current is None:
                raise ApiError("窗口当前没有正在办理的号")
            self.served += name == "finish"
            self.current = None
        elif name == "pause":
            self.state, self.reason = "paused", (body or {})["reason"]
        elif name == "resume":
            self.state, self.reason = "open", ""
        elif name == "call":
            number = (body or {})["number"]
            if number not in self.waiting:
                raise ApiError(f"今天没有{number}号，或它已办结")
            self.waiting.remove(number)
            self.current = {"id": f"t-{number}", "number": number, "service": number[0]}
            return {"ticket": self.current}
        return {}

    def evaluate(self, ticket_id: str, score: int, key: str | None = None) -> dict[str, Any]:
        self.calls.append(("evaluation", {"ticket": ticket_id, "score": score}, key))
        self._maybe_fail()
        return {"score": score}


def down() -> DispatcherDown:
    return DispatcherDown("无法连接调度服务器（ConnectError）")


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
