"""Per-hall `seq` tracking for subscribers (DESIGN.md section 5: "never assume every message arrives").

Every message from the dispatcher carries the hall's gap-free `seq`. A subscriber feeds each seq it
sees to its hall's `SeqTracker` and acts on the verdict:

- `NEW`: the next one; apply it.
- `GAP`: seqs were skipped (the broker dropped QoS 1 messages for a slow subscriber, or we were
  disconnected): apply it, then resync from the retained `board` or `GET /api/v1/halls/{hall}/board`.
- `DUPLICATE`: already seen (QoS 1 redelivery, a republish after a dispatcher crash): ignore it.
- `OLD`: older than what we have, e.g. a late event after a resync: ignore it.
- `FIRST`: nothing seen yet (just started or reset): apply it; if it is not a snapshot, resync.

A snapshot (board, windows/{w}) covers everything up to its seq: `snapshot(seq)` moves the tracker
there without calling it a gap. Events (`calls`) are counted with `event(seq)`.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    FIRST = "first"
    NEW = "new"
    GAP = "gap"
    DUPLICATE = "duplicate"
    OLD = "old"

    @property
    def apply(self) -> bool:
        """Whether the message carries news the subscriber should act on."""
        return self in (Verdict.FIRST, Verdict.NEW, Verdict.GAP)

    @property
    def resync(self) -> bool:
        """Whether the subscriber should fetch the whole snapshot now."""
        return self is Verdict.GAP


@dataclass(frozen=True)
class GapInfo:
    after: int
    got: int

    @property
    def missing(self) -> int:
        return self.got - self.after - 1


class SeqTracker:
    """Tracks the events seen for one hall. Thread-safe, O(1) per message, bounded memory.

    `window` is how many recent seqs above the snapshot mark are remembered, so events that arrive
    out of order after a gap (a republish, a late redelivery) are recognised as duplicates.
    """

    def __init__(self, hall: str, window: int = 4096) -> None:
        self.hall = hall
        self._window = window
        self._lock = threading.Lock()
        self._high = 0  # highest event seq applied (0: none)
        self._base = 0  # everything <= base is covered (seen or taken from a snapshot)
        self._seen: set[int] = set()
        self._order: deque[int] = deque()
        self._started = False
        self._first = 0  # the first event seq seen
        self._snap = 0  # the seq of the latest snapshot applied
        self.gaps: list[GapInfo] = []
        self.duplicates = 0

    @property
    def last(self) -> int:
        return self._high

    def event(self, seq: int) -> Verdict:
        """The verdict for an event (e.g. a `calls` message) with this seq."""
        with self._lock:
            if not self._started:
                self._started = True
                self._first = seq
                self._mark(seq)
                self._high = seq
                self._base = seq
                return Verdict.FIRST
            if seq <= self._base or seq in self._seen:
                # Seen before, unless it is below where we started or covered by a snapshot.
                if seq in self._seen or (seq >= self._first and seq > self._snap):
                    self.duplicates += 1
                    return Verdict.DUPLICATE
                return Verdict.OLD
            self._mark(seq)
            if seq == self._high + 1:
                self._high = seq
                self._advance_base()
                return Verdict.NEW
            if seq < self._high:
                return Verdict.NEW  # fills a hole left by an earlier gap
            gap = GapInfo(after=self._high, got=seq)
            self.gaps.append(gap)
            del self.gaps[:-100]
            self._high = seq
            return Verdict.GAP

    def snapshot(self, seq: int, authoritative: bool = False) -> Verdict:
        """A whole snapshot at `seq` arrived (retained board or GET /board): everything up to it is covered.
        Returns OLD when it is older than what we already applied (keep the newer state), unless
        `authoritative` (fetched over HTTP just now): then the tracker restarts from it, which also
        recovers from a dispatcher whose database was replaced and whose seqs start again."""
        with self._lock:
            if self._started and seq < self._high:
                if not authoritative:
                    return Verdict.OLD
                self._high = self._base = self._snap = seq
                self._seen.clear()
                self._order.clear()
                return Verdict.NEW
            verdict = Verdict.FIRST if not self._started else (Verdict.DUPLICATE if seq == self._high else Verdict.NEW)
            self._started = True
            self._snap = max(self._snap, seq)
            self._high = max(self._high, seq)
            self._base = max(self._base, seq)
            self._seen = {s for s in self._seen if s > self._base}
            self._order = deque(s for s in self._order if s > self._base)
            return verdict

    def reset(self) -> None:
        """Forget everything (e.g. the dispatcher's database was replaced: seqs start again)."""
        with self._lock:
            self._high = self._base = self._snap = self._first = 0
            self._seen.clear()
            self._order.clear()
            self._started = False

    def _mark(self, seq: int) -> None:
        self._seen.add(seq)
        self._order.append(seq)
        while len(self._order) > self._window:
            self._seen.discard(self._order.popleft())

    def _advance_base(self) -> None:
        # Everything up to high is contiguous once the holes below it are filled or forgotten.
        contiguous = all(s in self._seen for s in range(self._base + 1, self._high + 1))
        if contiguous or self._high - self._base > self._window:
            self._base = self._high
            self._seen = {s for s in self._seen if s > self._base}
