"""The phone queue's SMS (DESIGN.md §13, `notify`) against the real `hallq server` and a gateway
simulator (a local HTTP server): "还有N位" when the ticket's `ahead` reaches `notify.ahead`, "请到X号窗口"
on its call, each once, across a gateway that is down and a kill -9 of the dispatcher; the phone is
kept only until the ticket ends and never appears in an answer, the events or the log."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hallq.config import ConfigError, example_config_path, parse_hall_config
from server.notify.gateways import FileGateway
from server.notify.planner import Message
from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.support.ports import free_port

PHONE = "13912345678"
WAIT_S = 15.0


class SmsGateway:
    """The SMS gateway: answers 503 while `down`, else 200; remembers every message it accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.down = False
        self.refused = 0
        self.accepted: list[dict[str, Any]] = []  # bodies answered 200, repeats included
        self.keys: list[str] = []  # their Idempotency-Keys, in order
        self._changed = threading.Condition()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.take(self, self.headers["Idempotency-Key"], body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/{{hall}}"

    def take(self, handler: BaseHTTPRequestHandler, key: str, body: dict[str, Any]) -> None:
        with self._changed:
            if self.down:
                self.refused += 1
                handler.send_response(503)
            else:
                self.accepted.append(body)
                self.keys.append(key)
                handler.send_response(200)
            self._changed.notify_all()
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def wait_for(self, condition: Callable[[], bool]) -> bool:
        with self._changed:
            return self._changed.wait_for(condition, WAIT_S)

    def texts(self) -> list[str]:
        return [str(b["content"]) for b in self.accepted]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    sim = SmsGateway()
    yield sim
    sim.stop()


def hall_config(tmp_path: Path, notify: dict[str, Any]) -> Path:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    data["notify"] = notify
    path = tmp_path / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def dispatcher(tmp_path: Path, gateway: SmsGateway) -> Iterator[Dispatcher]:
    config = hall_config(tmp_path, {"ahead": 2, "sms": {"kind": "http", "url": gateway.url, "retry_max_s": 0.2}})
    server = start_dispatcher(tmp_path, extra_args=["--config", str(config)])
    yield server
    server.kill()


def eventually(condition: Callable[[], bool]) -> bool:
    """For what only the database shows (no event to wait on): look again every 50 ms."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.05)
    return True


def issue(d: Dispatcher, phone: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"service": "A", "channel": "phone"}
    if phone is not None:
        body["notify_phone"] = phone
    response = httpx.post(f"{d.api}/halls/demo/tickets", json=body, headers=d.headers, timeout=10)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def call_next(d: Dispatcher, clerk: dict[str, str]) -> str:
    response = httpx.post(f"{d.api}/halls/demo/windows/1/call-next", headers=clerk, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["ticket"]["number"])


def sms_status(d: Dispatcher) -> dict[str, Any]:
    supervisor = {"Authorization": f"Bearer {d.login('supervisor')}"}
    response = httpx.get(f"{d.api}/halls/demo/notify", headers=supervisor, timeout=10)
    assert response.status_code == 200 and PHONE not in response.text, response.text
    body: dict[str, Any] = response.json()
    return body


def stored(d: Dispatcher, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(d.database.removeprefix("sqlite:///")) as conn:
        return conn.execute(query).fetchall()


def test_each_message_once_across_an_outage_and_a_kill(dispatcher: Dispatcher, gateway: SmsGateway) -> None:
    d = dispatcher
    clerk = d.clerk_headers("1")
    first = [issue(d) for _ in range(3)]
    mine = issue(d, PHONE)
    assert PHONE not in json.dumps(mine) and mine["ahead"] == 3
    gateway.down = True
    assert call_next(d, clerk) == first[0]["number"]  # 2 ahead now: "还有2位" is due
    assert gateway.wait_for(lambda: gateway.refused >= 2)  # tried, and tried again, while down
    status = sms_status(d)
    assert status["waiting"] == 1 and status["phones"] == 1 and "503" in status["last_error"], status
    d.kill()  # the message is stored, not yet delivered
    gateway.down = False
    d.start()
    assert gateway.wait_for(lambda: len(gateway.accepted) == 1), d.log_text()[-2000:]
    assert gateway.texts() == [f"【句容市政务服务中心】{mine['number']}号还有2位，请回到大厅等候叫号。"]
    assert gateway.accepted[0]["mobile"] == PHONE and gateway.accepted[0]["outId"] == gateway.keys[0]

    clerk = d.clerk_headers("1")
    assert [call_next(d, clerk) for _ in range(3)][-1] == mine["number"]
    assert gateway.wait_for(lambda: len(gateway.accepted) == 2), d.log_text()[-2000:]
    assert gateway.texts()[1] == f"【句容市政务服务中心】请{mine['number']}号到1号窗口办理。"
    assert Counter(gateway.keys).most_common(1)[0][1] == 1  # no message twice
    status = sms_status(d)
    assert status["sms"] == "http" and status["waiting"] == 0 and status["last_error"] is None, status
    clerk_status = httpx.get(f"{d.api}/halls/demo/notify", headers=clerk, timeout=10)
    assert clerk_status.status_code == 403
    assert stored(d, "SELECT count(*) FROM notify_phones") == [(1,)]  # still needed: the ticket is open

    finished = httpx.post(f"{d.api}/halls/demo/windows/1/finish", headers=clerk, timeout=10)
    assert finished.status_code == 200, finished.text
    assert eventually(lambda: not stored(d, "SELECT ticket_id FROM notify_phones"))
    assert stored(d, "SELECT count(*) FROM notify_outbox") == [(0,)]
    events = stored(d, "SELECT payload FROM events")
    assert events and not any(PHONE in str(row) for row in events)
    assert PHONE not in d.log_text()
    assert len(gateway.accepted) == 2


def test_no_phone_no_message_and_a_bad_phone_is_refused(dispatcher: Dispatcher, gateway: SmsGateway) -> None:
    d = dispatcher
    bad = httpx.post(f"{d.api}/halls/demo/tickets", json={"service": "A", "notify_phone": "12345"},
                     headers=d.headers, timeout=10)  # fmt: skip
    assert bad.status_code == 422 and "notify_phone" in bad.json()["detail"] and "12345" not in bad.text
    issue(d)
    mine = issue(d, PHONE)  # one ahead, fewer than notify.ahead: told at once
    assert gateway.wait_for(lambda: len(gateway.accepted) == 1)
    assert f"{mine['number']}号还有1位" in gateway.texts()[0]
    assert stored(d, "SELECT count(*) FROM notify_phones") == [(1,)]

    clerk = d.clerk_headers("1")
    assert [call_next(d, clerk) for _ in range(2)][-1] == mine["number"]
    assert gateway.wait_for(lambda: len(gateway.accepted) == 2)  # the call
    missed = httpx.post(f"{d.api}/halls/demo/windows/1/no-show", headers=clerk, timeout=10)
    assert missed.status_code == 200, missed.text
    key = mine["status_url"].rsplit("k=", 1)[1]
    rejoined = httpx.post(f"{d.api}/halls/demo/tickets/{mine['id']}/rejoin?k={key}", timeout=10)
    assert rejoined.status_code == 200, rejoined.text
    assert gateway.wait_for(lambda: len(gateway.accepted) == 3)  # back in line, maybe away: told again
    assert f"{mine['number']}号还有{rejoined.json()['ahead']}位" in gateway.texts()[2]
    assert len(set(gateway.keys)) == 3


def test_the_file_gateway_writes_a_message_once_across_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "sms" / "out.jsonl"
    messages = [Message(f"demo-t{i}-call-{i}", f"t{i}", "call", PHONE, f"请A00{i}号到1号窗口办理。") for i in range(3)]
    assert FileGateway(path).deliver(messages[:2]).count == 2
    with open(path, "ab") as handle:
        handle.write(b'{"key": "demo-t2-ca')  # a crash in the middle of the next line
    again = FileGateway(path)  # a restart: the batch comes again from the first undelivered message
    assert again.deliver(messages[1:]).count == 2
    keys = [json.loads(line)["key"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert keys == [m.key for m in messages]


@pytest.mark.parametrize(
    ("sms", "says"),
    [
        ({"kind": "http"}, "needs url"),
        ({"kind": "http", "url": "http://gw/{phone}"}, "may name only hall, key"),
        ({"kind": "http", "url": "http://gw/send", "fields": {"m": "{phone}"}}, "must send {text}"),
        ({"kind": "http", "url": "http://gw/send", "fields": {"m": "{phone}", "c": "{text}", "x": "{name}"}}, "'name'"),
        ({"kind": "file"}, "needs path"),
    ],
)
def test_a_gateway_config_that_cannot_work_is_refused(sms: dict[str, Any], says: str) -> None:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    data["notify"] = {"sms": sms}
    with pytest.raises(ConfigError) as refused:
        parse_hall_config(data)
    assert says in str(refused.value)
    data["notify"] = {"ahead_text": "{id_number}还有{ahead}位"}
    with pytest.raises(ConfigError, match="id_number"):
        parse_hall_config(data)
