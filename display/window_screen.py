"""The window-screen bridge: retained `windows/{window}` (and `calls`) in, LED strips out.

Each window has an LED strip (窗口屏) reached through the hardware/ driver (`LedScreen.show(text,
blink)`, Modbus RTU over RS-485 or a simulator). The strip shows:
- the ticket being served (the dispatcher's `text`, e.g. 请A012号), blinking for a few seconds when
  it is called or recalled;
- 暂停服务 when the window is paused;
- the window's name when it is idle or closed.

`WindowScreens` is the pure part (what each strip should show at `now`); `LedWriter` sends frames to
the strips and re-sends after a strip or its line comes back (and every `refresh_s`, so a strip that
lost power shows the right text again); `WindowScreenBridge` wires them to MQTT on one worker
thread, so a slow RS-485 line never blocks the network thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hallq.contract import CallMessage, Topics, WindowStateMessage
from hallq.device import DeviceSettings

log = logging.getLogger(__name__)

PAUSED_TEXT = "暂停服务"


@dataclass(frozen=True)
class LedFrame:
    text: str
    blink: bool = False


@dataclass
class _Window:
    name: str
    state: WindowStateMessage | None = None
    blink_until: dt.datetime | None = None


@dataclass
class WindowScreens:
    """What each window's strip should show; fed with parsed messages, asked with `frame(window, now)`."""

    names: dict[str, str]
    blink_s: float = 10.0
    max_call_age_s: float = 60.0
    malformed: int = 0
    _windows: dict[str, _Window] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._windows = {w: _Window(name) for w, name in self.names.items()}

    @property
    def windows(self) -> list[str]:
        return list(self._windows)

    def apply_state(self, window: str, msg: WindowStateMessage) -> bool:
        """A retained `windows/{window}` message; older than what we have → ignored."""
        entry = self._windows.get(window)
        if entry is None:
            return False
        if entry.state is not None and msg.seq < entry.state.seq:
            return False
        if entry.state is not None and msg.ticket != entry.state.ticket:
            entry.blink_until = None  # a new ticket (or none): any blink was for the old one
        entry.state = msg
        return True

    def apply_call(self, msg: CallMessage, now: dt.datetime) -> bool:
        """A `calls` message for one of our windows starts the blink (a call or a recall)."""
        entry = self._windows.get(msg.window)
        if entry is None or (now - msg.at).total_seconds() > self.max_call_age_s:
            return False
        entry.blink_until = now + dt.timedelta(seconds=self.blink_s)
        if entry.state is None or entry.state.seq < msg.seq:
            # the call may arrive before the retained window state: show the ticket already
            entry.state = WindowStateMessage(seq=msg.seq, state="open", ticket=msg.ticket, text="")
        return True

    def apply_message(self, topic_window: str | None, kind: str, payload: bytes, now: dt.datetime) -> bool:
        try:
            if kind == "window" and topic_window is not None:
                return self.apply_state(topic_window, WindowStateMessage.from_json(payload))
            if kind == "calls":
                return self.apply_call(CallMessage.from_json(payload), now)
        except (ValidationError, ValueError) as exc:
            self.malformed += 1
            log.warning("malformed %s message dropped: %s", kind, str(exc).splitlines()[0])
        return False

    def frame(self, window: str, now: dt.datetime) -> LedFrame:
        entry = self._windows[window]
        msg = entry.state
        if msg is None:
            return LedFrame(entry.name)
        if msg.state == "paused":
            return LedFrame(PAUSED_TEXT)
        if msg.state == "open" and msg.ticket:
            text = msg.text.strip() or f"请{msg.ticket}号"
            blinking = entry.blink_until is not None and now < entry.blink_until
            return LedFrame(text, blinking)
        return LedFrame(msg.text.strip() if msg.state == "open" and msg.text.strip() else entry.name)

    def next_change(self, now: dt.datetime) -> dt.datetime | None:
        """When a blink ends (the strip must be re-sent steady then)."""
        ends = [e.blink_until for e in self._windows.values() if e.blink_until is not None and e.blink_until > now]
        return min(ends) if ends else None


class LedWriter:
    """Sends frames to the strips; remembers what each shows; retries a strip that failed."""

    def __init__(self, screens: dict[str, Any], retry_s: float = 2.0, refresh_s: float = 60.0) -> None:
        self.screens = screens  # window → LedScreen
        self.retry_s = retry_s
        self.refresh_s = refresh_s
        self.shown: dict[str, LedFrame] = {}
        self.errors: dict[str, str] = {}
        self._sent_at: dict[str, dt.datetime] = {}
        self._failed_at: dict[str, dt.datetime] = {}

    def sync(self, wanted: dict[str, LedFrame], now: dt.datetime) -> bool:
        """Send what changed, what failed before (after retry_s) and what is due a refresh; True if the
        set of failing strips changed."""
        before = dict(self.errors)
        for window, frame in wanted.items():
            if not self._due(window, frame, now):
                continue
            try:
                self.screens[window].show(frame.text, frame.blink)
            except Exception as exc:  # DeviceUnavailable, ModbusError, …: the strip or its line is away
                if window not in self.errors:
                    log.warning("LED of window %s unreachable (%s); will re-send", window, exc)
                self.errors[window] = str(exc) or type(exc).__name__
                self._failed_at[window] = now
                self.shown.pop(window, None)
                continue
            if window in self.errors:
                log.info("LED of window %s is back", window)
            self.errors.pop(window, None)
            self.shown[window] = frame
            self._sent_at[window] = now
        return before.keys() != self.errors.keys()

    def _due(self, window: str, frame: LedFrame, now: dt.datetime) -> bool:
        if window in self.errors:
            return (now - self._failed_at[window]).total_seconds() >= self.retry_s
        if self.shown.get(window) != frame:
            return True
        return (now - self._sent_at[window]).total_seconds() >= self.refresh_s


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WindowScreenBridge:
    """MQTT → WindowScreens → LedWriter, on one worker thread."""

    def __init__(
        self,
        settings: DeviceSettings,
        screens: dict[str, Any],
        names: dict[str, str] | None = None,
        link_factory: Callable[..., Any] | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        blink_s: float = 10.0,
        retry_s: float = 2.0,
    ) -> None:
        self.topics = Topics(settings.hall)
        windows = list(screens)
        self.model = WindowScreens({w: (names or {}).get(w) or f"{w}号窗口" for w in windows}, blink_s=blink_s)
        self.writer = LedWriter(screens, retry_s=retry_s)
        self._clock = clock
        self._inbox: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, daemon=True, name="window-screens")
        topic_list = [self.topics.window(w) for w in windows] + [self.topics.calls]
        if link_factory is None:
            from display.link import DeviceLink

            link_factory = DeviceLink
        self.link = link_factory(settings, topic_list, self._from_network, lambda connected: None, {"windows": windows})

    def start(self) -> None:
        self._thread.start()
        self.link.start()

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(None)
        self.link.stop()
        self._thread.join(5)

    def wait(self) -> None:
        while self._thread.is_alive():
            self._thread.join(0.5)

    def _from_network(self, topic: str, payload: bytes) -> None:
        self._inbox.put((topic, payload))

    def _work(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            self._sync(now)
            try:
                item = self._inbox.get(timeout=self._wait_s(now))
            except queue.Empty:
                continue
            if item is None:
                break
            self._apply(*item)
            while True:  # take whatever else is waiting before touching the slow RS-485 line
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    return
                self._apply(*more)

    def _apply(self, topic: str, payload: bytes) -> None:
        now = self._clock()
        if topic == self.topics.calls:
            self.model.apply_message(None, "calls", payload, now)
        else:
            self.model.apply_message(self.topics.window_of(topic), "window", payload, now)

    def _sync(self, now: dt.datetime) -> None:
        wanted = {w: self.model.frame(w, now) for w in self.model.windows}
        if self.writer.sync(wanted, now):
            self.link.set_detail(windows=self.model.windows, led_errors=dict(self.writer.errors))

    def _wait_s(self, now: dt.datetime) -> float:
        wait = 1.0 if self.writer.errors else 5.0
        change = self.model.next_change(now)
        if change is not None:
            wait = min(wait, max(0.05, (change - now).total_seconds() + 0.01))
        return wait


def hall_window_names(settings: DeviceSettings, windows: Iterable[str]) -> dict[str, str]:
    """Window names from GET /api/v1/halls/{hall}; empty when the dispatcher cannot be asked now."""
    from urllib.parse import quote

    from hallq.api_models import HallInfo
    from hallq.client import DispatcherError, DispatcherHttp

    http = DispatcherHttp(settings.server, settings.auth_headers(), attempts=1)
    try:
        hall = http.call("GET", f"/halls/{quote(settings.hall, safe='')}", HallInfo)
    except DispatcherError as exc:
        log.warning("window names not available (%s): showing e.g. 3号窗口", exc)
        return {}
    finally:
        http.close()
    known = {w.id: w.name for w in hall.windows}
    return {w: known[w] for w in windows if known.get(w)}


def run_bridge(settings: DeviceSettings, urls: dict[str, str]) -> int:
    from hardware.led import open_led
    from hardware.urls import DeviceUrlError

    try:
        screens = {window: open_led(url) for window, url in urls.items()}
    except DeviceUrlError as exc:
        print(f"hallq window-screen: {exc}", file=sys.stderr)
        return 2
    bridge = WindowScreenBridge(settings, screens, names=hall_window_names(settings, urls))
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    bridge.start()
    log.info("window screens for windows %s", ", ".join(urls))
    try:
        bridge.wait()
    except KeyboardInterrupt:
        bridge.stop()
    return 0
