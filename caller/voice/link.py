"""The voice caller's MQTT link: the hall's `calls` in, this device's status out, through `hallq.bus`.

`hallq.bus.BusClient` owns paho: the Last Will (`devices/{device}/status`, online=false, retained)
is set before connecting, every (re)connect resubscribes and publishes "online", handlers are
isolated so one bad message cannot kill the client, and reconnects back off by themselves.
This adapter only maps it onto what the voice caller needs: `on_call(payload)` and a status
`detail` (engine, voice, audio, queue, last announced) republished whenever it changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from hallq.bus import BusClient, Message, direct_dispatch
from hallq.contract import Topics

log = logging.getLogger(__name__)

KIND = "voice"
MIN_STATUS_INTERVAL_S = 0.5  # a burst of calls republishes the status at most twice a second


class CallsLink:
    def __init__(self, settings: Any, on_call: Callable[[bytes], object], detail: Callable[[], dict[str, Any]]) -> None:
        self.topics = Topics(settings.hall)
        self.on_call = on_call
        self.detail = detail
        # direct dispatch: the handler only parses, decides and queues; the announcer has its own thread.
        self.bus = BusClient.for_device(settings, dispatch=direct_dispatch, status_detail=detail())
        self.bus.subscribe(self.topics.calls, self._on_message, qos=1)
        self._last_status = 0.0
        self._status_pending = threading.Event()
        self._lock = threading.Lock()

    @property
    def status_topic(self) -> str:
        return self.bus.status_topic

    @property
    def error(self) -> str | None:
        return str(self.bus.error) if self.bus.error else None

    def start(self) -> None:
        self.bus.start()

    def stop(self) -> None:
        """Publishes online=false on purpose (the Will is only for dying), then disconnects."""
        self.bus.stop()

    def publish_status(self, force: bool = False) -> None:
        """Republish the status detail; within MIN_STATUS_INTERVAL_S of the last one it is left for
        `flush_status` (called by the service's periodic loop) so a burst does not flood the broker."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_status < MIN_STATUS_INTERVAL_S:
                self._status_pending.set()
                return
            self._last_status = now
            self._status_pending.clear()
        self.bus.set_status_detail(self.detail())

    def flush_status(self) -> None:
        if self._status_pending.is_set():
            self.publish_status(force=True)

    def _on_message(self, message: Message) -> None:
        self.on_call(message.payload)
