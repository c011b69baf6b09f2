"""`hallq keypad-bridge`: hardware caller keypads (呼叫器) on RS-485 → the dispatcher over MQTT.

Each keypad belongs to one window. A key press becomes a `WindowCommand` on
`windows/{window}/commands` (MQTT 5 response topic `windows/{window}/replies`, which is also where a
3.1.1 dispatcher answers); the bridge waits for the `CommandReply` with the same `request_id` and
shows it on the keypad's display line, or "网络故障" when none comes in time. It follows the
window's retained `windows/{window}` topic, so the display shows the current ticket after any
restart. The keypads are polled by `hardware.keypad` listeners that survive unplugging; the display
is written again whenever it could not be, so a keypad that comes back shows the right line.

Commands are never retried: a late reply after a timeout is only logged, and while the broker is
away a press is refused at once ("网络故障") rather than queued and replayed minutes later.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import yaml

from hallq.contract import CommandReply, Topics, WindowCommand, WindowStateMessage
from hallq.device import DeviceSettings

log = logging.getLogger(__name__)

NETWORK_FAULT = "网络故障"
PAUSE_REASONS = {1: "午休", 2: "临时离开", 3: "系统故障"}
DISPLAY_BYTES = 64  # the keypad's display line: 64 bytes of GB18030 (32 Chinese characters)
REDISPLAY_EVERY_S = 0.5
REPLY_SHOWN_S = 4.0  # then the display goes back to the window's state
STATE_WORDS = {"paused": "暂停服务", "closed": "未开窗"}


class BridgeConfigError(ValueError):
    """Keypads and windows that do not pair up, or a keypads file that cannot be used."""


@dataclass(frozen=True)
class KeypadBinding:
    url: str
    window: str


def bridge_plan(keypads: list[str], windows: list[str], config_file: str | None) -> list[KeypadBinding]:
    """`--keypad URL --window N` pairs, in order, plus the keypads file's bus addresses."""
    plan: list[KeypadBinding] = []
    if len(keypads) != len(windows) and not (config_file and not keypads and not windows):
        raise BridgeConfigError(
            f"{len(keypads)} --keypad and {len(windows)} --window: give one --window after each --keypad"
        )
    plan += [KeypadBinding(url, str(window)) for url, window in zip(keypads, windows, strict=True)]
    if config_file:
        plan += _plan_from_file(Path(config_file))
    if not plan:
        raise BridgeConfigError("no keypads: use --keypad URL --window N, or --keypads FILE")
    seen: dict[str, str] = {}
    for binding in plan:
        if binding.window in seen:
            first = seen[binding.window]
            raise BridgeConfigError(f"window {binding.window} has two keypads: {first} and {binding.url}")
        seen[binding.window] = binding.url
    return plan


def _plan_from_file(path: Path) -> list[KeypadBinding]:
    """{bus: serial:///dev/ttyUSB0?baudrate=9600, keypads: [{address: 1, window: "3"}, …]}"""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BridgeConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keypads"), list):
        raise BridgeConfigError(f"{path}: expected `bus: URL` and `keypads: [{{address: 1, window: '3'}}, …]`")
    bus = data.get("bus")
    plan, problems = [], []
    for index, entry in enumerate(data["keypads"]):
        if not isinstance(entry, dict) or "window" not in entry or ("address" not in entry and "url" not in entry):
            problems.append(f"keypads[{index}]: needs window and address (or url)")
            continue
        if "url" in entry:
            plan.append(KeypadBinding(str(entry["url"]), str(entry["window"])))
        elif not bus:
            problems.append(f"keypads[{index}]: an address needs `bus: URL` at the top")
        else:
            address = entry["address"]
            if not isinstance(address, int) or not 1 <= address <= 247:
                problems.append(f"keypads[{index}]: address {address!r} must be a Modbus unit 1..247")
                continue
            plan.append(KeypadBinding(with_unit(str(bus), address), str(entry["window"])))
    if problems:
        raise BridgeConfigError(f"{path}: " + "; ".join(problems))
    return plan


def with_unit(url: str, unit: int) -> str:
    """The bus URL with `unit=N` set in its query (serial:///dev/ttyUSB0 keeps its three slashes)."""
    base, _, query = url.partition("?")
    params = [kv for kv in query.split("&") if kv and not kv.startswith("unit=")]
    params.append(urlencode({"unit": unit}))
    return f"{base}?{'&'.join(params)}"


# --- what a keypad's display says ---------------------------------------------------------------------
def state_line(state: WindowStateMessage | None) -> str:
    if state is None:
        return "等待调度服务器"
    if state.state in STATE_WORDS:
        return STATE_WORDS[state.state]
    return f"当前 {state.ticket}" if state.ticket else "空闲 按叫号键"


def reply_line(command: str, reply: CommandReply) -> str:
    if reply.status == "error":
        return fit(f"错误:{reply.error or '操作失败'}")
    data = reply.data or {}
    if command == "call-next":
        ticket = data.get("ticket")
        if not ticket:
            return "无人等候"
        name = ticket.get("service_name") or ticket.get("service") or ""
        return fit(f"请{ticket.get('number')}号 {name}".strip())
    done = {"recall": "已重呼", "no-show": "已过号", "finish": "已办结", "pause": "已暂停",
            "resume": "已恢复服务", "transfer": "已转移"}  # fmt: skip
    return done.get(command, "完成")


def fit(text: str) -> str:
    """Cut to what the display holds, ending in … when cut."""
    if len(text.encode("gb18030")) <= DISPLAY_BYTES:
        return text
    while len((text + "…").encode("gb18030")) > DISPLAY_BYTES:
        text = text[:-1]
    return text + "…"


def command_for(key: str, arg: int) -> tuple[str, dict[str, Any]] | str:
    """The WindowCommand (name, args) for a key event, or a line to show when it cannot be sent."""
    if key == "transfer":
        if not arg:
            return "先输入目标窗口号再按转移"
        return key, {"window": str(arg)}
    if key == "pause":
        return key, {"reason": PAUSE_REASONS.get(arg, "临时离开")}
    return key, {}


# --- the bridge ---------------------------------------------------------------------------------------
@dataclass
class _Waiter:
    command: str
    event: threading.Event = field(default_factory=threading.Event)
    reply: CommandReply | None = None


class KeypadStation:
    """One keypad and its window. The display shows a reply for a few seconds, else the window's
    state (网络故障 while the broker is away); a line the keypad did not take is written again."""

    def __init__(self, binding: KeypadBinding, keypad: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.binding = binding
        self.keypad = keypad
        self.clock = clock
        self.state: WindowStateMessage | None = None
        self.offline = False
        self.reply = ""
        self.reply_until = 0.0
        self.shown: str | None = None
        self.lock = threading.RLock()
        self.listener: Any = None

    def line(self) -> str:
        if self.reply and self.clock() < self.reply_until:
            return self.reply
        return NETWORK_FAULT if self.offline else state_line(self.state)

    def show_reply(self, text: str) -> None:
        with self.lock:
            self.reply, self.reply_until = text, self.clock() + REPLY_SHOWN_S
        self.flush()

    def set_state(self, state: WindowStateMessage) -> None:
        with self.lock:
            before = self.state
            if before is None or (before.state, before.ticket) != (state.state, state.ticket):
                self.reply = ""  # a changed window says more than the last reply
            self.state = state
        self.flush()

    def set_offline(self, offline: bool) -> None:
        with self.lock:
            self.offline = offline
        self.flush()

    def flush(self) -> bool:
        """Write the line due now if the keypad does not show it yet; False while it is unreachable."""
        with self.lock:
            text = self.line()
            if text == self.shown:
                return True
            try:
                self.keypad.show(text)
            except Exception as exc:  # ModbusError, OSError: the keypad is away; try again later
                log.debug("keypad for window %s: display not written (%s)", self.binding.window, exc)
                self.shown = None
                return False
            self.shown = text
            return True


class KeypadBridge:
    def __init__(
        self,
        settings: DeviceSettings,
        plan: list[KeypadBinding],
        open_keypad: Callable[[str], Any],
        bus: Any,
        reply_timeout_s: float = 5.0,
        command_token: str | None = None,
    ) -> None:
        self.settings = settings
        self.command_token = command_token
        self.topics = Topics(settings.hall)
        self.bus = bus
        self.reply_timeout_s = reply_timeout_s
        self.stations = {b.window: KeypadStation(b, open_keypad(b.url)) for b in plan}
        self._waiters: dict[str, _Waiter] = {}
        self._waiters_lock = threading.Lock()
        self._stop = threading.Event()
        self._refresher = threading.Thread(target=self._keep_displays, daemon=True, name="keypad-displays")

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        for window in self.stations:
            self.bus.subscribe_model(self.topics.window(window), WindowStateMessage, self._window_state)
            self.bus.subscribe_model(self.topics.window_replies(window), CommandReply, self._reply)
        self.bus.on_connection_change(self._connection)
        self.bus.start()
        for window, station in self.stations.items():
            station.listener = station.keypad.listen(lambda event, w=window: self.on_key(w, event))
            station.flush()
        self._refresher.start()

    def stop(self) -> None:
        self._stop.set()
        for station in self.stations.values():
            if station.listener is not None:
                station.listener.stop()
        self.bus.stop()

    def wait(self) -> None:
        self._stop.wait()

    # --- keys (keypad listener threads) -------------------------------------------------------------
    def on_key(self, window: str, event: Any) -> None:
        station = self.stations[window]
        what = command_for(event.key, event.arg)
        if isinstance(what, str):
            station.show_reply(what)
            return
        command, args = what
        if not self.bus.connected:
            log.warning("window %s: %s pressed while the broker is unreachable", window, command)
            station.show_reply(NETWORK_FAULT)
            return
        request_id = uuid.uuid4().hex
        waiter = _Waiter(command)
        with self._waiters_lock:
            self._waiters[request_id] = waiter
        message = WindowCommand(
            command=command, request_id=request_id, args=args, device=self.settings.device, token=self.command_token
        )
        replies = self.topics.window_replies(window)
        station.show_reply("处理中…")
        self.bus.publish(
            self.topics.window_commands(window), message, qos=1,
            response_topic=replies, correlation_data=request_id.encode(),
        )  # fmt: skip
        answered = waiter.event.wait(self.reply_timeout_s)
        with self._waiters_lock:
            self._waiters.pop(request_id, None)
        if not answered or waiter.reply is None:
            timeout = self.reply_timeout_s
            log.warning("window %s: no reply to %s (%s) within %.0fs", window, command, request_id, timeout)
            station.show_reply(NETWORK_FAULT)
            return
        station.show_reply(reply_line(command, waiter.reply))

    # --- MQTT (paho's thread) -------------------------------------------------------------------------
    def _reply(self, reply: CommandReply, _message: Any) -> None:
        with self._waiters_lock:
            waiter = self._waiters.get(reply.request_id)
        if waiter is None:
            return  # another bridge's, or a late reply after our timeout
        waiter.reply = reply
        waiter.event.set()

    def _window_state(self, state: WindowStateMessage, message: Any) -> None:
        window = self.topics.window_of(message.topic)
        station = self.stations.get(window or "")
        if station is None:
            return
        if station.state is not None and state.seq < station.state.seq and state.seq != 0:
            return  # older than what we show
        station.set_state(state)

    def _connection(self, online: bool) -> None:
        for station in self.stations.values():
            station.set_offline(not online)

    # --- displays ---------------------------------------------------------------------------------
    def _keep_displays(self) -> None:
        ticks = 0
        while not self._stop.wait(REDISPLAY_EVERY_S):
            for station in self.stations.values():
                station.flush()  # replies that timed out, keypads that came back
            ticks += 1
            if ticks % 10 == 0:
                self._publish_health()

    def _publish_health(self) -> None:
        detail = {
            "keypads": {
                w: bool(s.listener is not None and s.listener.online and s.shown is not None)
                for w, s in self.stations.items()
            }
        }
        if getattr(self, "_last_health", None) != detail:
            self._last_health = detail
            if self.bus.connected:
                self.bus.set_status_detail(detail)


def token_in_commands(settings: DeviceSettings, choice: str = "auto") -> str | None:
    """The device token to put in each command, or None.

    The embedded broker (`hallq server` without --mqtt) authenticates nobody, so the dispatcher
    wants the token inside the command; it listens on 127.0.0.1 only. A broker elsewhere is
    Mosquitto with passwords and ACL, and a token in a payload other devices may read is a leak.
    So "auto" sends it only to a broker on this machine; "yes"/"no" decide outright."""
    if choice not in ("auto", "yes", "no"):
        raise ValueError(f"--command-token {choice!r}: use auto, yes or no")
    if choice == "no" or not settings.token:
        return None
    if choice == "yes":
        return settings.token
    host = (urlsplit(settings.mqtt).hostname or "").lower()
    return settings.token if host in ("127.0.0.1", "localhost", "::1") else None


def run_bridge(
    settings: DeviceSettings, plan: list[KeypadBinding], reply_timeout_s: float = 5.0, command_token: str = "auto"
) -> int:
    from hallq.bus import BusClient
    from hardware.keypad import open_keypad
    from hardware.urls import DeviceUrlError

    try:
        token = token_in_commands(settings, command_token)
        bus = BusClient.for_device(
            settings,
            client_id=f"{settings.device}-keypad-bridge-{os.getpid()}",
            status_detail={"windows": [b.window for b in plan]},
        )
        bridge = KeypadBridge(settings, plan, open_keypad, bus, reply_timeout_s, token)
    except (DeviceUrlError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bridge.start()
    log.info("keypad bridge: %s", ", ".join(f"window {b.window} ← {b.url}" for b in plan))
    stop.wait()
    bridge.stop()
    return 0
