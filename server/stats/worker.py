"""The folding worker: one thread per dispatcher, woken by every commit (`dispatcher.on_commit`),
that folds the new events into the roll-ups off the request path. The callback only counts the
commit and wakes the thread; a failed batch (the database away for a moment) is retried after
`RETRY_S`, and the thread also wakes every `IDLE_WAKE_S` on its own."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from server.runtime import Dispatcher
from server.stats.rollups import BATCH, Folded, fold_all
from server.store import EventRow
from server.store.handed import HandedRows
from server.woken_thread import WokenThread

log = logging.getLogger(__name__)
IDLE_WAKE_S = 30.0
RETRY_S = 5.0  # after a failed batch (the database away, a deadlock victim)
# After a wake, wait this long so a burst of commits folds as one batch: one short write transaction
# a second instead of one per commit, which would take SQLite's write lock from the issue path.
GATHER_S = 1.0
# Committed rows kept per hall until folded (a folder far behind reads the rest from the database).
HANDED_ROWS = 4 * BATCH


class StatsFolder(WokenThread):
    def __init__(self, dispatcher: Dispatcher, gather_s: float = GATHER_S, on_folded: Folded | None = None) -> None:
        super().__init__("hallq-stats-folder", stop_wait_s=30)
        self.dispatcher = dispatcher
        self.gather_s = gather_s
        self.on_folded = on_folded  # e.g. the Prometheus counters (server/stats/metrics.py)
        self.zones = {hall: ZoneInfo(r.config.hall.timezone) for hall, r in dispatcher.halls.items()}
        self._commits = 1  # one to start with: catch up with what was committed while the server was down
        # Halls committed to since the last fold: only they are folded (a dispatcher of 200 halls
        # read every hall's cursor and events after any commit: 400 queries a second under load).
        self._dirty: set[str] = set(self.zones)
        self._folded = 0  # the commit count the last complete fold started from
        # The rows each commit wrote, handed over (dispatcher.on_events) so a fold reads no database in
        # the usual case: reading them back was half the folder's time during call-next (issue 18).
        self._handed = {hall: HandedRows(HANDED_ROWS) for hall in self.zones}

    def take_rows(self, hall: str, rows: list[EventRow]) -> None:
        """The rows of a commit, in the event loop right after it."""
        with self._changed:
            self._handed[hall].add(rows)

    def _events_after(self, hall: str, seq: int, limit: int) -> list[EventRow]:
        """The committed events after `seq`: those handed over when they follow on from it, else the
        database's (a start, a take-over, a folder far behind). Rows up to `seq` are folded: let go."""
        with self._changed:
            handed = self._handed[hall]
            handed.drop_through(seq)
            rows = handed.run_after(seq, limit)
        return rows or self.dispatcher.store.events_since(hall, seq, limit)

    def on_commit(self, hall: str, _seq: int) -> None:
        with self._changed:
            self._commits += 1
            self._dirty.add(hall)
            # Wake the thread only when it idles: while it gathers or folds, a wake per commit was a
            # thread switch per ticket (py-spy: 4 % of the dispatcher's GIL time while issuing).
            if self._commits == self._folded + 1:
                self._changed.notify_all()

    def start(self) -> None:
        self.dispatcher.on_events.append(self.take_rows)
        self.dispatcher.on_commit.append(self.on_commit)
        super().start()

    def stop(self) -> bool:
        if self.take_rows in self.dispatcher.on_events:
            self.dispatcher.on_events.remove(self.take_rows)
        if self.on_commit in self.dispatcher.on_commit:
            self.dispatcher.on_commit.remove(self.on_commit)
        return super().stop()

    def wait_folded(self, timeout: float) -> bool:
        """Block until every commit seen so far is folded (tests; a `rebuild` waits the same way)."""
        with self._changed:
            target = self._commits
            return self._changed.wait_for(lambda: self._folded >= target, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                woken = self._changed.wait_for(lambda: self._stopping or self._commits > self._folded, IDLE_WAKE_S)
                if self._stopping:
                    return
                self._pause(self.gather_s)
                target = self._commits
                # the idle wake folds every hall: a safety net for anything committed unannounced
                halls, self._dirty = (self._dirty if woken else set(self.zones)), set()
            try:
                for hall, zone in self.zones.items():
                    # a standby dispatcher leaves it to the writer (a take-over announces the hall)
                    if hall in halls and self.dispatcher.halls[hall].active:
                        fold_all(self.dispatcher.store, hall, zone, self.on_folded, chase=False,
                                 events_after=self._events_after)  # fmt: skip
            except Exception:
                log.exception("folding the statistics failed; retrying in %.0f s", RETRY_S)
                with self._changed:
                    self._dirty |= halls
                self._pause(RETRY_S)
                continue
            with self._changed:
                self._folded = target
                self._changed.notify_all()
