"""Fast fakes for presenter tests: a fake dispatcher behind httpx.MockTransport and inline tasks.
The UI tests use the real dispatcher (tests/support/dispatcher.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

SERVICES = [
    {"code": "A", "name": "社保业务", "department": "人社", "open_now": True, "waiting": 0, "est_wait_s": 0},
    {"code": "B", "name": "医保业务", "department": "医保", "open_now": True, "waiting": 0, "est_wait_s": 0},
    {"code": "E", "name": "户籍业务", "department": "公安户籍", "open_now": True, "waiting": 0, "est_wait_s": 0},
    {"code": "G", "name": "婚姻登记", "department": "婚姻登记", "open_now": False, "waiting": 0, "est_wait_s": 0},
    {"code": "C", "name": "不动产登记", "department": "不动产登记", "open_now": True, "waiting": 0, "est_wait_s": 0},
]


RATING_OPTIONS = {
    "window_days": 7,
    "levels": [
        {"score": 5, "label": "非常满意", "is_bad": False, "reasons": [{"code": "attitude", "label": "服务态度好"}]},
        {"score": 4, "label": "满意", "is_bad": False, "reasons": []},
        {"score": 3, "label": "基本满意", "is_bad": False, "reasons": []},
        {"score": 2, "label": "不满意", "is_bad": True, "reasons": [{"code": "efficiency", "label": "办事效率低"}]},
        {
            "score": 1,
            "label": "非常不满意",
            "is_bad": True,
            "reasons": [{"code": "attitude", "label": "服务态度差"}, {"code": "efficiency", "label": "办事效率低"}],
        },
    ],
}


@dataclass
class FakeDispatcher:
    """Issues tickets like the dispatcher does: numbers per prefix, Idempotency-Key replays, limits."""

    down: bool = False
    limit_per_person: int = 1
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    per_person: dict[str, int] = field(default_factory=dict)
    lose_next_answer: bool = False
    ratings: dict[str, dict[str, Any]] = field(default_factory=dict)  # ticket id → the rating body
    holders: dict[str, str] = field(default_factory=dict)  # ticket id → the card's number

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path.removeprefix("/api/v1/halls/demo")
        if request.method == "GET" and path == "":
            live = [
                {**s, "waiting": self.waiting(s["code"]), "est_wait_s": 480 * self.waiting(s["code"])} for s in SERVICES
            ]
            return httpx.Response(
                200, json={"id": "demo", "name": "句容市政务服务中心", "notice": "欢迎", "services": live}
            )
        if request.method == "GET" and path == "/board":
            waiting = {"A": {"name": "社保业务", "count": self.waiting("A"), "est_wait_s": 480 * self.waiting("A")}}
            return httpx.Response(200, json={"seq": 1, "at": "2026-01-05T09:00:00+08:00", "waiting": waiting})
        if request.method == "POST" and path == "/tickets":
            return self.issue(request)
        if request.method == "GET" and path.startswith("/tickets/by-number/"):
            number = path.rsplit("/", 1)[1]
            found = [t for t in self.tickets.values() if t["number"] == number]
            return httpx.Response(200, json=found[0]) if found else httpx.Response(404, json={"detail": "没有该号码"})
        if request.method == "GET" and path.startswith("/tickets/"):
            ticket = self.tickets.get(path.rsplit("/", 1)[1])
            return httpx.Response(200, json=ticket) if ticket else httpx.Response(404, json={"detail": "没有该号票"})
        if request.method == "POST" and path.endswith("/rejoin"):
            ticket = self.tickets[path.split("/")[2]]
            ticket.update(status="waiting", ahead=3)
            return httpx.Response(200, json=ticket)
        if request.method == "POST" and path == "/appointments/check-in":  # no booking in this fake hall
            return httpx.Response(404, json={"detail": "您今天没有预约。 No booking today."})
        if request.method == "POST" and path == "/tickets/served-by-card":
            number = json.loads(request.content)["id_card"]["id_number"]
            done = [t for i, t in self.tickets.items() if self.holders.get(i) == number and t["status"] == "done"]
            if not done:
                return httpx.Response(404, json={"detail": "今天没有找到您已办结的业务，请扫描号票上的二维码评价。"})
            return httpx.Response(200, json=done[-1])
        if request.method == "GET" and path == "/evaluations/options":
            return httpx.Response(200, json=RATING_OPTIONS)
        if request.method == "POST" and path.endswith("/evaluation"):
            return self.rate(path.split("/")[2], request)
        return httpx.Response(404, json={"detail": f"no route {request.method} {path}"})

    def rate(self, ticket_id: str, request: httpx.Request) -> httpx.Response:
        ticket = self.tickets[ticket_id]
        if request.url.params.get("k") != f"secret{ticket_id}":
            return httpx.Response(403, json={"detail": "二维码不对"})
        if ticket_id in self.ratings:
            return httpx.Response(409, json={"detail": f"{ticket['number']} 号已评价过，每次服务只能评价一次"})
        self.ratings[ticket_id] = json.loads(request.content)
        return httpx.Response(200, json=ticket)

    def waiting(self, service: str) -> int:
        return sum(1 for t in self.tickets.values() if t["service"] == service and t["status"] == "waiting")

    def issue(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key", "")
        body = json.loads(request.content)
        if key in self.by_key:
            return httpx.Response(201, json=self.tickets[self.by_key[key]])
        card = body.get("id_card")
        if card:
            count = self.per_person.get(card["id_number"] + body["service"], 0)
            if count >= self.limit_per_person:
                return httpx.Response(
                    409, json={"detail": f"您今天已在本业务取号 {count} 次，每人每天限 {self.limit_per_person} 次"}
                )
            self.per_person[card["id_number"] + body["service"]] = count + 1
        ahead = self.waiting(body["service"])
        number = f"{body['service']}{sum(1 for t in self.tickets.values() if t['service'] == body['service']) + 1:03d}"
        ticket_id = f"t{len(self.tickets) + 1}"
        ticket = {
            "id": ticket_id,
            "number": number,
            "service": body["service"],
            "service_name": next(s["name"] for s in SERVICES if s["code"] == body["service"]),
            "channel": body["channel"],
            "priority": body.get("priority"),
            "status": "waiting",
            "ahead": ahead,
            "estimated_wait_s": ahead * 480,
            "issued_at": "2026-01-05T09:00:00+08:00",
            "status_url": f"http://127.0.0.1:8000/t/demo/{ticket_id}?k=secret{ticket_id}",
        }
        self.tickets[ticket_id] = ticket
        self.by_key[key] = ticket_id
        if card:
            self.holders[ticket_id] = card["id_number"]  # whose ticket (the dispatcher keeps an HMAC)
        if self.lose_next_answer:  # issued, but the answer never reaches the kiosk
            self.lose_next_answer = False
            raise httpx.ReadTimeout("answer lost", request=request)
        return httpx.Response(201, json=ticket)


class InlineTasks:
    """Runs work at once on the calling thread; timers wait until the test fires them."""

    def __init__(self) -> None:
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def run(self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception], None]) -> None:
        try:
            result = work()
        except Exception as exc:
            failed(exc)
            return
        done(result)

    def later(self, delay_s: float, action: Callable[[], None]) -> Callable[[], None]:
        entry = (delay_s, action)
        self.timers.append(entry)
        return lambda: self.timers.remove(entry) if entry in self.timers else None

    def fire(self, predicate: Callable[[float], bool] = lambda _d: True) -> int:
        due = [t for t in self.timers if predicate(t[0])]
        for entry in due:
            self.timers.remove(entry)
            entry[1]()
        return len(due)
