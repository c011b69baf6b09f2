"""GET /halls/{hall}/tickets/{id}/events at the HTTP level against the real `hallq server`: the place
at once and again after a call-next moves it, then the ticket's own call; a wrong or missing key is
refused; a reconnect with Last-Event-ID gets nothing it has already, and the change after it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from queue import Empty, Queue
from typing import Any

import httpx
import pytest

from tests.support.dispatcher import Dispatcher, start_dispatcher

READ_S = 10.0


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("ticket-events"))
    yield server
    server.terminate()


def issue(d: Dispatcher, service: str = "A") -> dict[str, Any]:
    response = httpx.post(f"{d.api}/halls/demo/tickets", json={"service": service, "channel": "kiosk"},
                          headers=d.headers, timeout=10)  # fmt: skip
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def events_url(d: Dispatcher, ticket: dict[str, Any], key: str | None = None) -> str:
    k = key if key is not None else ticket["status_url"].rsplit("k=", 1)[1]
    return f"{d.api}/halls/demo/tickets/{ticket['id']}/events?k={k}"


class Stream:
    """One SSE stream read on a thread: its `place` events as (id, data) in a queue."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: Queue[tuple[str, dict[str, Any]]] = Queue()
        self.status: Queue[int] = Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self._thread = threading.Thread(target=self._read, args=(url, headers or {}), daemon=True)
        self._thread.start()
        self.status_code = self.status.get(timeout=READ_S)

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status.put(response.status_code)
                event, data, event_id = "", "", ""
                for line in response.iter_lines():
                    if line == "":
                        if event == "place":
                            self.events.put((event_id, json.loads(data)))
                        event, data, event_id = "", "", ""
                    elif line.startswith("event:"):
                        event = line.removeprefix("event:").strip()
                    elif line.startswith("data:"):
                        data = line.removeprefix("data:").strip()
                    elif line.startswith("id:"):
                        event_id = line.removeprefix("id:").strip()
        except httpx.HTTPError:
            pass  # closed by the test

    def next(self, timeout: float = READ_S) -> tuple[str, dict[str, Any]]:
        return self.events.get(timeout=timeout)

    def nothing_within(self, seconds: float) -> bool:
        try:
            self.events.get(timeout=seconds)
        except Empty:
            return True
        return False

    def close(self) -> None:
        self._client.close()


def call_next(d: Dispatcher, window: str) -> dict[str, Any]:
    response = httpx.post(f"{d.api}/halls/demo/windows/{window}/call-next", headers=d.clerk_headers(window),
                          timeout=10)  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def drain_service(d: Dispatcher, window: str) -> None:
    """Nobody left waiting for the window's services (earlier tests of the module issued some)."""
    headers = d.clerk_headers(window)
    while httpx.post(f"{d.api}/halls/demo/windows/{window}/call-next", headers=headers, timeout=10).status_code == 200:
        pass


def test_a_call_next_moves_the_place_and_the_own_call_names_the_window(dispatcher: Dispatcher) -> None:
    drain_service(dispatcher, "1")
    first, mine = issue(dispatcher), issue(dispatcher)
    stream = Stream(events_url(dispatcher, mine))
    try:
        assert stream.status_code == 200
        event_id, place = stream.next()
        assert place["status"] == "waiting" and place["ahead"] == 1 and place["estimated_wait_s"] > 0
        assert event_id.count("-") == 1
        assert call_next(dispatcher, "1")["ticket"]["number"] == first["number"]
        moved_id, moved = stream.next()
        assert moved["status"] == "waiting" and moved["ahead"] == 0 and moved_id != event_id
        assert call_next(dispatcher, "1")["ticket"]["number"] == mine["number"]
        _, called = stream.next()
        assert called["status"] == "called" and called["window"] == "1" and called["window_name"]
        assert set(called) == {"status", "ahead", "estimated_wait_s", "window", "window_name"}
    finally:
        stream.close()


def test_a_finished_ticket_ends_its_stream_and_a_reconnect_gets_204(dispatcher: Dispatcher) -> None:
    drain_service(dispatcher, "1")
    mine = issue(dispatcher)
    call_next(dispatcher, "1")
    stream = Stream(events_url(dispatcher, mine))
    try:
        assert stream.next()[1]["status"] == "called"
        finished = httpx.post(f"{dispatcher.api}/halls/demo/windows/1/finish",
                              headers=dispatcher.clerk_headers("1"), timeout=10)  # fmt: skip
        assert finished.status_code == 200, finished.text
        last_id, done = stream.next()
        assert done["status"] == "done"
    finally:
        stream.close()
    again = httpx.get(events_url(dispatcher, mine), headers={"Last-Event-ID": last_id}, timeout=10)
    assert again.status_code == 204


def test_a_wrong_or_missing_key_is_refused(dispatcher: Dispatcher) -> None:
    mine = issue(dispatcher)
    wrong = httpx.get(events_url(dispatcher, mine, key="not-the-key"), timeout=10)
    assert wrong.status_code == 403 and "二维码" in wrong.json()["detail"]
    missing = httpx.get(f"{dispatcher.api}/halls/demo/tickets/{mine['id']}/events", timeout=10)
    assert missing.status_code == 401 and missing.json()["detail"]
    unknown = httpx.get(f"{dispatcher.api}/halls/demo/tickets/0000000000000000/events?k=x", timeout=10)
    assert unknown.status_code == 404
    other_hall = httpx.get(f"{dispatcher.api}/halls/nowhere/tickets/{mine['id']}/events?k=x", timeout=10)
    assert other_hall.status_code == 404


def test_resume_with_last_event_id_sends_only_what_changed(dispatcher: Dispatcher) -> None:
    drain_service(dispatcher, "1")
    first, mine = issue(dispatcher), issue(dispatcher)
    stream = Stream(events_url(dispatcher, mine))
    last_id, place = stream.next()
    stream.close()
    assert place["ahead"] == 1
    resumed = Stream(events_url(dispatcher, mine), headers={"Last-Event-ID": last_id})
    try:
        assert resumed.status_code == 200
        assert resumed.nothing_within(0.5)  # the browser shows this place already
        assert call_next(dispatcher, "1")["ticket"]["number"] == first["number"]
        new_id, moved = resumed.next()
        assert moved["ahead"] == 0 and new_id != last_id
    finally:
        resumed.close()
    stale = Stream(events_url(dispatcher, mine), headers={"Last-Event-ID": last_id})
    try:
        assert stale.next()[1]["ahead"] == 0  # it missed a change while away: it gets it at once
    finally:
        stale.close()
