"""The hall board's presenter: plain Python, no Kivy, no paho, no clock of its own.

`BoardModel` holds the last known state of the hall (from the retained `board` snapshot, GET /board,
and `calls` as they come), knows the `seq` it is at, whether that state is live or stale, which call
is flashing, and which windows and services this board shows (its zone). `view(now)` turns all of
that into `BoardView`, the plain strings the screen draws. Every method takes `now` as an argument so
tests drive time by hand.

Rules (DESIGN.md section 5): never assume every message arrives. A `seq` gap, a (re)connect or the
start of the board makes the model ask for a resync; the resync is satisfied by a whole snapshot at
least as new as what the board has seen, from the retained topic or from GET /board. The verdicts
(new, gap, duplicate, old) come from `hallq.seqtrack.SeqTracker`, as for every other subscriber.
A malformed message changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hallq.contract import BoardCall, BoardSnapshot, BoardWindow, CallMessage, DispatcherStatus
from hallq.seqtrack import SeqTracker, Verdict

log = logging.getLogger(__name__)

STALE_BANNER = "系统连接中断，显示的是最后已知状态"
CONNECTING_TEXT = "正在连接叫号系统…"
RECENT_SHOWN = 10


@dataclass(frozen=True)
class ZoneFilter:
    """Which windows and services one board shows; None means all of them."""

    windows: frozenset[str] | None = None
    services: frozenset[str] | None = None
    label: str = ""

    def shows_window(self, window: str) -> bool:
        return self.windows is None or window in self.windows

    def shows_service(self, service: str) -> bool:
        return self.services is None or service in self.services

    @classmethod
    def for_zone(cls, zone: str, hall_windows: Iterable[Mapping[str, Any]]) -> ZoneFilter:
        """The windows of `zone` (from GET /halls/{hall}) and the services they serve."""
        windows: set[str] = set()
        services: set[str] = set()
        for window in hall_windows:
            if str(window.get("zone", "")) == zone:
                windows.add(str(window["id"]))
                services.update(str(code) for code in window.get("services") or [])
        if not windows:
            raise ValueError(f"no window of this hall is in zone {zone!r}")
        return cls(frozenset(windows), frozenset(services), zone)


@dataclass(frozen=True)
class CallRow:
    ticket: str
    window: str
    window_name: str


@dataclass(frozen=True)
class WindowRow:
    window: str
    name: str
    kind: str  # serving | idle | paused | closed
    status: str  # what the status cell says: 办理中 / 空闲 / 暂停服务 / 未开放
    ticket: str  # the ticket cell, "" when none


@dataclass(frozen=True)
class WaitingRow:
    service: str
    name: str
    count: int
    wait: str  # 15分钟 / 无需等候 (the column is headed 预计等候)


@dataclass(frozen=True)
class BoardView:
    """Everything the screen shows, as text; equal views mean equal screens (clock aside)."""

    hall_name: str
    zone_label: str
    current: CallRow | None
    flashing: bool
    recent: tuple[CallRow, ...]
    windows: tuple[WindowRow, ...]
    waiting: tuple[WaitingRow, ...]
    notice: str
    banner: str  # "" when the state is live
    has_state: bool
    seq: int

    def same_hall_state(self, other: BoardView) -> bool:
        """Same windows, calls, waiting and notice: what 'converged' means in the tests."""
        return (self.recent, self.windows, self.waiting, self.notice, self.current) == (
            other.recent,
            other.windows,
            other.waiting,
            other.notice,
            other.current,
        )


@dataclass
class _Flash:
    call: BoardCall
    started: dt.datetime


@dataclass
class _Resync:
    """Why and since when the board wants a whole snapshot."""

    since: dt.datetime
    at_least_seq: int
    reason: str


@dataclass
class BoardModel:
    hall_name: str
    zone: ZoneFilter = field(default_factory=ZoneFilter)
    flash_s: float = 8.0
    max_call_age_s: float = 60.0
    resync_grace_s: float = 3.0
    resync_retry_s: float = 5.0
    offline_poll_s: float = 10.0

    seq: int = -1
    malformed: int = 0
    problem: str = ""  # a lasting fault staff must fix (e.g. refused credentials): shown as the banner
    broker_connected: bool = False
    dispatcher_online: bool | None = None
    _snapshot: BoardSnapshot | None = None
    _recent: list[BoardCall] = field(default_factory=list)
    _windows: dict[str, BoardWindow] = field(default_factory=dict)
    _flash: _Flash | None = None
    _flashed: list[tuple[str, str, dt.datetime]] = field(default_factory=list)
    _resync: _Resync | None = None
    _tracker: SeqTracker = field(default_factory=lambda: SeqTracker("board"))
    _last_resync_attempt: dt.datetime | None = None

    # ---- input --------------------------------------------------------------------------------

    @property
    def has_state(self) -> bool:
        return self._snapshot is not None

    def apply_snapshot(self, snap: BoardSnapshot, now: dt.datetime, authoritative: bool = False) -> bool:
        """Take a whole snapshot unless it is older than what the board has; True when taken.

        `authoritative` (a GET /board answer sent while the board's seq did not move) is taken even
        when older: the dispatcher is the only writer, so a lower seq there means it was reset."""
        if self._tracker.snapshot(snap.seq, authoritative=authoritative) is Verdict.OLD:
            log.debug("board snapshot seq %d older than %d: ignored", snap.seq, self.seq)
            return False
        if self._resync is not None and (snap.seq >= self._resync.at_least_seq or authoritative):
            self._resync = None
        self.seq = snap.seq
        self._snapshot = snap
        self._recent = sorted(snap.recent_calls, key=lambda c: c.at, reverse=True)[:RECENT_SHOWN]
        self._windows = {w.window: w for w in snap.windows}
        newest = next((c for c in self._recent if self.zone.shows_window(c.window)), None)
        fresh = newest is not None and (now - newest.at).total_seconds() < self.flash_s
        if newest is not None and fresh and not self._was_flashed(newest):
            self._start_flash(newest, now)
        return True

    def apply_call(self, msg: CallMessage, now: dt.datetime) -> bool:
        """A `calls` message: flash it (once, if fresh) and update the windows; True when it changed anything."""
        call = BoardCall(
            ticket=msg.ticket, window=msg.window, window_name=msg.window_name, service=msg.service, at=msg.at
        )
        changed = False
        verdict = self._tracker.event(msg.seq)
        if verdict is Verdict.GAP:
            self.request_resync(now, f"seq gap {self.seq}→{msg.seq}", at_least_seq=msg.seq)
        if verdict.apply and msg.seq > self.seq:  # a late call filling a hole is older than what is shown
            self.seq = msg.seq
            self._recent = [c for c in self._recent if (c.ticket, c.window) != (msg.ticket, msg.window)]
            self._recent.insert(0, call)
            del self._recent[RECENT_SHOWN:]
            old = self._windows.get(msg.window)
            self._windows[msg.window] = BoardWindow(
                window=msg.window,
                name=old.name if old else msg.window_name,
                state="open",
                ticket=msg.ticket,
                reason=None,
            )
            changed = True
        age = (now - msg.at).total_seconds()
        newer = self._flash is None or call.at >= self._flash.call.at  # a late, older call never takes over
        if self.zone.shows_window(msg.window) and age < self.max_call_age_s and newer and not self._was_flashed(call):
            self._start_flash(call, now)
            changed = True
        return changed

    def apply_dispatcher_status(self, status: DispatcherStatus, now: dt.datetime) -> None:
        was = self.dispatcher_online
        self.dispatcher_online = status.online
        if status.online and was is False:
            self.request_resync(now, "dispatcher back")

    def apply_message(self, kind: str, payload: bytes | str, now: dt.datetime) -> bool:
        """Parse and apply one MQTT payload (`kind` board | calls | dispatcher); malformed → dropped."""
        try:
            if kind == "board":
                return self.apply_snapshot(BoardSnapshot.from_json(payload), now)
            if kind == "calls":
                return self.apply_call(CallMessage.from_json(payload), now)
            if kind == "dispatcher":
                self.apply_dispatcher_status(DispatcherStatus.from_json(payload), now)
                return True
        except (ValidationError, ValueError) as exc:
            self.malformed += 1
            log.warning("malformed %s message dropped: %s", kind, _first_line(exc))
            return False
        raise ValueError(f"unknown message kind {kind!r}")

    def set_broker_connected(self, connected: bool, now: dt.datetime) -> None:
        self.broker_connected = connected
        # on connect the retained snapshot should arrive; on disconnect we poll GET /board
        self.request_resync(now, "connected" if connected else "broker away")

    # ---- resync -------------------------------------------------------------------------------

    def request_resync(self, now: dt.datetime, reason: str, at_least_seq: int | None = None) -> None:
        target = max(self.seq, 0) if at_least_seq is None else at_least_seq
        if self._resync is None:
            self._resync = _Resync(since=now, at_least_seq=target, reason=reason)
        else:
            self._resync.at_least_seq = max(self._resync.at_least_seq, target)
        log.info("board resync wanted: %s", reason)

    @property
    def resync_pending(self) -> bool:
        return self._resync is not None

    def resync_due(self, now: dt.datetime) -> bool:
        """Time to GET /board: the retained snapshot did not come in time, or the broker is away."""
        last = self._last_resync_attempt
        if not self.broker_connected:
            return last is None or (now - last).total_seconds() >= self.offline_poll_s
        if self._resync is None:
            return False
        if (now - self._resync.since).total_seconds() < self.resync_grace_s:
            return False
        return last is None or (now - last).total_seconds() >= self.resync_retry_s

    def note_resync_attempt(self, now: dt.datetime) -> None:
        self._last_resync_attempt = now

    # ---- output -------------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        return self.has_state and self.broker_connected and self.dispatcher_online is not False

    def view(self, now: dt.datetime) -> BoardView:
        snap = self._snapshot
        recent = [c for c in self._recent if self.zone.shows_window(c.window)]
        flashing = self._flash is not None and (now - self._flash.started).total_seconds() < self.flash_s
        current_call = self._flash.call if flashing and self._flash else (recent[0] if recent else None)
        current = _call_row(current_call) if current_call else None
        history = tuple(_call_row(c) for c in recent if c != current_call)
        if self.problem:
            banner = self.problem
        elif self.live:
            banner = ""
        elif self.has_state:
            banner = STALE_BANNER
        else:
            banner = CONNECTING_TEXT
        return BoardView(
            hall_name=self.hall_name,
            zone_label=self.zone.label,
            current=current,
            flashing=flashing,
            recent=history[: RECENT_SHOWN - 1],
            windows=tuple(_window_row(w) for w in self._ordered_windows()),
            waiting=self._waiting_rows(),
            notice=snap.notice if snap else "",
            banner=banner,
            has_state=self.has_state,
            seq=self.seq,
        )

    # ---- helpers ------------------------------------------------------------------------------

    def _ordered_windows(self) -> list[BoardWindow]:
        order = {w.window: i for i, w in enumerate(self._snapshot.windows)} if self._snapshot else {}
        shown = [w for w in self._windows.values() if self.zone.shows_window(w.window)]
        return sorted(shown, key=lambda w: (order.get(w.window, len(order)), _natural(w.window)))

    def _waiting_rows(self) -> tuple[WaitingRow, ...]:
        if self._snapshot is None:
            return ()
        return tuple(
            WaitingRow(code, entry.name, entry.count, wait_text(entry.count, entry.est_wait_s))
            for code, entry in self._snapshot.waiting.items()
            if self.zone.shows_service(code)
        )

    def _start_flash(self, call: BoardCall, now: dt.datetime) -> None:
        self._flash = _Flash(call, now)
        self._flashed.append((call.ticket, call.window, call.at))
        del self._flashed[:-50]

    def _was_flashed(self, call: BoardCall) -> bool:
        return (call.ticket, call.window, call.at) in self._flashed


def wait_text(count: int, est_wait_s: int) -> str:
    if count == 0:
        return "无需等候"
    minutes = max(1, -(-est_wait_s // 60))
    return f"{minutes}分钟"


def _call_row(call: BoardCall) -> CallRow:
    return CallRow(call.ticket, call.window, call.window_name)


def _window_row(window: BoardWindow) -> WindowRow:
    if window.state == "paused":
        return WindowRow(window.window, window.name, "paused", "暂停服务", window.ticket or "")
    if window.state == "closed":
        return WindowRow(window.window, window.name, "closed", "未开放", "")
    if window.ticket:
        return WindowRow(window.window, window.name, "serving", "办理中", window.ticket)
    return WindowRow(window.window, window.name, "idle", "空闲", "")


def _natural(window: str) -> tuple[int, str]:
    return (int(window), "") if window.isdigit() else (1 << 30, window)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
