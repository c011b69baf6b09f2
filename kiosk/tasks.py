"""Work off the UI thread, results back on it.

The presenter never blocks: it hands slow work (HTTP, printing) to `Tasks.run`, and gets the
result back through `post`, which in the app is Kivy's `Clock.schedule_once` (the UI thread) and
in tests a queue the test drains. Timers (`later`) go through the same seam.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]


class Cancel(Protocol):
    def __call__(self) -> None: ...


class Tasks(Protocol):
    def run(
        self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception], None]
    ) -> None: ...

    def later(self, delay_s: float, action: Callable[[], None]) -> Cancel: ...


class ThreadTasks:
    """A small pool of workers; every callback is posted to the UI thread.

    After `shutdown` nothing more runs: timers that fire and results that arrive are dropped, so a
    stopped kiosk's pending refresh or retry cannot reach into a closed pool (or, in tests, into the
    next app sharing Kivy's clock)."""

    def __init__(self, post: Post, later: Callable[[float, Callable[[], None]], Cancel], workers: int = 3) -> None:
        self._post = post
        self._later = later
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-work")
        self._closed = False

    def run(self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception], None]) -> None:
        if self._closed:
            log.debug("kiosk stopping: %s not started", getattr(work, "__name__", "work"))
            return

        def job() -> None:
            try:
                result = work()
            except Exception as exc:  # handed to the presenter, which explains it on screen
                error = exc
                self._deliver(lambda: failed(error))
                return
            self._deliver(lambda: done(result))

        self._pool.submit(job)

    def later(self, delay_s: float, action: Callable[[], None]) -> Cancel:
        return self._later(delay_s, lambda: None if self._closed else action())

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _deliver(self, callback: Callable[[], None]) -> None:
        self._post(lambda: None if self._closed else callback())


class TimerLater:
    """`later` for plain Python (tests, bench): a threading.Timer whose action is posted."""

    def __init__(self, post: Post) -> None:
        self._post = post

    def __call__(self, delay_s: float, action: Callable[[], None]) -> Cancel:
        timer = threading.Timer(delay_s, lambda: self._post(action))
        timer.daemon = True
        timer.start()
        return timer.cancel
