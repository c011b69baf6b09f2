"""The hub's folding worker: the halls' shipped events into the statistics roll-ups, with the halls'
own code (server/stats/rollups.py `fold_all`), each hall in the time zone it was registered with.

One thread, woken by every stored batch (`wake(hall)`), off the request path like a dispatcher's
StatsFolder: the ingestion answers as soon as the events are stored, the numbers follow within a
second or so. A failed round (the database away) is retried after RETRY_S; the thread also looks at
every hall every IDLE_WAKE_S (events stored while the hub was down are folded at start)."""

from __future__ import annotations

import logging

from server.network.registry import HallRegistry
from server.stats.rollups import fold_all
from server.store import Store
from server.woken_thread import WokenThread

log = logging.getLogger(__name__)
IDLE_WAKE_S = 30.0
RETRY_S = 5.0
GATHER_S = 0.5  # after a wake, let a burst of batches arrive so they fold as one


class FoldingFailed(Exception):
    def __init__(self, halls: set[str]) -> None:
        self.halls = halls
        super().__init__(f"folding failed for {', '.join(sorted(halls))}")


class HubFolder(WokenThread):
    def __init__(self, store: Store, registry: HallRegistry, gather_s: float = GATHER_S) -> None:
        super().__init__("hallq-hub-folder", stop_wait_s=30)
        self.store = store
        self.registry = registry
        self.gather_s = gather_s
        self._pending: set[str] = set()
        self._everything = True  # at start: whatever arrived while the hub was down

    def wake(self, hall: str) -> None:
        with self._changed:
            self._pending.add(hall)
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                woken = self._changed.wait_for(
                    lambda: self._stopping or self._everything or bool(self._pending), IDLE_WAKE_S
                )
                if self._stopping:
                    return
                self._pause(self.gather_s)
                halls, everything = set(self._pending), self._everything or not woken
                self._pending.clear()
                self._everything = False
            try:
                self._fold(halls, everything)
            except FoldingFailed as failed:  # logged hall by hall
                self._retry_later(failed.halls, everything=False)
            except Exception:
                log.exception("folding the halls' statistics failed; retrying in %.0f s", RETRY_S)
                self._retry_later(halls, everything)

    def _retry_later(self, halls: set[str], everything: bool) -> None:
        with self._changed:
            self._pending |= halls
            self._everything = self._everything or everything
        self._pause(RETRY_S)

    def _fold(self, halls: set[str], everything: bool) -> None:
        """Each hall on its own: one hall whose events cannot be folded (a payload the folding does not
        understand) holds up its own numbers only, not the city's; it is tried again later."""
        failed: set[str] = set()
        for registered in self.registry.all():
            if not (everything or registered.hall in halls):
                continue
            try:
                fold_all(self.store, registered.hall, registered.zone, chase=False)
            except Exception:
                log.exception("folding hall %s's events failed; the other halls go on", registered.hall)
                failed.add(registered.hall)
        if failed:
            raise FoldingFailed(failed)
