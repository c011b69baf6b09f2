"""Drives the real kiosk app in this process under Xvfb: taps by text, waits by predicate,
saves screenshots. Used by tests/kiosk/test_ui.py and bench/kiosk_ticket.py."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

SCREENS_DIR = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


class KioskDriver:
    def __init__(self, runtime: Any, size: tuple[int, int] = (1080, 1920)) -> None:
        from hallq.screen import WindowGeometry
        from kiosk.cli import configure_kivy
        from kiosk.runtime import find_cjk_font

        configure_kivy(WindowGeometry(size, fullscreen=False), (find_cjk_font(), find_cjk_font(style="Bold")))
        from kiosk.app import KioskApp

        self.app = KioskApp(runtime)
        self.app._run_prepare()  # build, open the window, on_start: what App.run() does before its loop
        self.pump(0.3)

    @property
    def presenter(self) -> Any:
        return self.app.presenter

    def stop(self) -> None:
        from kivy.base import stopTouchApp

        self.app.stop()
        stopTouchApp()

    # -- time --------------------------------------------------------------------------------------
    def pump(self, seconds: float = 0.05) -> None:
        from kivy.base import EventLoop

        end = time.monotonic() + seconds
        while True:
            EventLoop.idle()
            if time.monotonic() >= end:
                return
            time.sleep(0.01)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError(
                    f"timed out waiting for {what or predicate}; showing {self.screen}: {self.texts()[:40]}"
                )
            self.pump(0.05)
        self.pump(0.15)  # let the layout settle before anyone looks

    # -- what is on screen -------------------------------------------------------------------------
    @property
    def screen(self) -> str:
        return str(self.app.root.ids.sm.current)

    def set_size(self, size: tuple[int, int]) -> None:
        from kivy.core.window import Window

        Window.size = size
        self.pump(0.25)

    def widgets(self) -> Iterator[Any]:
        """Visible widgets: the frame and the current screen (not the hidden screens)."""
        root = self.app.root
        manager = root.ids.sm
        stack = [w for w in root.children if w is not manager] + [manager.current_screen]
        while stack:
            widget = stack.pop()
            if getattr(widget, "opacity", 1) == 0 or widget.width <= 1 or widget.height <= 1:
                continue
            yield widget
            stack.extend(widget.children)

    def texts(self) -> list[str]:
        return [str(w.text) for w in self.widgets() if getattr(w, "text", "")]

    def text_shown(self, fragment: str) -> bool:
        return any(fragment in t for t in self.texts())

    def find(self, fragment: str) -> Any:
        from kivy.uix.behaviors import ButtonBehavior

        for widget in self.widgets():
            if not isinstance(widget, ButtonBehavior) or widget.disabled:
                continue
            labels = [widget.text] if hasattr(widget, "text") else [getattr(c, "text", "") for c in widget.children]
            if any(fragment in str(label) for label in labels):
                return widget
        raise AssertionError(f"no button {fragment!r} on {self.screen}: {self.texts()[:40]}")

    def tap(self, fragment: str) -> None:
        """A finger on the button's centre: touch down, touch up, through Kivy's input path."""
        from kivy.tests.common import UnitTestTouch

        widget = self.find(fragment)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(0.03)
        touch.touch_up()
        self.pump(0.05)

    def screenshot(self, name: str) -> Path:
        SCREENS_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENS_DIR / f"kiosk-{name}.png"
        self.pump(0.1)
        manager = self.app.root.ids.sm
        end = time.monotonic() + 3
        while manager.transition.is_active and time.monotonic() < end:  # two screens half drawn
            self.pump(0.05)
        self.app.root.export_to_png(str(path))
        return path
