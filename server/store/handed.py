"""Committed event rows handed over by the dispatcher right after each commit (`on_events`), so the
publisher and the statistics folder read no database in the usual case. Bounded: a reader far behind
finds a gap and reads the rest from the database."""

from __future__ import annotations

from collections import OrderedDict

from server.store.store import EventRow


class HandedRows:
    """One hall's handed rows by seq, oldest first, at most `limit`. Not locked: a reader on another
    thread holds its own lock around every call."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._rows: OrderedDict[int, EventRow] = OrderedDict()

    @property
    def newest(self) -> int | None:
        return next(reversed(self._rows)) if self._rows else None

    def add(self, rows: list[EventRow]) -> None:
        for row in rows:
            self._rows[row.seq] = row
        while len(self._rows) > self.limit:
            self._rows.popitem(last=False)

    def drop_through(self, seq: int) -> None:
        """Let go of the rows up to `seq` (published, folded): only later ones are ever asked for."""
        while self._rows and next(iter(self._rows)) <= seq:
            self._rows.popitem(last=False)

    def run_after(self, seq: int, limit: int) -> list[EventRow]:
        """The rows seq+1, seq+2, … without a gap, at most `limit` (none when seq+1 was not handed)."""
        rows: list[EventRow] = []
        while len(rows) < limit and (row := self._rows.get(seq + 1 + len(rows))) is not None:
            rows.append(row)
        return rows

    def clear(self) -> None:
        self._rows.clear()
