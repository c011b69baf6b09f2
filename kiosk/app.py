"""The Kivy kiosk app: a frame (header, screens, footer) and a screen per view type.

Screens are registered in `SCREENS` (view class → screen name, screen class, kv file); a later
screen (the 24-hour submission flow, the service handbook) adds one entry and one .kv file.
Everything from other threads (HTTP results, card reads, scans) reaches the UI via Clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from hallq.screen import fit_factor
from kiosk import widgets  # noqa: F401  (registers the widget classes the kv files use)
from kiosk.presenter import KioskPresenter
from kiosk.runtime import KioskRuntime
from kiosk.screens import (
    BusyScreen,
    HomeScreen,
    KioskScreen,
    MessageScreen,
    PriorityScreen,
    RatingScreen,
    StatusScreen,
    TicketScreen,
)
from kiosk.submission.screens import SUBMISSION_SCREENS
from kiosk.submission.setup import build_submission
from kiosk.tasks import ThreadTasks
from kiosk.views import BusyView, HomeView, MessageView, PriorityView, RatingView, StatusView, TicketView

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).with_name("kv")
WEEKDAYS = "一二三四五六日"

# view class → (screen name, screen class, kv file)
SCREENS: dict[type, tuple[str, type[KioskScreen], str]] = {
    HomeView: ("home", HomeScreen, "home.kv"),
    PriorityView: ("priority", PriorityScreen, "priority.kv"),
    BusyView: ("busy", BusyScreen, "message.kv"),
    MessageView: ("message", MessageScreen, "message.kv"),
    TicketView: ("ticket", TicketScreen, "ticket.kv"),
    StatusView: ("status", StatusScreen, "status.kv"),
    RatingView: ("rating", RatingScreen, "rating.kv"),
}
SCREENS.update(SUBMISSION_SCREENS)  # the 24-hour submission flow (kiosk/submission)


def register_screen(view_type: type, name: str, screen: type[KioskScreen], kv_file: str | Path) -> None:
    """Add a screen for a new view type (before the app starts)."""
    SCREENS[view_type] = (name, screen, str(kv_file))


def post(action: Callable[[], None]) -> None:
    """Run `action` on the UI thread at the next frame."""
    Clock.schedule_once(lambda _dt: action(), 0)


def later(delay_s: float, action: Callable[[], None]) -> Callable[[], None]:
    event = Clock.schedule_once(lambda _dt: action(), delay_s)
    return event.cancel  # type: ignore[no-any-return]


class KioskRoot(BoxLayout):
    def on_touch_down(self, touch: Any) -> bool:
        app = App.get_running_app()
        if app.presenter is not None:
            app.presenter.activity()
        return bool(super().on_touch_down(touch))


class KioskApp(App):
    hall_name = StringProperty("政务服务中心")
    clock_text = StringProperty("")
    scale = NumericProperty(1.0)  # screen_factor, times 1.3 in elderly mode
    screen_factor = NumericProperty(1.0)  # the window against the 1080×1920 / 1920×1080 the layouts are drawn for
    portrait = BooleanProperty(True)
    elderly = BooleanProperty(False)
    demo = BooleanProperty(False)
    paper_out = BooleanProperty(False)
    presenter = ObjectProperty(None, allownone=True)
    submission = ObjectProperty(None, allownone=True)

    def __init__(self, runtime: KioskRuntime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
        self.title = "hallq kiosk"
        self.demo = runtime.demo
        self._zone: ZoneInfo | None = None
        self.tasks: ThreadTasks | None = None

    def build(self) -> KioskRoot:
        for kv in ["common.kv", "root.kv", *dict.fromkeys(entry[2] for entry in SCREENS.values())]:
            path = Path(kv) if Path(kv).is_absolute() else KV_DIR / kv
            if str(path) not in Builder.files:
                Builder.load_file(str(path))
        root = KioskRoot()
        manager: ScreenManager = root.ids.sm
        manager.transition = NoTransition()
        for name, screen_class, _kv in SCREENS.values():
            if not manager.has_screen(name):
                manager.add_widget(screen_class(name=name))
        self.tasks = ThreadTasks(post, later)
        self.presenter = KioskPresenter(
            self.runtime.client,
            self.tasks,
            self.show,
            self.runtime.speaker,
            self.runtime.printer,
            self.runtime.options,
            report_status=self.runtime.report_status,
        )
        self.submission = build_submission(self.presenter, self.runtime, self.tasks, post)
        self.presenter.delegate = self.submission
        self.runtime.report_status(dict(self.presenter.device_detail))  # the first "online" carries it
        Window.bind(size=self._window_resized, on_key_down=self._key_down)
        self._window_resized(Window, Window.size)
        return root

    def on_start(self) -> None:
        self._tick(0)
        Clock.schedule_interval(self._tick, 1.0)
        self.runtime.start_devices(
            on_card=lambda card: post(lambda: self.presenter.card_read(card)),
            on_card_error=lambda reason: post(lambda: self.presenter.card_failed(reason)),
            on_scan=lambda text: post(lambda: self.presenter.scanned(text)),
            on_reader_state=lambda state: post(lambda: self.presenter.card_reader_state(state)),
        )
        self.presenter.start()
        self.submission.start()  # an unfinished submission from before a restart is offered

    def on_stop(self) -> None:
        if self.presenter is not None:
            self.presenter.stop()
        if self.submission is not None:
            self.submission.stop()
        self.runtime.close()
        if self.tasks is not None:
            self.tasks.shutdown()

    # -- presenter → screens ----------------------------------------------------------------------
    def show(self, view: Any) -> None:
        name, _cls, _kv = SCREENS[type(view)]
        manager: ScreenManager = self.root.ids.sm
        if isinstance(view, HomeView):
            self.hall_name = view.hall_name
        self.elderly = self.presenter.elderly_mode if self.presenter else False
        self.scale = self.screen_factor * (1.3 if self.elderly else 1.0)
        manager.get_screen(name).present(view)
        manager.current = name

    def _window_resized(self, _window: Any, size: tuple[int, int]) -> None:
        self.portrait = size[1] > size[0]
        design = (1080, 1920) if self.portrait else (1920, 1080)
        self.screen_factor = fit_factor(size, design)
        self.scale = self.screen_factor * (1.3 if self.elderly else 1.0)
        if self.presenter is not None:
            if self.root is not None:
                self.root.ids.sm.get_screen("home").layout_tiles()
            per_page = 12 if self.portrait else 12
            self.presenter.options = self.presenter.options.__class__(
                **{**self.presenter.options.__dict__, "per_page": per_page, "per_page_elderly": 4}
            )

    def _tick(self, _dt: float) -> None:
        hall = self.presenter.hall if self.presenter is not None else None
        zone_name = hall.timezone if hall is not None else self.runtime.timezone
        if self._zone is None or self._zone.key != zone_name:
            self._zone = ZoneInfo(zone_name)
        now = dt.datetime.now(self._zone)
        self.clock_text = f"{now:%Y年%m月%d日} 星期{WEEKDAYS[now.weekday()]} {now:%H:%M}"
        if self.presenter is not None:
            self.presenter.tick()

    # -- demo: simulated card, scan and paper -------------------------------------------------------
    def demo_card(self, age: int) -> None:
        self.runtime.demo_present_card(age)

    def demo_card_error(self) -> None:
        self.runtime.demo_card_error()

    def demo_scan(self) -> None:
        ticket = self.presenter.last_ticket if self.presenter else None
        self.runtime.demo_scan(ticket.status_url if ticket else "A001")

    def demo_toggle_paper(self) -> None:
        self.paper_out = self.runtime.demo_toggle_paper()

    def _key_down(self, _window: Any, key: int, _scancode: int, _text: str | None, _mods: list[str]) -> bool:
        if not self.demo:
            return False
        actions = {
            282: lambda: self.demo_card(76),
            283: lambda: self.demo_card(30),
            284: self.demo_scan,
            285: self.demo_toggle_paper,
            286: self.demo_card_error,
        }  # F1..F5
        if key in actions:
            actions[key]()
            return True
        return False
