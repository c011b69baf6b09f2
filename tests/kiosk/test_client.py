"""hallq.client.DispatcherHttp, the HTTP seam the kiosk and the terminal share: what is retried, with
which key, what is not, and how a refusal reads (fast, against httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from hallq.api_models import HallInfo, PauseBody, TicketAnswer
from hallq.client import DispatcherHttp, DispatcherRefused, DispatcherUnreachable, UnexpectedAnswer

Handler = Callable[[httpx.Request], httpx.Response]
HALL = {"id": "demo", "name": "句容市政务服务中心"}


def client(handler: Handler, attempts: int = 3) -> tuple[DispatcherHttp, list[float]]:
    slept: list[float] = []
    http = DispatcherHttp(
        "http://dispatcher/", {"Authorization": "Bearer t"}, attempts=attempts, backoff_s=0.5,
        transport=httpx.MockTransport(handler), sleep=slept.append,
    )  # fmt: skip
    return http, slept


def test_transient_failures_are_retried_with_the_same_key_and_backing_off() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(seen) == 2:
            return httpx.Response(503, json={"detail": "正在切换主备 — standby"})
        return httpx.Response(200, json=HALL)

    http, slept = client(handler)
    hall = http.call("POST", "/halls/demo/windows/1/pause", HallInfo, body=PauseBody(reason="午休"), key="k1")
    assert hall.name == "句容市政务服务中心"
    assert [r.url.path for r in seen] == ["/api/v1/halls/demo/windows/1/pause"] * 3
    assert {r.headers["Idempotency-Key"] for r in seen} == {"k1"}
    assert all(r.headers["Authorization"] == "Bearer t" and json.loads(r.content) == {"reason": "午休"} for r in seen)
    assert slept == [0.5, 1.0]


def test_an_unreachable_dispatcher_is_named_after_the_last_attempt() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    http, slept = client(handler)
    with pytest.raises(DispatcherUnreachable, match="无响应") as raised:
        http.call("GET", "/halls/demo", HallInfo)
    assert raised.value.status is None and len(slept) == 2


def test_a_server_error_is_unreachable_with_its_status_and_sentence() -> None:
    http, _ = client(lambda _r: httpx.Response(500, json={"detail": "数据库不可用 — database down"}), attempts=1)
    with pytest.raises(DispatcherUnreachable) as raised:
        http.call("GET", "/halls/demo", HallInfo)
    assert (raised.value.status, raised.value.detail) == (500, "数据库不可用 — database down")


def test_a_refusal_is_never_retried_and_carries_the_dispatchers_sentence() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(409, json={"detail": "今日号源已满 — no tickets left today"})

    http, slept = client(handler)
    with pytest.raises(DispatcherRefused) as raised:
        http.call("POST", "/halls/demo/tickets", TicketAnswer, key="k")
    assert (raised.value.status, raised.value.detail) == (409, "今日号源已满 — no tickets left today")
    assert len(calls) == 1 and slept == []


def test_a_422_lists_its_problems_in_one_sentence_and_a_bare_error_says_its_status() -> None:
    problems = {"detail": [{"msg": "field required"}, {"msg": "too long"}]}
    http, _ = client(lambda _r: httpx.Response(422, json=problems))
    with pytest.raises(DispatcherRefused, match="field required；too long"):
        http.call("GET", "/halls/demo", HallInfo)
    http, _ = client(lambda _r: httpx.Response(404, text="not json"))
    with pytest.raises(DispatcherRefused, match=r"操作失败（HTTP 404）"):
        http.call("GET", "/halls/demo", HallInfo)


def test_204_is_none_and_an_answer_of_another_shape_is_unexpected() -> None:
    http, _ = client(lambda _r: httpx.Response(204))
    assert http.call_or_none("POST", "/halls/demo/windows/1/call-next", TicketAnswer) is None
    with pytest.raises(UnexpectedAnswer, match="answered nothing"):
        http.call("POST", "/halls/demo/windows/1/call-next", TicketAnswer)
    http, _ = client(lambda _r: httpx.Response(200, json={"id": "x"}))
    with pytest.raises(UnexpectedAnswer, match="无法解析"):
        http.call("GET", "/halls/demo/tickets/x", TicketAnswer)
