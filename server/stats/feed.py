"""The hall right now, pushed: each subscriber (one Server-Sent Events stream of /office/live) is woken
by the dispatcher's commits of its hall (`dispatcher.on_commit`, called in the event loop) and gets a
fresh `live_answer`. A burst of commits is coalesced: at most one answer per `MIN_INTERVAL_S`; with no
commit an answer is still sent every `REFRESH_S`, because waits and pauses grow (and raise alerts)
while nothing happens."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from hallq.stats_models import LiveAnswer
from server.runtime import Dispatcher
from server.stats.live import live_stats

MIN_INTERVAL_S = 0.25  # at most four answers a second per stream, however busy the hall
REFRESH_S = 15.0


class LiveFeed:
    """Per hall, the wake-up events of its subscribers; `on_commit` sets them all."""

    def __init__(self, min_interval_s: float = MIN_INTERVAL_S, refresh_s: float = REFRESH_S) -> None:
        self.min_interval_s = min_interval_s
        self.refresh_s = refresh_s
        self._subscribers: dict[str, set[asyncio.Event]] = {}

    def on_commit(self, hall: str, _seq: int) -> None:
        for wake in self._subscribers.get(hall, ()):
            wake.set()

    def subscribers(self, hall: str) -> int:
        return len(self._subscribers.get(hall, ()))

    async def answers(
        self, dispatcher: Dispatcher, hall: str, still_allowed: Callable[[], Awaitable[bool]] | None = None
    ) -> AsyncIterator[LiveAnswer]:
        """The hall's live answer now, then after each (coalesced) change or refresh; ends when
        `still_allowed` (asked once every `refresh_s`) says the viewer's login has ended."""
        wake = asyncio.Event()
        self._subscribers.setdefault(hall, set()).add(wake)
        checked = time.monotonic()
        try:
            while True:
                wake.clear()  # a commit from here on is in this answer or wakes the next one
                sent = time.monotonic()
                yield await live_stats(dispatcher, hall)
                await _wait(wake, self.refresh_s)
                if still_allowed is not None and time.monotonic() - checked >= self.refresh_s:
                    if not await still_allowed():
                        return
                    checked = time.monotonic()
                await asyncio.sleep(max(0.0, sent + self.min_interval_s - time.monotonic()))
        finally:
            self._subscribers[hall].discard(wake)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
