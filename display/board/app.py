"""The hall board's Kivy app: draws BoardModel.view() with board.kv and nothing else.

Import this only after Kivy's Config is set (display.cli does it): window size, fullscreen and
KIVY_NO_ARGS must be fixed before kivy.core.window is imported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.stencilview import StencilView
from kivy.uix.widget import Widget

from display.board.feed import BoardFeed, utc_now
from display.board.model import BoardModel, BoardView, ZoneFilter
from display.board.textfit import fit_font
from hallq.device import DeviceSettings
from hallq.fonts import CjkFonts
from hallq.kivy_fit import labels_that_do_not_fit

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).with_name("hall_board.kv")  # not board.kv: App would load that a second time
WEEKDAYS = "一二三四五六日"
ROW_MAX = 74  # a table row is at most this tall (× u), fewer rows do not get bigger letters
MIN_ROW = 50  # … and at least this tall: more rows than fit are shown page by page
PAGE_S = 8.0  # seconds per page
# (row attribute, share of the row's width, font scale) per column, as in hall_board.kv
WINDOW_COLUMNS = (("name", 0.36, 1.0), ("ticket", 0.28, 1.1), ("status", 0.36, 1.0))
WAITING_COLUMNS = (("name", 0.44, 1.0), ("count_text", 0.22, 1.05), ("wait", 0.34, 0.92))


class RecentCallRow(BoxLayout):
    u = NumericProperty(1.0)
    ticket = StringProperty("")
    window_name = StringProperty("")


class WindowTableRow(BoxLayout):
    u = NumericProperty(1.0)
    font = NumericProperty(40.0)
    name = StringProperty("")
    ticket = StringProperty("")
    status = StringProperty("")
    kind = StringProperty("idle")


class WaitingTableRow(BoxLayout):
    u = NumericProperty(1.0)
    font = NumericProperty(40.0)
    name = StringProperty("")
    count = NumericProperty(0)
    count_text = StringProperty("")
    wait = StringProperty("")


class NoticeBar(StencilView):
    """The notice scrolls right to left when it is wider than the bar, and stands centred otherwise."""

    text = StringProperty("")
    font_size = NumericProperty(40.0)
    speed = NumericProperty(160.0)  # pixels per second

    def step(self, dt_s: float) -> None:
        label = self.ids.notice_label
        text_width = label.texture_size[0]
        if text_width <= self.width:
            label.x = self.x + (self.width - text_width) / 2
            return
        label.x -= self.speed * dt_s
        if label.x + text_width < self.x or label.x > self.right:
            label.x = self.right


class BoardScreen(BoxLayout):
    """Holds what the kv file shows; `show(view)` is the only way in."""

    u = NumericProperty(1.0)
    portrait = BooleanProperty(False)
    hall_name = StringProperty("")
    zone_label = StringProperty("")
    clock_text = StringProperty("")
    date_text = StringProperty("")
    banner_text = StringProperty("")
    current_ticket = StringProperty("")
    current_window = StringProperty("")
    flashing = BooleanProperty(False)
    flash_phase = BooleanProperty(True)
    notice_text = StringProperty("")
    view = ObjectProperty(None, allownone=True)
    page = NumericProperty(0)
    windows_page = StringProperty("")  # "2/3" when the windows table pages, else ""
    waiting_page = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._window_rows: list[dict[str, Any]] = []
        self._waiting_rows: list[dict[str, Any]] = []
        super().__init__(**kwargs)

    def on_size(self, *_: Any) -> None:
        base = (1080, 1920) if self.portrait else (1920, 1080)
        self.u = min(self.width / base[0], self.height / base[1])
        self.size_rows()

    def relayout(self) -> None:
        """After the panels got their sizes (or the banner came or went): refit the rows."""
        if self.view is not None:
            self._fill_recent(self.view)
        self.render_tables()
        app = App.get_running_app()
        if isinstance(app, BoardApp):
            app.schedule_capture()  # the screenshot must show the rows as they are now

    def show(self, view: BoardView) -> None:
        previous: BoardView | None = self.view
        self.view = view
        self.hall_name = view.hall_name
        self.zone_label = view.zone_label
        self.banner_text = view.banner
        self.notice_text = view.notice
        self.current_ticket = view.current.ticket if view.current else ""
        self.current_window = view.current.window_name if view.current else ""
        if view.flashing and not (previous and previous.flashing and previous.current == view.current):
            self.flash_phase = True
        self.flashing = view.flashing
        if previous is None or previous.recent != view.recent:
            self._fill_recent(view)
        if previous is None or previous.windows != view.windows:
            self._window_rows = [dict(name=w.name, ticket=w.ticket, status=w.status, kind=w.kind) for w in view.windows]
        if previous is None or previous.waiting != view.waiting:
            self._waiting_rows = [
                dict(name=w.name, count=w.count, count_text=f"{w.count}人", wait=w.wait) for w in view.waiting
            ]
        self.render_tables()

    def render_tables(self) -> None:
        """Fill both tables with the rows of the current page (a table pages rather than shrink its
        type below MIN_ROW), then size the rows."""
        if "windows_box" not in self.ids:
            return
        self.windows_page = self._render_page(self.ids.windows_box, WindowTableRow, self._window_rows)
        self.waiting_page = self._render_page(self.ids.waiting_box, WaitingTableRow, self._waiting_rows)
        self.size_rows()

    def next_page(self) -> bool:
        """Turn both tables to their next page; True if any table has more than one."""
        if not (self.windows_page or self.waiting_page):
            return False
        self.page += 1
        self.render_tables()
        return True

    def _render_page(self, box: Any, kind: type[Widget], rows: list[dict[str, Any]]) -> str:
        capacity = max(1, int(box.height // (MIN_ROW * self.u))) if box.height > 1 else max(1, len(rows))
        pages = max(1, -(-len(rows) // capacity))
        start = (self.page % pages) * capacity
        self._sync_rows(box, kind, rows[start : start + capacity])
        return f"{self.page % pages + 1}/{pages}" if pages > 1 else ""

    def _recent_row_height(self) -> float:
        return (76 if self.portrait else 82) * self.u

    def _fill_recent(self, view: BoardView) -> None:
        """As many of the last calls as fit the panel (never a row cut in half)."""
        grid = self.ids.recent_grid
        per_column = max(1, int(grid.height // self._recent_row_height())) if grid.height > 1 else 3
        rows = [dict(ticket=c.ticket, window_name=c.window_name) for c in view.recent[: per_column * grid.cols]]
        self._sync_rows(grid, RecentCallRow, rows, filler=False)

    def _sync_rows(self, box: Any, kind: type[Widget], rows: list[dict[str, Any]], filler: bool = True) -> None:
        """Show `rows` in `box`, changing the existing row widgets in place: only cells whose text
        changed are rendered again (new label textures are what makes a redraw slow)."""
        existing = [c for c in reversed(box.children) if isinstance(c, kind)]
        if len(existing) != len(rows):
            box.clear_widgets()
            existing = [kind(u=self.u) for _ in rows]
            for widget in existing:
                box.add_widget(widget)
            if filler:
                box.add_widget(BoxLayout())  # takes the space left below the rows
        for widget, values in zip(existing, rows, strict=True):
            for name, value in values.items():
                setattr(widget, name, value)

    def size_rows(self) -> None:
        """Rows share their table's height, but never grow past ROW_MAX (more rows → smaller type); one
        font size per table, the largest at which every cell of every column fits."""
        if "windows_box" not in self.ids:
            return
        for box, columns in ((self.ids.windows_box, WINDOW_COLUMNS), (self.ids.waiting_box, WAITING_COLUMNS)):
            rows = [c for c in box.children if isinstance(c, WindowTableRow | WaitingTableRow)]
            if not rows:
                continue
            height = min(ROW_MAX * self.u, box.height / len(rows)) if box.height > 1 else ROW_MAX * self.u
            font = min(44 * self.u, height * 0.6)
            for attribute, share, scale in columns:
                width = box.width * share - 10 * self.u
                for row in rows:
                    font = min(font, fit_font(str(getattr(row, attribute)), width, font * scale) / scale)
            for row in rows:
                row.u = self.u
                row.size_hint_y = None
                row.height = height
                row.font = font
        grid = self.ids.recent_grid
        for child in grid.children:
            child.u = self.u
            child.size_hint_y = None
            child.height = self._recent_row_height()


class BoardApp(App):
    title = "hallq 大厅显示屏"

    def __init__(
        self,
        settings: DeviceSettings,
        fonts: CjkFonts,
        portrait: bool,
        zone: ZoneFilter,
        zone_name: str | None,
        flash_s: float = 8.0,
        screenshot: Path | None = None,
        draw_log: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.fonts = fonts
        self.portrait = portrait
        self.screenshot = screenshot
        self.model = BoardModel(hall_name=settings.hall, zone=zone, flash_s=flash_s)
        self.feed = BoardFeed(settings, self.model, post=_on_ui_thread, on_change=self.redraw, zone=zone_name)
        self._tz: dt.tzinfo | None = None
        self._capture_event: Any = None
        self._started_at = time.monotonic()
        self._malformed_seen = 0
        self.screen: BoardScreen | None = None
        self.draw_log = draw_log

    def build(self) -> BoardScreen:
        _quiet_http_logs()
        LabelBase.register(name="HallCJK", fn_regular=self.fonts.regular, fn_bold=self.fonts.bold)
        Builder.load_file(str(KV_FILE))
        Window.clearcolor = (0.035, 0.05, 0.09, 1)
        self.screen = BoardScreen(portrait=self.portrait)
        self.screen.bind(size=lambda *_: self._after_resize())
        return self.screen

    def _relayout(self, _dt: float) -> None:
        if self.screen is not None:
            self.screen.relayout()

    def _after_resize(self) -> None:
        Clock.schedule_once(self._relayout, 0.1)
        self.schedule_capture()

    def on_start(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda _dt: self.stop()))
        self.redraw()
        self.feed.start()
        Clock.schedule_interval(self._tick, 0.5)
        Clock.schedule_interval(self._blink, 0.5)
        Clock.schedule_interval(self._scroll, 1 / 30)
        Clock.schedule_interval(self._turn_page, PAGE_S)

    def on_stop(self) -> None:
        self.feed.stop()

    # ---- drawing -------------------------------------------------------------------------------

    def redraw(self) -> None:
        if self.screen is None:
            return
        now = utc_now()
        previous = self.screen.view
        view = self.model.view(now)
        self._set_clock(now)
        if view != previous:
            changed_at = time.time()
            self.screen.show(view)
            if self.draw_log is not None and view.current != (previous.current if previous else None):
                self._log_when_drawn(view, changed_at)
            if previous is None or previous.banner != view.banner:
                Clock.schedule_once(self._relayout, 0.1)
            self.schedule_capture()
        elif self.model.malformed != self._malformed_seen:
            self.schedule_capture()  # nothing to draw, but the test state file counts them
        self._malformed_seen = self.model.malformed

    def _log_when_drawn(self, view: BoardView, changed_at: float) -> None:
        """After the frame showing this call reached the screen (on_flip), note the time (benchmarks):
        when the model changed, when the widgets were updated, when the frame was flipped."""
        assert self.draw_log is not None
        path, ticket, seq, shown_at = self.draw_log, view.current.ticket if view.current else "", view.seq, time.time()
        received_at = self.feed.last_received_at

        def flipped(*_: Any) -> None:
            Window.funbind("on_flip", flipped)
            entry = {"ticket": ticket, "seq": seq, "received_at": received_at, "changed_at": changed_at}
            entry["shown_at"] = shown_at
            with path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(entry | {"drawn_at": time.time()}) + "\n")

        Window.fbind("on_flip", flipped)

    def _tick(self, _dt: float) -> None:
        self.feed.tick()
        self.redraw()  # the flash ends, the banner comes and goes, the clock moves

    def _turn_page(self, _dt: float) -> None:
        if self.screen is not None and self.screen.next_page():
            self.schedule_capture()

    def _blink(self, _dt: float) -> None:
        if self.screen is not None and self.screen.flashing:
            self.screen.flash_phase = not self.screen.flash_phase

    def _scroll(self, dt_s: float) -> None:
        if self.screen is not None:
            self.screen.ids.notice_bar.step(dt_s)

    def _set_clock(self, now: dt.datetime) -> None:
        assert self.screen is not None
        if self._tz is None and self.feed.hall_timezone:
            self._tz = ZoneInfo(self.feed.hall_timezone)
        local = now.astimezone(self._tz) if self._tz else now.astimezone()
        self.screen.clock_text = local.strftime("%H:%M:%S")
        self.screen.date_text = f"{local.year}年{local.month}月{local.day}日  星期{WEEKDAYS[local.weekday()]}"

    # ---- screenshots for tests and for looking ----------------------------------------------------

    def schedule_capture(self) -> None:
        """Capture once things have settled: 0.4 s after the last change, not before the first layout."""
        if self.screenshot is None:
            return
        if self._capture_event is not None:
            self._capture_event.cancel()
        settle = max(0.5, self._started_at + 2.5 - time.monotonic())
        self._capture_event = Clock.schedule_once(self._capture, settle)

    def _capture(self, _dt: float) -> None:
        """Write the window as PNG (atomically) plus PATH.json: the view it shows."""
        assert self.screenshot is not None and self.screen is not None
        from PIL import Image

        # render the widget tree into an offscreen buffer: reading the window's own buffer after
        # the swap gives black frames under Xvfb
        texture = self.screen.export_as_image().texture
        width, height = texture.size
        image = Image.frombytes("RGBA", (width, height), texture.pixels).convert("RGB")
        target = self.screenshot
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target.with_suffix(".part.png"))
        os.replace(target.with_suffix(".part.png"), target)
        view = self.screen.view
        state = {
            "view": dataclasses.asdict(view) if view else None,
            "flash_phase": self.screen.flash_phase,
            "size": [width, height],
            "malformed": self.model.malformed,
            "regions": {name: self._region(name) for name in ("call_panel", "banner", "windows_box")},
            "pages": {"windows": self.screen.windows_page, "waiting": self.screen.waiting_page},
            "clipped": labels_that_do_not_fit(self.screen),
        }
        partial = target.with_suffix(".part.json")
        partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, target.with_suffix(".json"))

    def _region(self, widget_id: str) -> list[int]:
        """[left, top, width, height] of a widget in screen pixels (top-left origin), for cropping."""
        assert self.screen is not None
        widget = self.screen.ids[widget_id]
        x, y = widget.to_window(widget.x, widget.y)
        return [int(x), int(Window.height - y - widget.height), int(widget.width), int(widget.height)]


def _quiet_http_logs() -> None:
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _on_ui_thread(fn: Any) -> None:
    Clock.schedule_once(lambda _dt: fn())
