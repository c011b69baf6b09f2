"""The threads the group commits run on: a batch goes to one of them, and its result comes back to the
event loop as an asyncio future. Besides them only the writes SQLite would otherwise make wait for
its write lock run here (`Dispatcher.beside_commits`: ratings, rectification steps); reads and the
audit log use the loop's default executor.

concurrent.futures did the same with a Future, a Condition, a semaphore and two chained callbacks per
commit: 53 µs of the event loop's CPU per hand-off against 34 µs here, and about a tenth of the
dispatcher's GIL time during call-next (bench/README.md, issue 18).

On SQLite a group commit may also run on the event loop itself (`run_here`), while the threads have
nothing to do and such commits stay quick: the commit thread's hand-off and the GIL it then shares
with the event loop made a 0.35 ms commit take 1.4–2.1 ms (bench/README.md, "A commit where it is
made"). A slow disk sends the commits back to the thread, where the loop serves reads meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

HERE_LIMIT_S = 0.005  # commits on the event loop taking longer than this on average go to the thread…
HERE_PAUSE_S = 10.0  # …for this long; then the loop tries again (the disk may have been busy for a moment)
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class Committer:
    """`threads` threads taking jobs from one queue, started at the first job. SQLite has one writer,
    so one thread (the dispatcher's commits queue here instead of in SQLite's busy wait); PostgreSQL
    commits several halls' batches at once."""

    def __init__(self, threads: int, name: str = "hallq-commit", *, here: bool = False) -> None:
        self.name = name
        self._count = threads
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._unsettled = 0  # jobs submitted whose result the event loop has not had yet
        self._here = here
        self._here_s = 0.0  # the moving average of a commit's time on the event loop
        self._here_again_at = 0.0  # monotonic time: commits on the loop were slow, none before this

    def submit(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run `function(*args)` on a commit thread; call from the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._threads:
            self._start()
        self._unsettled += 1
        self._jobs.put((loop, future, function, args))
        return future

    def run_here(self, attempt: Callable[[], T | None]) -> asyncio.Future[T] | None:
        """Run `attempt()` on the event loop itself, if this committer allows it, no job is queued or
        running (one cannot overtake the other, nor share SQLite's kept connection) and such runs have
        been quick. Its result (or error) as a settled future; None when it may not run here now or it
        declined (returned None, e.g. another connection held the lock): then `submit` it."""
        if not self._here or self._unsettled or time.monotonic() < self._here_again_at:
            return None
        started = time.perf_counter()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        try:
            result = attempt()
        except Exception as exc:  # handed to the awaiting coroutine, as from a thread
            future.set_exception(exc)
            result = None
        self._time_here(time.perf_counter() - started)
        if result is not None:
            future.set_result(result)
        return future if future.done() else None

    def _time_here(self, elapsed_s: float) -> None:
        # A run held up once (a garbage collection, another thread keeping the GIL, a WAL checkpoint)
        # counts as twice the limit at most: only a few slow runs in a row mean a slow disk.
        self._here_s = 0.8 * self._here_s + 0.2 * min(elapsed_s, 2 * HERE_LIMIT_S)
        if self._here_s > HERE_LIMIT_S:
            log.warning(
                "commits on the event loop took %.1f ms on average; on the commit thread for %.0f s",
                self._here_s * 1000, HERE_PAUSE_S,
            )  # fmt: skip
            self._here_s = 0.0
            self._here_again_at = time.monotonic() + HERE_PAUSE_S

    def stop(self, timeout_s: float = 30.0) -> None:
        """Let the threads finish the jobs queued and end, waiting `timeout_s` at most in all (blocks:
        call it off the event loop; a thread still stuck in a commit is left to end with the process)."""
        threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        deadline = time.monotonic() + timeout_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _start(self) -> None:
        self._threads = [
            threading.Thread(target=self._work, name=f"{self.name}-{i}", daemon=True) for i in range(self._count)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, function, args = job
            try:
                result, error = function(*args), None
            except BaseException as exc:  # handed to the awaiting coroutine, as an executor would
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for the answer
                loop.call_soon_threadsafe(self._settle, future, result, error)

    def _settle(self, future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        self._unsettled -= 1
        if future.done():  # cancelled: the flush that waited for it was stopped
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
