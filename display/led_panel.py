"""`hallq window-screen --show`: the LED strips drawn in a window, one strip per window.

In a hall each strip hangs over its window; in the demo (simulated strips, `--led sim:`) nobody
could see them. With `--show` every strip the bridge drives is wrapped in `MirroredLed`, which
passes each frame on to the real (or simulated) strip and keeps a copy, and a small Kivy window
draws the copies: red dot-matrix style text on black, blinking where the strip blinks. What the
window shows is what was sent to the strips, not a second opinion of the queue.

Import this only after Kivy's Config is set (display.cli does it).
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from display.window_screen import WindowScreenBridge, hall_window_names
from hallq.device import DeviceSettings
from hallq.fonts import CjkFonts
from hardware.led import LedScreen

KV = """
#:set LED_RED (1, 0.16, 0.10, 1)
#:set LED_OFF (0.25, 0.03, 0.02, 1)
<LedStrip>:
    padding: [12 * self.u, 4 * self.u]
    spacing: 12 * self.u
    canvas.before:
        Color:
            rgba: 0.02, 0.02, 0.02, 1
        Rectangle:
            pos: self.pos
            size: self.size
    Label:
        text: root.window_name
        font_name: 'HallCJK'
        font_size: root.height * 0.34
        color: 0.7, 0.7, 0.7, 1
        size_hint_x: 0.28
        text_size: self.size
        halign: 'left'
        valign: 'middle'
        shorten: True
    Label:
        text: root.text
        font_name: 'HallCJK'
        bold: True
        font_size: root.height * 0.58
        color: LED_OFF if (root.blink and not root.lit) else LED_RED
        text_size: self.size
        halign: 'center'
        valign: 'middle'
        shorten: True
"""
BLINK_S = 0.5


class MirroredLed(LedScreen):
    """Sends every frame to `inner` (errors propagate, so the bridge retries as before) and keeps it."""

    def __init__(self, inner: LedScreen) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._frame = ("", False)

    def show(self, text: str, blink: bool = False) -> None:
        self.inner.show(text, blink)
        with self._lock:
            self._frame = (text, blink)

    @property
    def frame(self) -> tuple[str, bool]:
        with self._lock:
            return self._frame


class LedStrip(BoxLayout):
    u = NumericProperty(1.0)
    window_name = StringProperty("")
    text = StringProperty("")
    blink = BooleanProperty(False)
    lit = BooleanProperty(True)


@dataclass(frozen=True)
class PanelOptions:
    screenshot: Path | None = None


class LedPanelApp(App):
    title = "hallq 窗口屏 (LED)"

    def __init__(
        self, bridge: WindowScreenBridge, mirrors: dict[str, MirroredLed], names: dict[str, str], fonts: CjkFonts,
        options: PanelOptions, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.bridge, self.mirrors, self.names, self.fonts, self.options = bridge, mirrors, names, fonts, options
        self.strips: dict[str, LedStrip] = {}

    def build(self) -> BoxLayout:
        LabelBase.register(name="HallCJK", fn_regular=self.fonts.regular, fn_bold=self.fonts.bold)
        Builder.load_string(KV)
        root = BoxLayout(orientation="vertical", spacing=3, padding=3)
        for window in self.mirrors:
            strip = LedStrip(window_name=self.names.get(window) or f"{window}号窗口")
            self.strips[window] = strip
            root.add_widget(strip)
        return root

    def on_start(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda _dt: self.stop()))
        self.bridge.start()
        Clock.schedule_interval(self._refresh, 0.1)
        Clock.schedule_interval(self._blink, BLINK_S)
        if self.options.screenshot is not None:
            Clock.schedule_interval(self._capture, 2.0)

    def on_stop(self) -> None:
        self.bridge.stop()

    def _refresh(self, _dt: float) -> None:
        for window, strip in self.strips.items():
            strip.text, strip.blink = self.mirrors[window].frame

    def _blink(self, _dt: float) -> None:
        for strip in self.strips.values():
            strip.lit = not strip.lit if strip.blink else True

    def _capture(self, _dt: float) -> None:
        """The panel as PNG (atomically), for tests and for looking."""
        from PIL import Image

        assert self.options.screenshot is not None and self.root is not None
        texture = self.root.export_as_image().texture
        image = Image.frombytes("RGBA", texture.size, texture.pixels).convert("RGB")
        target = self.options.screenshot
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target.with_suffix(".part.png"))
        os.replace(target.with_suffix(".part.png"), target)


def run_panel(settings: DeviceSettings, urls: dict[str, str], fonts: CjkFonts, options: PanelOptions) -> int:
    from hardware.led import open_led

    mirrors = {window: MirroredLed(open_led(url)) for window, url in urls.items()}
    names = hall_window_names(settings, urls)
    bridge = WindowScreenBridge(settings, dict(mirrors), names=names)
    LedPanelApp(bridge, mirrors, names, fonts, options).run()
    return 0
