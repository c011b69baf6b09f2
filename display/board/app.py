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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.stencilview import StencilView
from kivy.uix.widget import Widget

from display.board.feed import BoardFeed, utc_now
from display.board.model import BoardModel, BoardView, ZoneFilter
from display.board.textfit import Legibility, legible_font, text_ems
from hallq.device import DeviceSettings
from hallq.fonts import CjkFonts
from hallq.kivy_fit import labels_that_do_not_fit

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).with_name("hall_board.kv")  # not board.kv: App would load that a second time
WEEKDAYS = "一二三四五六日"
LINE_SPACING = 1.2  # a row (a line of a panel) is this many times its biggest font tall
PAGE_S = 8.0  # seconds per page
# (row attribute, heading) per column, as in hall_board.kv
WINDOW_COLUMNS = (("name", "窗口"), ("ticket", "号码"), ("status", "状态"))
WAITING_COLUMNS = (("name", "业务"), ("count_text", "等候"), ("wait", "预计等候"))
CELL_GAP = 10  # × u between columns
PANEL_PAD = 22  # × u, a table panel's padding and the gap between the panels


class RecentCallRow(BoxLayout):
    u = NumericProperty(1.0)
    char_px = NumericProperty(0.0)
    ticket = StringProperty("")
    window_name = StringProperty("")


class WindowTableRow(BoxLayout):
    u = NumericProperty(1.0)
    fonts = ListProperty([40.0, 40.0, 40.0])
    shares = ListProperty([0.36, 0.28, 0.36])
    name = StringProperty("")
    ticket = StringProperty("")
    status = StringProperty("")
    kind = StringProperty("idle")


class WaitingTableRow(BoxLayout):
    u = NumericProperty(1.0)
    fonts = ListProperty([40.0, 40.0, 40.0])
    shares = ListProperty([0.44, 0.22, 0.34])
    name = StringProperty("")
    count = NumericProperty(0)
    count_text = StringProperty("")
    wait = StringProperty("")


@dataclass(frozen=True)
class TablePlan:
    """One table's type: a font per column (none below the rule), the columns' shares of the width."""

    fonts: tuple[float, float, float]
    shares: tuple[float, float, float]
    width: float  # what the table needs to show every cell uncut, padding included

    @property
    def row_height(self) -> float:
        return max(self.fonts) * LINE_SPACING

    @classmethod
    def for_rows(
        cls, rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...], char_px: float, u: float
    ) -> TablePlan:
        fonts: list[float] = []
        needs: list[float] = []
        for attribute, heading in columns:
            texts = [heading] + [str(row[attribute]) for row in rows]
            font = max(max(legible_font(text, char_px) for text in texts), 36 * u)
            fonts.append(font)
            needs.append(max(text_ems(text) for text in texts) * font * 1.04 + CELL_GAP * u)
        total = sum(needs)
        shares = tuple(need / total for need in needs)
        return cls((fonts[0], fonts[1], fonts[2]), (shares[0], shares[1], shares[2]), total + 2 * PANEL_PAD * u)


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
    char_px = NumericProperty(0.0)  # the smallest character height the rule allows, in pixels
    latin_font = NumericProperty(0.0)  # the smallest legible font for text with Latin letters or digits
    line_h = NumericProperty(0.0)  # a line of legible text: that font × LINE_SPACING
    legibility = ObjectProperty(Legibility())
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
    single_table = BooleanProperty(False)  # the two tables take turns: both do not fit at a legible size
    shown_table = StringProperty("both")  # both | windows | waiting
    windows_fonts = ListProperty([40.0, 40.0, 40.0])
    windows_shares = ListProperty([0.36, 0.28, 0.36])
    waiting_fonts = ListProperty([40.0, 40.0, 40.0])
    waiting_shares = ListProperty([0.44, 0.22, 0.34])

    def __init__(self, **kwargs: Any) -> None:
        self._window_rows: list[dict[str, Any]] = []
        self._waiting_rows: list[dict[str, Any]] = []
        self._rendering = False
        self._panels: dict[str, Widget] = {}
        self._boxes: dict[str, Widget] = {}
        super().__init__(**kwargs)
        # ids are weak references: a panel taken off the screen would be gone without these
        self._panels = {name: self.ids[f"{name}_panel"].__self__ for name in ("windows", "waiting")}
        self._boxes = {name: self.ids[f"{name}_box"].__self__ for name in ("windows", "waiting")}

    def on_size(self, *_: Any) -> None:
        base = (1080, 1920) if self.portrait else (1920, 1080)
        self.u = min(self.width / base[0], self.height / base[1])
        self.char_px = self.legibility.char_px(self.size)
        self.latin_font = legible_font("A", self.char_px)
        self.line_h = self.latin_font * LINE_SPACING
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
        if previous is None or len(previous.windows) != len(view.windows) or len(previous.waiting) != len(view.waiting):
            self.page = 0  # another hall (or zone): start from its first page
        if previous is None or previous.windows != view.windows:
            self._window_rows = [dict(name=w.name, ticket=w.ticket, status=w.status, kind=w.kind) for w in view.windows]
        if previous is None or previous.waiting != view.waiting:
            self._waiting_rows = [
                dict(name=w.name, count=w.count, count_text=f"{w.count}人", wait=w.wait) for w in view.waiting
            ]
        self.render_tables()

    def render_tables(self) -> None:
        """Type for both tables from the rule; both side by side where they fit, else one at a time;
        each table shows the rows of its current page (a table pages rather than shrink its type)."""
        if not self._boxes or self._rendering:
            return
        self._rendering = True  # adding and removing panels resizes them, which calls back here
        try:
            windows = TablePlan.for_rows(self._window_rows, WINDOW_COLUMNS, self.char_px, self.u)
            waiting = TablePlan.for_rows(self._waiting_rows, WAITING_COLUMNS, self.char_px, self.u)
            self.windows_fonts, self.windows_shares = list(windows.fonts), list(windows.shares)
            self.waiting_fonts, self.waiting_shares = list(waiting.fonts), list(waiting.shares)
            area = self.ids.tables_area
            self.single_table = windows.width + waiting.width + PANEL_PAD * self.u > area.width > 1
            self._render_pages(windows, waiting)
            self.size_rows()
        finally:
            self._rendering = False

    def _render_pages(self, windows: TablePlan, waiting: TablePlan) -> None:
        box = self._boxes["windows"]
        window_pages = self._pages(box.height, windows.row_height, len(self._window_rows))
        waiting_pages = self._pages(box.height, waiting.row_height, len(self._waiting_rows))
        if self.single_table:  # the windows' pages, then the services' pages
            turn = self.page % (window_pages[0] + waiting_pages[0])
            shown = "windows" if turn < window_pages[0] else "waiting"
            window_page, waiting_page = turn, turn - window_pages[0]
        else:
            shown, window_page, waiting_page = "both", self.page, self.page
        self._show_panels(shown)
        self.windows_page = self._render_page(box, WindowTableRow, self._window_rows, window_pages, window_page)
        self.waiting_page = self._render_page(
            self._boxes["waiting"], WaitingTableRow, self._waiting_rows, waiting_pages, waiting_page
        )

    @staticmethod
    def _pages(height: float, row_height: float, rows: int) -> tuple[int, int]:
        """(pages, rows per page) for a table of `rows` rows in `height` pixels."""
        capacity = max(1, int(height // row_height)) if height > 1 else max(1, rows)
        return max(1, -(-rows // capacity)), capacity

    def _show_panels(self, shown: str) -> None:
        if shown == self.shown_table:
            return
        self.shown_table = shown
        area = self.ids.tables_area
        area.clear_widgets()
        for name in ("windows", "waiting"):
            if shown in ("both", name):
                area.add_widget(self._panels[name], index=0)  # index 0: after what is already there

    def next_page(self) -> bool:
        """Turn the tables to their next page; True if anything changed on screen."""
        if not (self.windows_page or self.waiting_page or self.single_table):
            return False
        self.page += 1
        self.render_tables()
        return True

    def _render_page(
        self, box: Any, kind: type[Widget], rows: list[dict[str, Any]], pages: tuple[int, int], page: int
    ) -> str:
        count, capacity = pages
        start = (page % count) * capacity
        self._sync_rows(box, kind, rows[start : start + capacity])
        return f"{page % count + 1}/{count}" if count > 1 else ""

    def _recent_row_height(self) -> float:
        return max((76 if self.portrait else 82) * self.u, self.line_h)

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
        """Every row of a table as tall as its plan says, with its plan's fonts and column shares."""
        if not self._boxes:
            return
        tables = (
            (self._boxes["windows"], self.windows_fonts, self.windows_shares),
            (self._boxes["waiting"], self.waiting_fonts, self.waiting_shares),
        )
        for box, fonts, shares in tables:
            height = max(fonts) * LINE_SPACING
            for row in box.children:
                if isinstance(row, WindowTableRow | WaitingTableRow):
                    row.u, row.fonts, row.shares = self.u, list(fonts), list(shares)
                    row.size_hint_y, row.height = None, height
        for child in self.ids.recent_grid.children:
            child.u = self.u
            child.char_px = self.char_px
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
        legibility: Legibility | None = None,
        screenshot: Path | None = None,
        draw_log: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.fonts = fonts
        self.portrait = portrait
        self.legibility = legibility or Legibility()
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
        self.screen = BoardScreen(portrait=self.portrait, legibility=self.legibility)
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
        self.screen.clock_text = local.strftime("%H:%M")
        self.screen.date_text = f"{local.month}月{local.day}日 星期{WEEKDAYS[local.weekday()]}"

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
            "pages": {
                "windows": self.screen.windows_page,
                "waiting": self.screen.waiting_page,
                "shown": self.screen.shown_table,
            },
            "clipped": labels_that_do_not_fit(self.screen),
            "char_px": self.screen.char_px,
            "labels": self._labels(),
        }
        partial = target.with_suffix(".part.json")
        partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, target.with_suffix(".json"))

    def _labels(self) -> list[dict[str, Any]]:
        """Every label on screen with text: its text, font size and [left, top, width, height] (top-left
        origin), so a test can measure the characters' height in the screenshot."""
        from kivy.uix.label import Label

        assert self.screen is not None
        labels = []
        for widget in self.screen.walk():
            if isinstance(widget, Label) and widget.text.strip() and widget.get_root_window() is not None:
                x, y = widget.to_window(widget.x, widget.y)
                box = [int(x), int(Window.height - y - widget.height), int(widget.width), int(widget.height)]
                labels.append({"text": widget.text, "font_size": float(widget.font_size), "box": box})
        return labels

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
