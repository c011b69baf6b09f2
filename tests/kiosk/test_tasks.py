"""kiosk.tasks.ThreadTasks: work off the UI thread, and nothing at all once the kiosk has stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kiosk.tasks import ThreadTasks


class ManualUi:
    """Posts and timers queued until the test runs them, as Kivy's clock would on its next frames."""

    def __init__(self) -> None:
        self.posted: list[Callable[[], None]] = []
        self.timers: list[Callable[[], None]] = []

    def post(self, action: Callable[[], None]) -> None:
        self.posted.append(action)

    def later(self, _delay_s: float, action: Callable[[], None]) -> Callable[[], None]:
        self.timers.append(action)
        return lambda: None

    def run_all(self) -> None:
        for action in [*self.timers, *self.posted]:
            action()
        self.timers.clear()
        self.posted.clear()


def test_results_and_timers_reach_the_ui_while_running() -> None:
    ui = ManualUi()
    tasks = ThreadTasks(ui.post, ui.later)
    got: list[object] = []
    finished = threading.Event()
    tasks.run(lambda: 42, lambda result: (got.append(result), finished.set()), got.append)
    tasks.later(5, lambda: got.append("tick"))
    for _ in range(200):
        if ui.posted:
            break
        finished.wait(0.01)
    ui.run_all()
    assert sorted(map(str, got)) == ["42", "tick"]
    tasks.shutdown()


def test_after_shutdown_nothing_runs_and_nothing_raises() -> None:
    ui = ManualUi()
    tasks = ThreadTasks(ui.post, ui.later)
    got: list[object] = []
    release = threading.Event()
    tasks.run(lambda: release.wait(5) and "late", got.append, got.append)  # in flight at shutdown
    tasks.later(5, lambda: tasks.run(lambda: "again", got.append, got.append))  # a refresh timer pending
    tasks.shutdown()
    release.set()
    for _ in range(100):
        if ui.posted:
            break
        release.wait(0.01)
    ui.run_all()  # the timer fires and the in-flight result arrives: both dropped
    tasks.run(lambda: "after", got.append, got.append)
    ui.run_all()
    assert got == []
