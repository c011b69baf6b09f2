"""The kiosk's side of the shared worker seam (hallq/worker.py): what the presenters ask of it.

The presenter never blocks: it hands slow work (HTTP, printing) to `Tasks.run`, and gets the
result back on the UI thread; timers (`later`) go through the same seam. In the app that is
`hallq.worker.UiWorker` on Kivy's clock; in tests, inline fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hallq.worker import Cancel, Post, UiWorker


class Tasks(Protocol):
    def run(
        self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception], None]
    ) -> None: ...

    def later(self, delay_s: float, action: Callable[[], None]) -> Cancel: ...


class ThreadTasks(UiWorker):
    """The kiosk's worker pool: three threads (a slow printer does not hold up a hall refresh)."""

    def __init__(self, post: Post, later: Callable[[float, Callable[[], None]], Cancel], workers: int = 3) -> None:
        super().__init__(post, later, workers=workers, name="kiosk-work")


__all__ = ["Cancel", "Post", "Tasks", "ThreadTasks"]
