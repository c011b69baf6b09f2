"""caller.terminal.api.TerminalApi over httpx.MockTransport: answers parsed into the shared models,
which token goes with which call, and no retry of its own (the presenter shows each retry)."""

from __future__ import annotations

import json

import httpx
import pytest

from caller.terminal.api import TerminalApi
from hallq.api_models import CallNumberBody, TicketAtWindow, WindowAnswer
from hallq.client import DispatcherRefused, DispatcherUnreachable
from hallq.evaluation_models import RatingBody

TICKET = {
    "id": "t1", "number": "A012", "service": "A", "service_name": "社保业务", "priority": "green",
    "green_reason": "elderly", "status": "called", "waited_s": 754, "issued_at": "2026-11-23T08:00:00+08:00",
    "called_at": "2026-11-23T08:12:34+08:00", "channel": "kiosk",
}  # fmt: skip
WINDOW = {"window": "1", "name": "1号窗口", "state": "open", "ticket": TICKET, "waiting_for_my_services": {"A": 2}}


class Dispatcher:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        path = request.url.path.removeprefix("/api/v1")
        if path == "/auth/login":
            body = json.loads(request.content)
            if body["password"] != "demo":
                return httpx.Response(401, json={"detail": "用户名或密码不对"})
            return httpx.Response(200, json={"access_token": "clerk-token", "role": "clerk", "window": "1",
                                             "display_name": "王*"})  # fmt: skip
        if path.endswith("/call-next"):
            return (
                httpx.Response(204)
                if request.headers["Idempotency-Key"] == "empty"
                else httpx.Response(200, json={"ticket": TICKET})
            )
        if path.endswith("/call"):
            return httpx.Response(200, json={"ticket": TICKET})
        if path.endswith("/evaluations/options"):
            reasons = [{"code": "attitude", "label": "服务态度差"}]
            bad = {"score": 1, "label": "非常不满意", "is_bad": True, "reasons": reasons}
            good = {"score": 5, "label": "非常满意", "is_bad": False, "reasons": []}
            return httpx.Response(200, json={"levels": [good, bad], "window_days": 7})
        if path.endswith("/evaluation"):
            return httpx.Response(201, json={**TICKET, "status": "done", "ahead": 0, "estimated_wait_s": 0,
                                             "status_url": "http://h/t/demo/t1?k=x"})  # fmt: skip
        return httpx.Response(200, json=WINDOW)


@pytest.fixture
def dispatcher() -> Dispatcher:
    return Dispatcher()


@pytest.fixture
def api(dispatcher: Dispatcher) -> TerminalApi:
    return TerminalApi("http://dispatcher", "demo", "1", device_token="device-token",
                       transport=httpx.MockTransport(dispatcher))  # fmt: skip


def test_login_then_the_clerks_token_goes_with_window_calls(api: TerminalApi, dispatcher: Dispatcher) -> None:
    login = api.login("clerk1", "demo")
    assert (login.display_name, login.window) == ("王*", "1")
    assert json.loads(dispatcher.requests[0].content) == {"username": "clerk1", "password": "demo", "window": "1"}
    window = api.window_info()
    assert isinstance(window, WindowAnswer) and window.ticket is not None and window.ticket.waited_s == 754
    assert dispatcher.requests[-1].headers["Authorization"] == "Bearer clerk-token"


def test_call_next_is_the_ticket_or_none(api: TerminalApi) -> None:
    called = api.call_next("k1")
    assert isinstance(called, TicketAtWindow) and called.number == "A012" and called.green_reason == "elderly"
    assert api.call_next("empty") is None


def test_actions_answer_the_window_or_the_ticket_now_called(api: TerminalApi, dispatcher: Dispatcher) -> None:
    assert isinstance(api.action("finish", key="k2"), WindowAnswer)
    assert dispatcher.requests[-1].content == b""  # a simple action has no body
    called = api.action("call", CallNumberBody(number="A012"), key="k3")
    assert isinstance(called, TicketAtWindow)
    assert json.loads(dispatcher.requests[-1].content) == {"number": "A012"}


def test_an_evaluation_goes_with_the_devices_token(api: TerminalApi, dispatcher: Dispatcher) -> None:
    api.login("clerk1", "demo")
    rated = api.evaluate("t1", RatingBody(score=2, reasons=["attitude"], channel="terminal"), key="k4")
    assert rated.status == "done"
    assert dispatcher.requests[-1].headers["Authorization"] == "Bearer device-token"
    sent = json.loads(dispatcher.requests[-1].content)
    assert sent == {"score": 2, "reasons": ["attitude"], "channel": "terminal"}


def test_rating_options_are_read_without_a_token(api: TerminalApi, dispatcher: Dispatcher) -> None:
    options = api.rating_options()
    assert [level.score for level in options.levels] == [5, 1]
    assert options.levels[1].reasons[0].label == "服务态度差"
    request = dispatcher.requests[-1]
    assert request.url.path == "/api/v1/halls/demo/evaluations/options" and "Authorization" not in request.headers


def test_a_wrong_password_is_refused_and_a_dead_dispatcher_is_tried_once(
    api: TerminalApi, dispatcher: Dispatcher
) -> None:
    with pytest.raises(DispatcherRefused) as refused:
        api.login("clerk1", "nope")
    assert (refused.value.status, refused.value.detail) == (401, "用户名或密码不对")
    dispatcher.down = True
    before = len(dispatcher.requests)
    with pytest.raises(DispatcherUnreachable, match="无法连接调度服务器"):
        api.call_next("k5")
    assert len(dispatcher.requests) == before + 1
