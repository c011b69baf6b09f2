"""Every hall live at the hub (DESIGN §14, `/city`): the pure fold (server/network/live_fold.py) kept
per hall in memory and moved on by the events stored since the last look. Blocking SQL: call from a
thread.

The first look at a hall starts at its last `day_reset` (the day's queue begins there) and takes each
window's state from its last `window_changed` before it (windows keep their state over midnight), so
a hall with a year of history is not replayed whole. After that each look reads only the new events.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import sqlalchemy as sa

from server.network.live_fold import HallLiveState, LiveSummary
from server.store import Store
from server.store import schema as t

READ_BATCH = 2000
WINDOW_LOOKBACK = 5000  # window_changed events read back from the day's start for the windows' states


class LiveBoard:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._states: dict[str, HallLiveState] = {}
        self._lock = threading.Lock()

    def summary(self, hall: str, windows: Iterable[str] = ()) -> LiveSummary:
        """The hall now, from every event the hub holds; `windows` (the hall's, from its profile) are
        closed until an event says otherwise."""
        with self._lock:
            state = self._states.get(hall)
            if state is None:
                state = self._states[hall] = self._start(hall)
            self._catch_up(hall, state)
            for window in windows:
                state.windows.setdefault(window, "closed")
            return state.summary()

    def _start(self, hall: str) -> HallLiveState:
        state = HallLiveState()
        events = t.events
        with self.store.engine.connect() as conn:
            reset = conn.execute(
                sa.select(sa.func.max(events.c.seq)).where(events.c.hall == hall, events.c.kind == "day_reset")
            ).scalar()
            if reset is None:
                return state  # the hall's first day: replay everything
            changes = conn.execute(
                sa.select(events.c.payload)
                .where(events.c.hall == hall, events.c.kind == "window_changed", events.c.seq <= reset)
                .order_by(events.c.seq.desc())
                .limit(WINDOW_LOOKBACK)
            ).all()
        for (payload,) in reversed(changes):
            state.apply(0, "window_changed", payload)
        state.last_seq = int(reset)
        return state

    def _catch_up(self, hall: str, state: HallLiveState) -> None:
        while True:
            rows = self.store.events_since(hall, state.last_seq, READ_BATCH)
            for row in rows:
                state.apply(row.seq, row.kind, row.payload)
            if len(rows) < READ_BATCH:
                return
