"""The window terminal's Kivy app: screens hold one `view` property and forward presses.

Import this module only after `caller.terminal.runtime.configure_kivy()`: Kivy reads its window
settings when its window is first created.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Keyboard, Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.metrics import Metrics
from kivy.properties import ColorProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from caller.terminal.presenter import Target, TerminalPresenter, TerminalView
from caller.terminal.style import STATE_WORDS
from hallq.fonts import FontMissing, cjk_fonts
from hallq.screen import fit_factor
from hallq.worker import UiWorker

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).parent / "kv"
DESIGN_SIZE = (1280, 800)  # the window the .kv layouts are drawn for
KV_FILES = ("widgets.kv", "login.kv", "work.kv", "rating.kv", "pause.kv", "transfer.kv", "callnumber.kv", "choose.kv")
KEY_NAMES = {code: name for name, code in Keyboard.keycodes.items()}


def kivy_worker(name: str) -> UiWorker:
    """One worker thread whose results come back on Kivy's thread (hallq.worker, as the kiosk's)."""

    def post(action: Callable[[], None]) -> None:
        Clock.schedule_once(lambda _dt: action(), 0)

    def later(delay_s: float, action: Callable[[], None]) -> Callable[[], None]:
        event = Clock.schedule_once(lambda _dt: action(), delay_s)
        return event.cancel  # type: ignore[no-any-return]

    return UiWorker(post, later, workers=1, name=name)


class Badge(Label):
    """A label on a coloured, rounded background (state, 绿色通道, the banner)."""

    color_bg = ColorProperty([0.48, 0.52, 0.58, 1])


class ViewScreen(Screen):
    view = ObjectProperty(TerminalView(), rebind=True)
    presenter = ObjectProperty(None, allownone=True)


class LoginScreen(ViewScreen):
    def submit(self) -> None:
        self.presenter.login(self.ids.user_field.text, self.ids.password_field.text)
        self.ids.password_field.text = ""


class WorkScreen(ViewScreen):
    now = NumericProperty(0.0)

    def press(self, key: str) -> None:
        self.presenter.handle_key(key)

    def logout(self) -> None:
        self.presenter.logout()


class RatingScreen(ViewScreen):
    """The citizen's screen: the level buttons are in rating.kv; the reasons follow the chosen level."""

    _shown: tuple[Any, ...] = ()

    def choose(self, score: int) -> None:
        self.presenter.choose_level(score)

    def submit(self) -> None:
        self.presenter.submit_rating()

    def on_view(self, _screen: Any, view: TerminalView) -> None:
        if "reasons" not in self.ids or view.rating_reasons == self._shown:
            return
        self._shown = view.rating_reasons
        grid = self.ids.reasons
        grid.clear_widgets()
        for reason in view.rating_reasons:
            button = Factory.ReasonButton(text=("√ " if reason.selected else "") + reason.label)
            button.selected = reason.selected
            button.bind(on_release=lambda _b, code=reason.code: self.presenter.toggle_reason(code))
            grid.add_widget(button)


class Dialog(ModalView):
    view = ObjectProperty(TerminalView(), rebind=True)
    presenter = ObjectProperty(None, allownone=True)

    def fill(self, view: TerminalView) -> None:
        """Build the dialog's choices when it opens."""


class PauseDialog(Dialog):
    def choose(self, reason: str) -> None:
        self.presenter.pause(reason)


class CallNumberDialog(Dialog):
    pass


class TransferDialog(Dialog):
    def fill(self, view: TerminalView) -> None:
        for grid, kind in ((self.ids.services, "service"), (self.ids.windows, "window")):
            grid.clear_widgets()
            for target in view.targets:
                if target.kind == kind:
                    grid.add_widget(self._button(target))

    def _button(self, target: Target) -> Any:
        state = self.view.window_states.get(target.id) if target.kind == "window" else None
        label = f"{target.label}（{STATE_WORDS[state]}）" if state in ("paused", "closed") else target.label
        button = Factory.TargetButton(text=label)
        button.bind(on_release=lambda _b: self.presenter.transfer(target))
        return button


class ChooseDialog(Dialog):
    title = StringProperty("")

    def fill(self, view: TerminalView) -> None:
        grid = self.ids.choices
        grid.clear_widgets()
        if view.dialog == "call-back":
            self.title = "回呼挂起的号"
            choices = [(t.number, t.number) for t in view.parked]
            act = self.presenter.call_back
        else:
            self.title = "现场取号：为来到窗口的群众直接取号并办理"
            codes = view.my_services or tuple(view.service_names)
            choices = [(f"{view.service_names.get(c, c)}（{c}）", c) for c in codes]
            act = self.presenter.quick_serve
        for label, value in choices:
            button = Factory.BigButton(text=label, size_hint_y=None, height="64dp", font_size="22sp")
            button.bind(on_release=lambda _b, v=value: act(v))
            grid.add_widget(button)


DIALOGS: dict[str, type[Dialog]] = {
    "pause": PauseDialog,
    "transfer": TransferDialog,
    "call-number": CallNumberDialog,
    "call-back": ChooseDialog,
    "quick-serve": ChooseDialog,
}


class TerminalApp(App):
    """Builds the screens around a presenter; `on_started` lets tests drive it once it runs."""

    title = "hallq 窗口叫号终端"

    def __init__(
        self,
        presenter_factory: Callable[[UiWorker, Callable[[TerminalView], None]], TerminalPresenter],
        start_link: Callable[[TerminalPresenter], Callable[[], None]] | None = None,
        on_started: Callable[[TerminalApp], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.runner = kivy_worker("terminal-http")  # one thread: requests stay in press order
        self.presenter = presenter_factory(self.runner, self._show)
        self._start_link = start_link
        self._stop_link: Callable[[], None] | None = None
        self._on_started = on_started
        self.dialog: Dialog | None = None
        self.dialog_name = ""
        self.screens: dict[str, ViewScreen] = {}

    # --- building -------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        # Every size in the .kv files is in dp/sp for a 1280×800 screen, so the whole layout scales with
        # the density: a smaller window shrinks it, a bigger one (a clerk's 1920×1080 monitor) enlarges
        # it. Set before any widget exists, since kv rules evaluate dp() when they are applied. A density
        # set for a high-DPI screen (KIVY_METRICS_DENSITY) is the unit the design size is measured in.
        density = Metrics.density
        design = (DESIGN_SIZE[0] * density, DESIGN_SIZE[1] * density)
        Metrics.density = density * fit_factor(Window.size, design, grow=True)
        load_style()
        manager = ScreenManager(transition=NoTransition())
        for screen in (LoginScreen(name="login"), WorkScreen(name="work"), RatingScreen(name="rating")):
            screen.presenter = self.presenter
            screen.view = self.presenter.view
            manager.add_widget(screen)
            self.screens[screen.name] = screen
        Window.bind(on_key_down=self._key_down)
        Clock.schedule_interval(self._tick, 1.0)
        self._tick(0)
        return manager

    def on_start(self) -> None:
        if self._start_link is not None:
            self._stop_link = self._start_link(self.presenter)
        if self.presenter.view.username:
            Clock.schedule_once(lambda _dt: self._focus_login(), 0.2)
        if self._on_started is not None:
            self._on_started(self)

    def on_stop(self) -> None:
        if self._stop_link is not None:
            self._stop_link()
        self.runner.shutdown()
        self.presenter.speaker.close()

    # --- showing the presenter's view -----------------------------------------------------
    def _show(self, view: TerminalView) -> None:
        for screen in self.screens.values():
            screen.view = view
        if self.root is not None and self.root.current != view.phase:
            self.root.current = view.phase
            if view.phase == "login":
                self._focus_login()
        self._show_dialog(view)

    def _show_dialog(self, view: TerminalView) -> None:
        wanted = view.dialog if view.phase == "work" else ""
        if wanted != self.dialog_name and self.dialog is not None:
            self.dialog.dismiss(animation=False)
            self.dialog = None
        if wanted and self.dialog is None:
            dialog = DIALOGS[wanted](presenter=self.presenter, view=view)
            dialog.fill(view)
            dialog.open(animation=False)
            self.dialog = dialog
        elif self.dialog is not None:
            self.dialog.view = view
        self.dialog_name = wanted

    def _focus_login(self) -> None:
        screen = self.screens.get("login")
        if screen is not None:
            field = screen.ids.password_field if screen.ids.user_field.text else screen.ids.user_field
            field.focus = True

    def _tick(self, _dt: float) -> None:
        work = self.screens.get("work")
        if work is not None:
            assert isinstance(work, WorkScreen)
            work.now = time.time()

    # --- keyboard ---------------------------------------------------------------------------
    def _key_down(self, _window: Any, key: int, _scancode: int, _codepoint: str, modifiers: list[str]) -> bool:
        name = KEY_NAMES.get(key, "")
        if name == "q" and "ctrl" in modifiers and self.presenter.view.phase != "login":
            self.presenter.logout()
            return True
        return self.presenter.handle_key(name)

    # --- tests and --screenshot -----------------------------------------------------------------
    def screenshot(self, path: str | Path) -> Path:
        """Save the whole window (dialogs included) as exactly `path`."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # draw now: after a buffer swap with nothing changed, the buffer glReadPixels sees is empty
        Window.dispatch("on_draw")
        saved = Window.screenshot(name=str(target))
        if saved is None:
            raise RuntimeError("Kivy could not take a screenshot")
        Path(saved).replace(target)
        return target


def load_style() -> None:
    """The Chinese font as Kivy's default (every Label), then the .kv files once."""
    try:
        fonts = cjk_fonts()
        LabelBase.register(DEFAULT_FONT, fonts.regular, fn_bold=fonts.bold)
    except FontMissing as exc:
        log.error("%s", exc)
        raise
    for name in KV_FILES:
        path = str(KV_DIR / name)
        if path not in Builder.files:
            Builder.load_file(path)
