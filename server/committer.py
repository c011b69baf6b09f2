"""The threads the group commits run on: a batch goes to one of them, and its result comes back to the
event loop as an asyncio future. Besides them only the writes SQLite would otherwise make wait for
its write lock run here (`Dispatcher.beside_commits`: ratings, rectification steps); reads and the
audit log use the loop's default executor.

concurrent.futures did the same with a Future, a Condition, a semaphore and two chained callbacks per
commit: 53 µs of the event loop's CPU per hand-off against 34 µs here, and about a tenth of the
dispatcher's GIL time during call-next (bench/README.md, issue 18)."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class Committer:
    """`threads` threads taking jobs from one queue, started at the first job. SQLite has one writer,
    so one thread (the dispatcher's commits queue here instead of in SQLite's busy wait); PostgreSQL
    commits several halls' batches at once."""

    def __init__(self, threads: int, name: str = "hallq-commit") -> None:
        self.name = name
        self._count = threads
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run `function(*args)` on a commit thread; call from the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._threads:
            self._start()
        self._jobs.put((loop, future, function, args))
        return future

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
                loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled: the flush that waited for it was stopped
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
