"""hallq.worker.UiWorker as the terminal uses it (one thread): presses run in order, every outcome comes
back through `post`, and a stopped terminal starts nothing queued and never waits for a stuck device."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest

from hallq.worker import Backoff, UiWorker


class Ui:
    """The UI thread: posted callbacks wait in a queue until the test runs them."""

    def __init__(self) -> None:
        self.posted: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def later(self, _delay_s: float, action: Callable[[], None]) -> Callable[[], None]:
        self.posted.put(action)
        return lambda: None

    def run_next(self) -> None:
        self.posted.get(timeout=10)()


def test_jobs_run_in_press_order_and_failures_come_back_as_errors() -> None:
    ui = Ui()
    worker = UiWorker(ui.posted.put, ui.later, workers=1, name="test-terminal")
    ran: list[str] = []
    outcomes: list[tuple[Any, str | None]] = []

    def job(name: str) -> Callable[[], str]:
        def run() -> str:
            ran.append(name)
            if name == "bad":
                raise RuntimeError("dispatcher said no")
            return name

        return run

    for name in ("first", "bad", "third"):
        worker.submit(job(name), lambda result, error: outcomes.append((result, str(error) if error else None)))
    for _ in range(3):
        ui.run_next()
    assert ran == ["first", "bad", "third"]
    assert outcomes == [("first", None), (None, "dispatcher said no"), ("third", None)]
    worker.shutdown()


def test_shutdown_drops_queued_jobs_and_returns_while_one_is_stuck() -> None:
    ui = Ui()
    worker = UiWorker(ui.posted.put, ui.later, workers=1, name="test-terminal")
    stuck, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def hold() -> None:
        stuck.set()
        release.wait(10)  # an evaluator waiting for a press

    worker.submit(hold, lambda _r, _e: ran.append("held result"))
    worker.submit(lambda: ran.append("queued"), lambda _r, _e: ran.append("queued result"))
    assert stuck.wait(10)
    worker.shutdown()  # returns at once although a job is still running
    release.set()
    delivered = ui.posted.get(timeout=10)  # the stuck job's result arrives ...
    delivered()  # ... and is dropped
    worker.run(lambda: "after", ran.append, ran.append)
    assert ran == [] and ui.posted.empty()


def test_backoff_waits_longer_then_stays_at_its_last_delay() -> None:
    backoff = Backoff((1.0, 2.0, 4.0))
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 9)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    with pytest.raises(ValueError, match="positive"):
        Backoff((1.0, 0.0))
