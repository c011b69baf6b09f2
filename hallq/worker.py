"""Work off the UI thread, results back on it: the one seam the Kivy apps (kiosk, terminal) share.

A presenter never blocks: it hands slow work (HTTP, printing) to the worker and gets the result
back through `post`, which in an app is Kivy's `Clock.schedule_once` (the UI thread) and in tests
a queue the test drains. Timers (`later`) go through the same seam. No Kivy here: the app passes
its own `post` and `later`.

After `shutdown` nothing more runs: jobs not started yet, timers that fire and results that arrive
are dropped, so a stopped app's pending refresh or retry cannot reach into a closed pool (or, in
tests, into the next app sharing Kivy's clock). The threads are daemons: a job stuck in a device
(an evaluator waiting a minute for a press, a printer that hangs) never keeps the process alive.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
Done = Callable[[Any, BaseException | None], None]


class Cancel(Protocol):
    def __call__(self) -> None: ...


Later = Callable[[float, Callable[[], None]], Cancel]


class UiWorker:
    """A small pool of worker threads whose every callback is posted to the UI thread.

    `workers=1` keeps requests in the order they were made (the terminal: one press after the other)."""

    def __init__(self, post: Post, later: Later, workers: int = 3, name: str = "ui-work") -> None:
        self._post = post
        self._later = later
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-{i}", daemon=True) for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def run(self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception], None]) -> None:
        """`work()` in a worker; then `done(result)` or `failed(exception)` on the UI thread."""

        def finished(result: Any, error: BaseException | None) -> None:
            if error is None:
                done(result)
            elif isinstance(error, Exception):
                failed(error)

        self.submit(work, finished)

    def submit(self, job: Callable[[], Any], done: Done) -> None:
        """`job()` in a worker; then `done(result, None)` or `done(None, exception)` on the UI thread."""
        if self._closed:
            log.debug("stopping: %s not started", getattr(job, "__name__", "work"))
            return

        def work() -> None:
            try:
                result = job()
            except Exception as exc:  # handed to the presenter, which explains it on screen
                error = exc
                self._deliver(lambda: done(None, error))
                return
            self._deliver(lambda: done(result, None))

        self._jobs.put(work)

    def later(self, delay_s: float, action: Callable[[], None]) -> Cancel:
        """`action()` on the UI thread after `delay_s`, unless cancelled (or the worker stopped)."""
        return self._later(delay_s, lambda: None if self._closed else action())

    def shutdown(self) -> None:
        """Stop: a job running finishes unseen, the queued ones never start; returns at once."""
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            if not self._closed:
                job()

    def _deliver(self, callback: Callable[[], None]) -> None:
        self._post(lambda: None if self._closed else callback())


class Backoff:
    """How long a presenter waits before its n-th retry of a request the dispatcher did not answer
    (the same request, with the same Idempotency-Key): the delays in order, then the last one again."""

    def __init__(self, delays_s: Sequence[float]) -> None:
        if not delays_s or any(d <= 0 for d in delays_s):
            raise ValueError(f"retry delays must be positive seconds, not {list(delays_s)}")
        self.delays_s = tuple(delays_s)

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1 for the first retry)."""
        return self.delays_s[min(max(attempt, 1), len(self.delays_s)) - 1]
