"""Keeps a BoardModel right: MQTT in, GET /board when a resync is due, hall info for the name and zone.

The feed never touches the model from a network thread: every change goes through `post(fn)`,
which the Kivy board implements with Clock.schedule_once and headless boards (bench, tests) with
their own queue. `tick()` runs on that same thread every half second or so.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from display.board.model import BoardModel, ZoneFilter
from display.link import DeviceLink
from hallq.api_models import HallInfo
from hallq.client import DispatcherError, DispatcherHttp
from hallq.contract import BoardSnapshot, Topics
from hallq.device import DeviceSettings

log = logging.getLogger(__name__)

INFO_RETRY_S = 5.0
REFUSED_TEXT = "叫号系统拒绝了本屏的登录凭据，请联系管理员（--device / --token）"
Post = Callable[[Callable[[], None]], None]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class BoardFeed:
    def __init__(
        self,
        settings: DeviceSettings,
        model: BoardModel,
        post: Post,
        on_change: Callable[[], None],
        zone: str | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        link_factory: Callable[..., Any] = DeviceLink,
    ) -> None:
        self.settings = settings
        self.model = model
        self._post = post
        self._on_change = on_change
        self._zone = zone
        self._clock = clock
        topics = Topics(settings.hall)
        self._kinds = {topics.board: "board", topics.calls: "calls", topics.dispatcher_status: "dispatcher"}
        self._hall_path = f"/halls/{quote(settings.hall, safe='')}"
        # one try per tick: the next tick (or resync) is the retry
        self._http = DispatcherHttp(settings.server, settings.auth_headers(), attempts=1)
        self._fetching = threading.Lock()
        self._hall_info_loaded = False
        self.hall_timezone: str | None = None
        self._last_info_attempt: dt.datetime | None = None
        self.last_received_at = 0.0  # wall time of the last MQTT message (benchmarks)
        self._stopped = threading.Event()
        self.link = link_factory(settings, list(self._kinds), self._from_network, self._connection_from_network)

    def start(self) -> None:
        self.link.start()
        self.tick()

    def stop(self) -> None:
        """Stop following at once; a fetch under way ends quietly on the closed client (_fetch)."""
        self._stopped.set()
        self.link.stop()
        self._http.close()

    def tick(self) -> None:
        """Periodic, on the UI thread: fetch hall info until known, GET /board when a resync is due."""
        now = self._clock()
        refused = getattr(self.link, "refused", None)
        if refused and not self.model.problem:
            self.model.problem = REFUSED_TEXT
            self._on_change()
        need_info = not self._hall_info_loaded and (
            self._last_info_attempt is None or (now - self._last_info_attempt).total_seconds() >= INFO_RETRY_S
        )
        need_board = self.model.resync_due(now)
        if self._stopped.is_set():
            return
        if (need_info or need_board) and self._fetching.acquire(blocking=False):
            if need_board:
                self.model.note_resync_attempt(now)
            if need_info:
                self._last_info_attempt = now
            seq_at_request = self.model.seq
            threading.Thread(
                target=self._fetch, args=(need_info, need_board, seq_at_request), daemon=True, name="board-http"
            ).start()

    # ---- network threads -> UI thread -----------------------------------------------------------

    def _from_network(self, topic: str, payload: bytes) -> None:
        kind = self._kinds.get(topic)
        if kind is None:
            return
        self.last_received_at = time.time()
        self._post(lambda: self._apply(kind, payload))

    def _connection_from_network(self, connected: bool) -> None:
        self._post(lambda: self._connection(connected))

    def _apply(self, kind: str, payload: bytes) -> None:
        if self.model.apply_message(kind, payload, self._clock()):
            self._on_change()

    def _connection(self, connected: bool) -> None:
        self.model.set_broker_connected(connected, self._clock())
        self._on_change()

    # ---- HTTP (its own thread) ------------------------------------------------------------------

    def _fetch(self, need_info: bool, need_board: bool, seq_at_request: int) -> None:
        try:
            if need_info:
                self._fetch_hall_info()
            if need_board and not self._stopped.is_set():
                snap = self._get_board()
                if snap is not None:
                    self._post(lambda: self._apply_http_snapshot(snap, seq_at_request))
        except Exception:
            if not self._stopped.is_set():
                raise
            # stop() closed the client under this fetch (the board is shutting down): nothing to show
            log.debug("a fetch ended by the board stopping", exc_info=True)
        finally:
            self._fetching.release()

    def _fetch_hall_info(self) -> None:
        try:
            info = self._http.call("GET", self._hall_path, HallInfo)
        except DispatcherError as exc:
            log.warning("hall info not available yet (%s): will retry", exc)
            return
        zone = None
        if self._zone:
            try:
                zone = ZoneFilter.for_zone(self._zone, [w.model_dump() for w in info.windows])
            except ValueError as exc:
                log.error("%s", exc)
                zone = ZoneFilter(frozenset(), frozenset(), self._zone)
        name = info.name or self.model.hall_name
        self._post(lambda: self._apply_hall_info(name, info.timezone or None, zone))

    def _apply_hall_info(self, name: str, timezone: str | None, zone: ZoneFilter | None) -> None:
        self._hall_info_loaded = True
        self.model.hall_name = name
        self.hall_timezone = timezone
        if zone is not None:
            self.model.zone = zone
        self._on_change()

    def _get_board(self) -> BoardSnapshot | None:
        try:
            return self._http.call("GET", f"{self._hall_path}/board", BoardSnapshot)
        except DispatcherError as exc:
            log.warning("GET /board failed (%s): will retry", exc)
            return None

    def _apply_http_snapshot(self, snap: BoardSnapshot, seq_at_request: int) -> None:
        authoritative = self.model.seq == seq_at_request
        if self.model.apply_snapshot(snap, self._clock(), authoritative=authoritative):
            self._on_change()
