"""The board against the real dispatcher and a real Mosquitto, under Xvfb.

call-next over HTTP → the number and window on the X screen (OCR); the broker killed and restarted,
the board restarted: each time the board converges to what GET /board says; bad messages change nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from display.board.model import STALE_BANNER, BoardModel
from hallq.contract import BoardSnapshot, Topics
from tests.display.harness import BoardProcess, Publisher, grab_screen, read_text, squash
from tests.support.broker import Broker
from tests.support.dispatcher import Dispatcher
from tests.support.hall import running_hall

pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (run under xvfb-run)"),
]
DEVICE = "board-e2e"
COMPARED = ("windows", "waiting", "recent", "notice", "current")


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[Broker, Dispatcher]]:
    pytest.importorskip("fastapi")
    with running_hall(tmp_path) as started:
        yield started


def expected_view(dispatcher: Dispatcher) -> dict[str, Any]:
    """What a board that knows exactly GET /board shows (through the same presenter)."""
    response = httpx.get(f"{dispatcher.api}/halls/demo/board", headers=dispatcher.headers, timeout=10)
    response.raise_for_status()
    snap = BoardSnapshot.model_validate_json(response.content)
    model = BoardModel(hall_name="")
    model.apply_snapshot(snap, dt.datetime.now(dt.UTC))
    view = json.loads(json.dumps(dataclasses.asdict(model.view(dt.datetime.now(dt.UTC)))))
    return {key: view[key] for key in COMPARED} | {"seq": snap.seq}


def converged(board: BoardProcess, dispatcher: Dispatcher, timeout: float = 40) -> dict[str, Any]:
    def same(view: dict[str, Any]) -> bool:
        want = expected_view(dispatcher)
        return view["seq"] == want["seq"] and all(view[k] == want[k] for k in COMPARED) and not view["banner"]

    return board.wait_for(same, timeout)


def test_board_follows_the_dispatcher_through_outages(tmp_path: Path, hall: tuple[Broker, Dispatcher]) -> None:
    broker, dispatcher = hall
    numbers = [dispatcher.issue("A", f"e2e-a{i}") for i in range(3)] + [dispatcher.issue("C", "e2e-c")]
    args = [
        "--hall", "demo", "--device", DEVICE, "--token", "demo-device-token", "--mqtt", broker.device_url(DEVICE),
        "--server", dispatcher.url, "--size", "1920x1080", "--flash-seconds", "30",
    ]  # fmt: skip
    board = BoardProcess(tmp_path, "board-e2e", args).start()
    try:
        converged(board, dispatcher)

        # call-next over HTTP: the number and the window on the screen
        number = dispatcher.call_next("3", "e2e-n1")
        assert number == numbers[0]
        state = board.wait_for(lambda v: v["current"] is not None and v["current"]["ticket"] == number)
        assert state["view"]["flashing"] and state["view"]["current"]["window_name"] == "3号窗口"
        seen = squash(read_text(grab_screen(tmp_path / "call.png", state["regions"]["call_panel"])))
        assert number in seen and "3号窗口" in seen, seen
        converged(board, dispatcher)

        # a malformed message changes nothing
        before = board.state()
        assert before is not None
        pub = Publisher(broker.url)
        pub.send(Topics("demo").calls, b'{"seq": "x"}')
        pub.send(Topics("demo").board, b"\x00garbage")
        pub.close()
        after = board.wait_state(lambda s: s["malformed"] >= before["malformed"] + 2)
        assert after["view"] == before["view"]

        # the broker dies: the banner; calls go on over HTTP meanwhile
        broker.kill()
        board.wait_for(lambda v: v["banner"] == STALE_BANNER)
        board.keep("board-landscape-disconnected")
        dispatcher.call_next("1", "e2e-n2")
        broker.start()
        converged(board, dispatcher)

        # the board restarts while a call is made
        board.stop()
        dispatcher.call_next("6", "e2e-n3")
        board.start()
        final = converged(board, dispatcher)
        called = {numbers[0], numbers[1], numbers[3]}  # A001 at 3, A002 at 1 (broker away), C001 at 6
        assert {c["ticket"] for c in [final["view"]["current"], *final["view"]["recent"]]} == called
    finally:
        board.stop()
