"""BoardFeed without a screen, against a real Mosquitto: GET /board when no retained snapshot comes,
refused credentials shown as a lasting problem, zone resolved from the hall info."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from display.board.feed import REFUSED_TEXT, BoardFeed
from display.board.model import BoardModel
from hallq.device import DeviceSettings
from tests.display.harness import FakeHall
from tests.display.samples import snapshot
from tests.support.broker import Broker, start_mosquitto


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = start_mosquitto(tmp_path)
    yield b
    b.stop()


@pytest.fixture
def hall() -> Iterator[FakeHall]:
    h = FakeHall()
    yield h
    h.close()


class Headless:
    """The feed's jobs run on the test thread, like Kivy's Clock would run them on the UI thread."""

    def __init__(self, settings: DeviceSettings, zone: str | None = None) -> None:
        self.jobs: list[Callable[[], None]] = []
        self.lock = threading.Lock()
        self.model = BoardModel(hall_name="x", resync_grace_s=1.0, resync_retry_s=1.0)
        self.feed = BoardFeed(settings, self.model, post=self._post, on_change=lambda: None, zone=zone)

    def _post(self, job: Callable[[], None]) -> None:
        with self.lock:
            self.jobs.append(job)

    def run_until(self, done: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                jobs, self.jobs = self.jobs, []
            for job in jobs:
                job()
            self.feed.tick()
            if done():
                return
            time.sleep(0.05)
        raise AssertionError("the feed never got there")


def settings_for(broker: Broker, hall: FakeHall, device: str, token: str = "demo-device-token") -> DeviceSettings:
    url = (
        broker.device_url(device)
        if token == "demo-device-token"
        else f"mqtt://{device}:{token}@127.0.0.1:{broker.port}"
    )
    return DeviceSettings(kind="board", device=device, hall="demo", server=hall.url, mqtt=url, token=token)


def test_no_retained_snapshot_means_get_board_and_the_zone_comes_from_hall_info(broker: Broker, hall: FakeHall) -> None:
    hall.snapshot = snapshot(seq=42, serving={"3": "A012"})
    board = Headless(settings_for(broker, hall, "feed-1"), zone="2F")
    board.feed.start()
    try:
        board.run_until(lambda: board.model.seq == 42 and board.model.zone.label == "2F")
        view = board.model.view(snapshot().at)
        assert view.hall_name == "句容市政务服务中心"
        assert [w.window for w in view.windows] == ["6", "7", "8", "9", "10", "11"]
        assert board.feed.hall_timezone == "Asia/Shanghai"
    finally:
        board.feed.stop()


def test_refused_credentials_are_a_lasting_problem_on_screen(broker: Broker, hall: FakeHall) -> None:
    board = Headless(settings_for(broker, hall, "feed-2", token="wrong-token"))
    board.feed.start()
    try:
        board.run_until(lambda: board.model.problem == REFUSED_TEXT)
        assert board.model.view(snapshot().at).banner == REFUSED_TEXT
    finally:
        board.feed.stop()


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_stopping_during_a_fetch_ends_it_quietly(broker: Broker, hall: FakeHall) -> None:
    """A board shut down while its GET is under way stops at once; the fetch ends on the closed client
    without a traceback (CI once saw "Cannot send a request, as the client has been closed")."""
    hall.snapshot = snapshot(seq=7)
    hall.hold = threading.Event()
    board = Headless(settings_for(broker, hall, "feed-3"))
    board.feed.start()  # the first tick asks for the hall's name, then its board
    assert hall.asked.wait(10)
    fetching = next(t for t in threading.enumerate() if t.name == "board-http")
    board.feed.stop()
    hall.hold.set()
    fetching.join(15)
    assert not fetching.is_alive()
    board.feed.tick()  # a stopped feed starts no fetch
    assert not any(t.name == "board-http" for t in threading.enumerate())
