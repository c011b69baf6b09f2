"""Test helpers for the bus: a recording subscriber and an in-memory dispatcher for publisher tests.

`FakeDispatcher` stands in for server.runtime.Dispatcher where a test needs thousands of events
quickly (this 2-core machine makes ~20 HTTP commands a second): it has the same outbox, snapshot and
notification interface the publisher uses. The end-to-end tests use the real `hallq server`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hallq.bus import BusClient, Message
from hallq.config import HallConfig, example_config_path, load_hall_config
from hallq.contract import BoardCall, BoardSnapshot, BoardWaiting, BoardWindow, CallMessage, Topics, WindowStateMessage
from hallq.seqtrack import SeqTracker, Verdict
from server.store import EventRow
from server.views import HallView, WindowLine


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Recorder:
    """A subscriber to everything under a hall, keeping what a hall board would keep."""

    def __init__(self, url: str, device: str = "recorder", hall: str = "demo", slow_s: float = 0.0, **kw: Any) -> None:
        self.topics = Topics(hall)
        self.bus = BusClient(url, hall=hall, kind="board", device=device, **kw)
        self.lock = threading.Lock()
        self.messages: list[Message] = []
        self.call_seqs: list[int] = []  # every calls seq received, duplicates included
        self.tracker = SeqTracker(hall)
        self.gaps = 0
        self.board: BoardSnapshot | None = None
        self.windows: dict[str, WindowStateMessage] = {}
        self.status: dict[str, Any] = {}
        self.slow_s = slow_s
        self.bus.subscribe(f"{self.topics.root}/#", self._record)
        self.bus.subscribe_model(self.topics.calls, CallMessage, self._call)
        self.bus.subscribe_model(self.topics.board, BoardSnapshot, self._board)
        self.bus.subscribe_model(self.topics.all_windows, WindowStateMessage, self._window)

    def start(self, timeout: float = 15.0) -> Recorder:
        self.bus.start()
        assert self.bus.wait_connected(timeout), "recorder did not connect"
        return self

    def stop(self) -> None:
        self.bus.stop()

    def _record(self, message: Message) -> None:
        with self.lock:
            self.messages.append(message)
        if message.topic.endswith("/status"):
            import json

            self.status[message.topic] = json.loads(message.payload)

    def _call(self, call: CallMessage, _m: Message) -> None:
        if self.slow_s:
            time.sleep(self.slow_s)
        with self.lock:
            self.call_seqs.append(call.seq)
            if self.tracker.event(call.seq) is Verdict.GAP:
                self.gaps += 1

    def _board(self, board: BoardSnapshot, _m: Message) -> None:
        with self.lock:
            if self.board is None or board.seq >= self.board.seq:
                self.board = board
            self.tracker.snapshot(board.seq)

    def _window(self, state: WindowStateMessage, message: Message) -> None:
        window = self.topics.window_of(message.topic)
        if window:
            with self.lock:
                self.windows[window] = state

    def resync(self, url: str) -> None:
        """What a board does after a gap: take the retained snapshot (a fresh subscription gets it)."""
        raw = retained(url, self.topics.board, device=f"{self.bus.device}-resync").get(self.topics.board)
        if raw is not None:
            self._board(BoardSnapshot.model_validate_json(raw), Message(self.topics.board, raw, retain=True))

    def unique_calls(self) -> set[int]:
        with self.lock:
            return set(self.call_seqs)

    def on(self, topic_suffix: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.topic == f"{self.topics.root}/{topic_suffix}"]


def retained(url: str, topic_filter: str, device: str = "probe", settle_s: float = 3.0) -> dict[str, bytes]:
    """What a fresh subscriber gets as retained messages on a filter: returns once an exact topic has
    arrived, or (wildcards) once nothing new came for 0.3 s, at most `settle_s` after subscribing."""
    got: dict[str, bytes] = {}
    last = [time.monotonic()]

    def keep(m: Message) -> None:
        if m.retain:
            got[m.topic] = m.payload
            last[0] = time.monotonic()

    probe = BusClient(url, hall="demo", kind="probe", device=device)
    probe.subscribe(topic_filter, keep)
    probe.start()
    wildcard = "+" in topic_filter or "#" in topic_filter
    try:
        assert probe.wait_connected(15)
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            if got and (not wildcard or time.monotonic() - last[0] > 0.3):
                break
            time.sleep(0.02)
    finally:
        probe.stop()
    return got


# --- an in-memory dispatcher with the interface server/publisher.py uses ------------------------------


@dataclass
class FakeRuntime:
    hall: str
    config: HallConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    active: bool = True
    committing: bool = False
    last_seq: int = 0
    current: dict[str, str | None] = field(default_factory=dict)
    recent: list[BoardCall] = field(default_factory=list)


class FakeStore:
    def __init__(self) -> None:
        self.events: list[EventRow] = []
        self.published_up_to = 0
        self.fail_next_fetch = False
        self._lock = threading.Lock()

    def fetch_unpublished(self, hall: str, limit: int = 500) -> list[EventRow]:
        with self._lock:
            if self.fail_next_fetch:
                self.fail_next_fetch = False
                raise OSError("database is locked")
            start = self.published_up_to  # seqs are 1..n, index = seq - 1
            return list(self.events[start : start + limit])

    def events_since(self, hall: str, after_seq: int, limit: int = 1000) -> list[EventRow]:
        with self._lock:
            return list(self.events[after_seq : after_seq + limit])

    def mark_published(self, hall: str, up_to_seq: int) -> None:
        with self._lock:
            self.published_up_to = max(self.published_up_to, up_to_seq)

    def mark_published_many(self, marks: dict[str, int]) -> None:
        for hall, up_to_seq in marks.items():
            self.mark_published(hall, up_to_seq)


class FakeDispatcher:
    def __init__(self, hall_config: HallConfig | None = None) -> None:
        config = hall_config or load_hall_config(example_config_path())
        self.hall = config.hall.id
        self.store = FakeStore()
        self.runtime_ = FakeRuntime(self.hall, config, current={w.id: None for w in config.windows})
        self.halls = {self.hall: self.runtime_}
        self.on_commit: list[Callable[[str, int], None]] = []
        self.on_events: list[Callable[[str, list[EventRow]], None]] = []  # nothing handed: the store is read
        self.on_seal: list[Callable[[str, int], None]] = []  # nothing sealed: the snapshot is taken at notify
        self.commands: list[tuple[str, str, dict[str, Any], str | None]] = []

    def runtime(self, hall: str) -> FakeRuntime:
        return self.halls[hall]

    def call(self, window: str, number: str) -> int:
        """Commit a ticket_called event (in the event loop thread, like the real dispatcher)."""
        rt = self.runtime_
        rt.last_seq += 1
        now = dt.datetime.now(dt.UTC)
        name = next(w.name for w in rt.config.windows if w.id == window)
        payload = {
            "at": now.isoformat(),
            "window": window,
            "type": "call",
            "number": number,
            "window_name": name,
            "service": number[0],
            "service_name": "社保业务",
            "priority": "normal",
            "announce": f"请{number}号到{name}办理",
        }
        self.store.events.append(EventRow(self.hall, rt.last_seq, "ticket_called", payload, now))
        rt.current[window] = number
        rt.recent.insert(0, BoardCall(ticket=number, window=window, window_name=name, service=number[0], at=now))
        del rt.recent[10:]
        for callback in self.on_commit:
            callback(self.hall, rt.last_seq)
        return rt.last_seq

    def hall_view(self, hall: str, seq: int | None = None) -> HallView:
        rt = self.runtime_
        seq = rt.last_seq if seq is None else seq
        windows = [
            BoardWindow(window=w.id, name=w.name, state="open", ticket=rt.current[w.id]) for w in rt.config.windows
        ]
        waiting = {s.code: BoardWaiting(name=s.name, count=0, est_wait_s=0) for s in rt.config.services}
        board = BoardSnapshot(
            seq=seq, at=dt.datetime.now(dt.UTC), recent_calls=list(rt.recent), windows=windows, waiting=waiting
        )
        lines = {}
        for w in rt.config.windows:
            number = rt.current[w.id]
            lines[w.id] = WindowLine("open", number, f"请{number}号" if number else w.name)
        return HallView(seq, board.model_dump(), lines)

    def authorize_device(self, hall: str, device: str, token: str | None, window: str) -> bool:
        return device == "keypad-1" and window == "3"

    async def run_window_command(
        self, hall: str, window: str, command: str, args: dict[str, Any], actor_device: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        self.commands.append((window, command, args, actor_device))
        if command == "call-next":
            number = f"A{len(self.commands):03d}"
            self.call(window, number)
            return {"ticket": {"number": number}}
        if command == "pause":
            raise ValueError("窗口已暂停 already paused")
        raise RuntimeError("boom")


def run_async(coro: Any, timeout: float = 100.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))
