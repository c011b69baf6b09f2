"""`hallq window-screen --show`: the window draws exactly what was sent to each strip."""

from __future__ import annotations

import pytest

from hardware.led import LedScreen


class FlakyStrip(LedScreen):
    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []
        self.broken = False

    def show(self, text: str, blink: bool = False) -> None:
        if self.broken:
            raise OSError("RS-485 line down")
        self.sent.append((text, blink))


def test_the_mirror_shows_what_the_strip_got_and_not_what_failed() -> None:
    from display.led_panel import MirroredLed

    strip = FlakyStrip()
    mirror = MirroredLed(strip)
    assert mirror.frame == ("", False)
    mirror.show("请A012号", blink=True)
    assert strip.sent == [("请A012号", True)] and mirror.frame == ("请A012号", True)
    strip.broken = True
    with pytest.raises(OSError):  # the bridge sees the failure and retries, as without the mirror
        mirror.show("暂停服务")
    assert mirror.frame == ("请A012号", True)
