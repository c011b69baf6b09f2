"""The board read from the back of the hall: every character on screen is at least 1/250 of the
viewing distance tall, measured in the screenshot, at 1080p and at 4K on a 55-inch panel at 10 m.

The height of each label's text is the height of its ink in the PNG (rows with pixels that stand out
from the label's background), converted to millimetres with the panel's pixels per millimetre. A hall
with 12 windows and 12 services does not fit at that size on one screen: the board pages instead.
Screenshots: artifacts/screens/board-legible-{1080p,4k}.png.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from display.board.textfit import Legibility, has_latin
from hallq.contract import DispatcherStatus, Topics
from tests.display.harness import BoardProcess, FakeHall, Publisher
from tests.display.samples import snapshot
from tests.support.broker import Broker, start_mosquitto

pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (run under xvfb-run)"),
]
TOPICS = Topics("demo")
PANEL = Legibility(panel_inches=55, distance_m=10)
INK_CONTRAST = 60  # a pixel this much brighter or darker (0..255, any channel) than the background is ink


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


def ink_height(image: Image.Image, box: list[int]) -> int:
    """Rows of the label's box that hold ink, first to last; the background is the box's edge colour."""
    left, top, width, height = box
    right, bottom = min(image.width, left + width), min(image.height, top + height)
    crop = image.crop((max(0, left), max(0, top), right, bottom)).convert("RGB")
    pixels = crop.load()
    assert pixels is not None
    background = Counter(pixels[x, 0] for x in range(crop.width)).most_common(1)[0][0]

    def is_ink(x: int, y: int) -> bool:
        return max(abs(c - b) for c, b in zip(pixels[x, y], background, strict=True)) > INK_CONTRAST

    inked = [y for y in range(crop.height) if any(is_ink(x, y) for x in range(crop.width))]
    return inked[-1] - inked[0] + 1 if inked else 0


def measured_labels(state: dict, png: Path) -> list[tuple[str, int, float]]:
    """(text, ink height in px, ink height in mm) of every label on screen."""
    image = Image.open(png)
    per_mm = PANEL.px_per_mm(tuple(state["size"]))
    rows = []
    for label in state["labels"]:
        px = ink_height(image, label["box"])
        rows.append((label["text"], px, px / per_mm))
    return rows


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=["1080p", "4k"])
def test_every_character_is_tall_enough_to_read_from_ten_metres(
    tmp_path: Path, broker: Broker, hall: FakeHall, size: tuple[int, int]
) -> None:
    pub = Publisher(broker.url)
    at = dt.datetime.now(dt.UTC)
    pub.send(TOPICS.dispatcher_status, DispatcherStatus(online=True, at=at), retain=True)
    busy = {str(n): f"{'ABCDEFGHJKLQ'[n - 1]}{n:03d}" for n in range(1, 13) if n not in (5, 9)}
    pub.send(
        TOPICS.board,
        snapshot(seq=30, at=at, serving=busy, paused={"9": "午间休息"}, calls=[("A001", "1", 20), ("B002", "2", 40)]),
        retain=True,
    )
    device = f"board-legible-{size[1]}"
    args = [
        "--hall", "demo", "--device", device, "--token", "demo-device-token", "--mqtt", broker.device_url(device),
        "--server", hall.url, "--size", f"{size[0]}x{size[1]}", "--panel-inches", "55", "--viewing-distance", "10",
    ]  # fmt: skip
    board = BoardProcess(tmp_path, device, args).start()
    try:
        state = board.wait_state(lambda s: bool(s.get("view")) and s["view"]["seq"] == 30 and s["size"] == list(size))
        name = "board-legible-1080p" if size[1] == 1080 else "board-legible-4k"
        board.keep(name)
        needed_mm = PANEL.char_mm  # 40 mm at 10 m
        assert state["char_px"] == pytest.approx(needed_mm * PANEL.px_per_mm(size))
        measured = measured_labels(state, board.png)
        texts = {text for text, _, _ in measured}
        assert {"正在叫号", "号码", "状态"} <= texts and any("号窗口" in t for t in texts)
        # a label's ink is its tallest character: a Chinese one where there is one, else a capital or
        # digit; a label of Latin text alone is measured by its capitals and digits
        short = [(t, px, round(mm, 1)) for t, px, mm in measured if px < state["char_px"] - 1]  # 1 px: smoothing
        assert not short, f"characters under {needed_mm:.0f} mm on a 55-inch panel: {short}"
        assert any(not has_latin(t) for t, _, _ in measured) and any(t.isascii() for t, _, _ in measured)
        # 12 windows and 12 services do not fit at that size: the tables page instead of shrinking
        pages = state["pages"]
        assert pages["windows"] or pages["waiting"], pages
        assert len(state["view"]["windows"]) == 12 and len(state["view"]["waiting"]) == 12
    finally:
        board.stop()
        pub.close()
