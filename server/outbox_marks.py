"""Marking the outbox published for every hall of a dispatcher in one transaction per round.

Each hall's publisher marks what the broker acknowledged at most every MARK_EVERY_S. Alone, 200 halls
would make that 400 fsync'd transactions a second, queued in the thread pool the halls' commits use
and waiting on SQLite's one write lock: the halls' own commits waited behind them (bench/README.md,
"Many halls"). Here the marks asked for during a round are written together when it ends."""

from __future__ import annotations

import asyncio
from typing import Protocol

MARK_EVERY_S = 0.5


class MarkStore(Protocol):
    def mark_published_many(self, marks: dict[str, int]) -> None: ...


class OutboxMarks:
    """Shared by the publishers of one dispatcher; used from its event loop only."""

    def __init__(self, store: MarkStore, every_s: float = MARK_EVERY_S) -> None:
        self.store = store
        self.every_s = every_s
        self._due: dict[str, int] = {}
        self._round: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, hall: str, up_to_seq: int, *, at_once: bool = False) -> None:
        """Mark `hall`'s events up to `up_to_seq` published, with the round that is open (a new one
        waits `every_s` for the others, or none with `at_once`). Raises what the store raised."""
        self._due[hall] = max(self._due.get(hall, 0), up_to_seq)
        if self._round is None:
            self._round = asyncio.get_running_loop().create_future()
            self._writer = asyncio.create_task(self._write_after(0.0 if at_once else self.every_s))
        await asyncio.shield(self._round)

    async def _write_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        due, self._due = self._due, {}
        done, self._round = self._round, None
        assert done is not None
        try:
            await asyncio.to_thread(self.store.mark_published_many, due)
        except Exception as exc:  # every publisher of the round retries on its own schedule
            done.set_exception(exc)
            done.exception()  # retrieved here: a round nobody waits for any more must not warn
        else:
            done.set_result(None)
