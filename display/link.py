"""The one place the display package touches MQTT: a thin adapter over `hallq.bus.BusClient`.

Devices in display/ only need: connect with their credentials and a Last Will, subscribe to a few
topics (again on every reconnect), get each message and each connect/disconnect as a callback, and
publish their own retained status. BusClient does all of that; this adapter reduces it to two
callbacks, `on_message(topic, payload)` and `on_connection(connected)`, which arrive on paho's
network thread: the board hands them to Kivy with Clock.schedule_once, the window-screen bridge to
its own queue. Keeping the surface this small lets tests and the benchmark swap it out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from hallq.bus import BusClient, Message, direct_dispatch
from hallq.device import DeviceSettings

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
ConnectionHandler = Callable[[bool], None]


class DeviceLink:
    """Subscribe to `topics` for one device; report messages and connection changes to callbacks."""

    def __init__(
        self,
        settings: DeviceSettings,
        topics: Sequence[str],
        on_message: MessageHandler,
        on_connection: ConnectionHandler,
        detail: dict[str, object] | None = None,
    ) -> None:
        self._bus = BusClient.for_device(
            settings, dispatch=direct_dispatch, status_detail=dict(detail or {}), max_backoff=8.0
        )
        self._on_message = on_message
        for topic in topics:
            self._bus.subscribe(topic, self._message)
        self._bus.on_connection_change(on_connection)

    @property
    def connected(self) -> bool:
        return self._bus.connected

    @property
    def refused(self) -> str | None:
        """Why the broker refused this device's credentials for good (it stops retrying), or None."""
        return str(self._bus.error) if self._bus.error is not None else None

    def start(self) -> None:
        """Connect in the background; keeps trying until stop() (the broker may come up later)."""
        self._bus.start()

    def stop(self) -> None:
        self._bus.stop()

    def set_detail(self, **detail: object) -> None:
        self._bus.set_status_detail(dict(detail))

    def _message(self, message: Message) -> None:
        self._on_message(message.topic, message.payload)
