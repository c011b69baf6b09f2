"""The real `hallq server` (tests/support/dispatcher.py) with a real Mosquitto: HTTP in, MQTT out."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hallq.bus import BusClient
from hallq.contract import BoardSnapshot, CallMessage, CommandReply, Topics, WindowStateMessage
from tests.bus.helpers import Recorder, retained, wait_until
from tests.support.broker import Broker
from tests.support.dispatcher import Dispatcher, start_dispatcher

T = Topics("demo")


@pytest.fixture
def hall(tmp_path: Path, mosquitto: Broker) -> Iterator[Dispatcher]:
    dispatcher = start_dispatcher(tmp_path, mqtt_url=mosquitto.url)
    yield dispatcher
    dispatcher.kill()


class Counter:
    """A clerk at a window and a kiosk, over HTTP."""

    def __init__(self, d: Dispatcher, window: str = "1") -> None:
        self.d = d
        self.window = window
        self.http = httpx.Client(base_url=d.api, timeout=15)
        self.clerk = d.clerk_headers(window)

    def issue(self, service: str = "A") -> str:
        r = self.http.post("/halls/demo/tickets", json={"service": service, "channel": "kiosk"}, headers=self.d.headers)
        assert r.status_code == 201, r.text
        return str(r.json()["number"])

    def call_next(self) -> str:
        r = self.http.post(f"/halls/demo/windows/{self.window}/call-next", headers=self.clerk)
        assert r.status_code == 200, r.text
        return str(r.json()["ticket"]["number"])

    def board(self) -> BoardSnapshot:
        return BoardSnapshot.model_validate(self.http.get("/halls/demo/board", headers=self.d.headers).json())


def unpublished(d: Dispatcher) -> int:
    path = d.database.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return int(db.execute("select count(*) from events where published_at is null").fetchone()[0])


def test_a_call_over_http_reaches_subscribers_as_call_and_retained_board(hall: Dispatcher, mosquitto: Broker) -> None:
    rec = Recorder(mosquitto.device_url("board-1"), device="board-1").start()
    try:
        counter = Counter(hall)
        number = counter.issue()
        assert counter.call_next() == number
        wait_until(lambda: len(rec.on("calls")) == 1, what="the calls message")
        call = CallMessage.model_validate_json(rec.on("calls")[0].payload)
        assert (call.ticket, call.window, call.type, call.service) == (number, "1", "call", "A")
        assert number in call.announce and call.window_name == "1号窗口"
        wait_until(lambda: rec.board is not None and rec.board.seq >= call.seq, what="board after the call")
        board = BoardSnapshot.model_validate_json(retained(mosquitto.url, T.board)[T.board])
        assert board.seq == call.seq and board.recent_calls[0].ticket == number
        assert board.model_dump(exclude={"at"}) == counter.board().model_dump(exclude={"at"})  # same as GET /board
        window = WindowStateMessage.model_validate_json(retained(mosquitto.url, T.window("1"))[T.window("1")])
        assert (window.ticket, window.text) == (number, f"请{number}号")
    finally:
        rec.stop()
    keypad_command_over_mqtt_runs_and_is_answered(hall, mosquitto)


def test_dispatcher_works_while_the_broker_is_down_and_catches_up(hall: Dispatcher, mosquitto: Broker) -> None:
    counter = Counter(hall)
    counter.issue()
    counter.call_next()
    wait_until(lambda: unpublished(hall) == 0, what="first call published")
    mosquitto.stop()
    called = []
    for _ in range(3):
        counter.issue()
        called.append(counter.call_next())  # HTTP answers without the broker
    assert unpublished(hall) > 0
    mosquitto.start(fresh=True)  # and it comes back with no memory
    wait_until(lambda: unpublished(hall) == 0, timeout=45, what="catch-up after the broker returned")
    board = BoardSnapshot.model_validate_json(retained(mosquitto.url, T.board)[T.board])
    assert board.model_dump(exclude={"at"}) == counter.board().model_dump(exclude={"at"})
    assert board.recent_calls[0].ticket == called[-1]
    assert len(retained(mosquitto.url, T.all_windows)) == 12  # every window again, not only changed ones
    status = json.loads(retained(mosquitto.url, T.dispatcher_status)[T.dispatcher_status])
    assert status["online"] is True


def test_kill_9_between_commit_and_publish_publishes_each_seq_once(hall: Dispatcher, mosquitto: Broker) -> None:
    counter = Counter(hall)
    mosquitto.stop()  # nothing can be published: every commit stays in the outbox
    called = []
    for _ in range(4):
        counter.issue()
        called.append(counter.call_next())
    hall.kill()  # kill -9: whatever paho had queued in memory is gone
    assert unpublished(hall) > 0
    mosquitto.start()
    rec = Recorder(mosquitto.device_url("board-1"), device="board-1").start()  # dedupes by seq
    try:
        hall.start()  # the same database
        wait_until(lambda: unpublished(hall) == 0, timeout=45, what="the outbox drained after the restart")
        wait_until(lambda: len(rec.unique_calls()) == 4, what="four calls")
        calls = [CallMessage.model_validate_json(m.payload) for m in rec.on("calls")]
        assert sorted({c.ticket for c in calls}) == sorted(called)
        assert sorted(rec.call_seqs) == sorted(set(rec.call_seqs))  # each seq exactly once
        wait_until(lambda: rec.board is not None and rec.board.seq == counter.board().seq, what="final board")
    finally:
        rec.stop()


def test_embedded_broker_carries_calls_to_a_device(tmp_path: Path) -> None:
    d = start_dispatcher(tmp_path)  # no --mqtt: amqtt inside the dispatcher
    try:
        assert d.embedded_mqtt_port is not None
        rec = Recorder(f"mqtt://127.0.0.1:{d.embedded_mqtt_port}", device="board-1").start()
        try:
            counter = Counter(d)
            number = counter.issue()
            counter.call_next()
            wait_until(lambda: any(b'"' + number.encode() + b'"' in m.payload for m in rec.on("calls")), what="call")
            wait_until(lambda: rec.board is not None and rec.board.recent_calls[:1] != [], what="board")
        finally:
            rec.stop()
    finally:
        d.kill()


def keypad_command_over_mqtt_runs_and_is_answered(hall: Dispatcher, mosquitto: Broker) -> None:
    """A keypad bridge's call-next over MQTT, answered on windows/2/replies (one dispatcher start saved)."""
    counter = Counter(hall, window="2")
    number = counter.issue()
    replies: list[CommandReply] = []
    keypad = BusClient(mosquitto.device_url("demo-device"), hall="demo", kind="bridge", device="demo-device")
    keypad.subscribe(T.window_replies("2"), lambda m: replies.append(CommandReply.from_json(m.payload)))
    keypad.start()
    rec = Recorder(mosquitto.device_url("board-1"), device="board-1").start()
    try:
        assert keypad.wait_connected(15)
        command = {"command": "call-next", "request_id": "k-1", "device": "demo-device"}
        keypad.publish(T.window_commands("2"), json.dumps(command).encode())
        wait_until(lambda: len(replies) == 1, what="the reply")
        assert replies[0].status == "ok", replies[0].error
        assert replies[0].data is not None and replies[0].data["ticket"]["number"] == number
        wait_until(lambda: any(b'"window":"2"' in m.payload for m in rec.on("calls")), what="the call it made")
        bad = {"command": "transfer", "request_id": "k-2", "device": "demo-device", "args": {"service": "ZZ"}}
        keypad.publish(T.window_commands("2"), json.dumps(bad).encode())
        wait_until(lambda: len(replies) == 2, what="the error reply")
        assert replies[1].status == "error" and replies[1].error
        # The bridge never saw its reply and retries after the dispatcher restarted: same answer, no second call.
        waiting = counter.issue()
        hall.restart()
        keypad.publish(T.window_commands("2"), json.dumps(command).encode())
        wait_until(lambda: len(replies) == 3, timeout=30, what="the reply to the repeated command")
        assert replies[2].status == "ok" and replies[2].data == replies[0].data
        window = counter.http.get("/halls/demo/windows/2", headers=counter.clerk).json()
        assert window["ticket"]["number"] == number, window
        assert (
            counter.http.get(f"/halls/demo/tickets/by-number/{waiting}", headers=hall.headers).json()["status"]
            == "waiting"
        )
    finally:
        rec.stop()
        keypad.stop()
