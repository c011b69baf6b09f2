"""The kiosk's screens: thin. Each holds properties for its .kv file and forwards taps to the
presenter (`app.presenter`); `present(view)` copies a view (kiosk/views.py) into the properties."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.views import (
    RATING_LEVELS,
    BusyView,
    HomeView,
    MessageView,
    PriorityView,
    RatingView,
    StatusView,
    TicketView,
    Tile,
)
from kiosk.widgets import ServiceTile, Touch, qr_texture


def _presenter() -> Any:
    return App.get_running_app().presenter


class KioskScreen(Screen):
    def present(self, view: Any) -> None:
        raise NotImplementedError


class HomeScreen(KioskScreen):
    citizen = StringProperty("")
    green = StringProperty("")
    offline = StringProperty("")
    banner_text = StringProperty("")
    page = NumericProperty(0)
    pages = NumericProperty(1)
    columns = NumericProperty(2)
    view: HomeView | None = None
    _layout: tuple[Any, ...] = ()

    def present(self, view: HomeView) -> None:
        self.view = view
        self.citizen, self.green, self.offline = view.citizen, view.green, view.offline
        self.page, self.pages = view.page, view.pages
        if view.green:
            self.banner_text = (view.citizen + "\n" if view.citizen else "") + view.green
        elif view.citizen:
            self.banner_text = f"{view.citizen}！身份证已读取，请选择要办理的业务"
        else:
            self.banner_text = "[b]请刷身份证[/b]  或直接点选业务取号"
        self.layout_tiles()

    def layout_tiles(self) -> None:
        """Update the tiles in place when only the counts changed (a refresh must not swallow a tap
        that is half-way through: touch down on an old tile, touch up on its replacement)."""
        if self.view is None:
            return
        app = App.get_running_app()
        if self.view.elderly:
            self.columns = 1 if app.portrait else 4
        else:
            self.columns = 2 if app.portrait else 4
        grid = self.ids.tiles
        existing = [w for w in reversed(grid.children) if not isinstance(w, _Spacer)]
        layout = (tuple(t.code for t in self.view.tiles), self.columns, app.portrait, self.view.elderly)
        if layout == self._layout and len(existing) == len(self.view.tiles):
            for widget, tile in zip(existing, self.view.tiles, strict=True):
                self._fill(widget, tile)
            return
        self._layout = layout
        grid.clear_widgets()
        for tile in self.view.tiles:
            widget = ServiceTile()
            self._fill(widget, tile)
            widget.bind(on_release=lambda w: _presenter().choose_service(w.code))
            grid.add_widget(widget)
        per_page = len(self.view.tiles)
        rows = max(1, -(-per_page // self.columns))
        minimum_rows = (1 if self.view.elderly else 3) if not app.portrait else (4 if self.view.elderly else 6)
        for _ in range(max(rows, minimum_rows) * self.columns - per_page):  # keep tile heights steady
            grid.add_widget(_Spacer())

    @staticmethod
    def _fill(widget: ServiceTile, tile: Tile) -> None:
        widget.code, widget.name, widget.department = tile.code, tile.name, tile.department
        widget.waiting_text = f"等候 {tile.waiting} 人 · {tile.wait}" if tile.open_now else "当前不在办理时间"
        widget.open_now, widget.group = tile.open_now, tile.group


class _Spacer(ServiceTile):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opacity = 0
        self.disabled = True


class PriorityScreen(KioskScreen):
    def present(self, view: PriorityView) -> None:
        grid = self.ids.reasons
        grid.clear_widgets()
        for code, label in view.reasons:
            button = Touch(text=label, base_font=56, bg=(0.09, 0.56, 0.26, 1))
            button.code = code
            button.bind(on_release=lambda b: _presenter().choose_green(b.code))
            grid.add_widget(button)


class BusyScreen(KioskScreen):
    text = StringProperty("")

    def present(self, view: BusyView) -> None:
        self.text = view.text


class TicketScreen(KioskScreen):
    ticket_id = StringProperty("")
    number = StringProperty("")
    service_name = StringProperty("")
    priority_label = StringProperty("")
    note = StringProperty("")
    ahead = NumericProperty(0)
    wait = StringProperty("")
    print_message = StringProperty("")
    printing = BooleanProperty(False)
    printed = BooleanProperty(False)
    qr_texture = ObjectProperty(None, allownone=True)
    _qr_text = ""

    def present(self, view: TicketView) -> None:
        self.ticket_id, self.number, self.service_name = view.ticket_id, view.number, view.service_name
        self.priority_label, self.ahead, self.wait = view.priority_label, view.ahead, view.wait
        self.note = view.note
        self.print_message, self.printing, self.printed = view.print_message, view.printing, view.printed
        if view.qr != self._qr_text:
            self._qr_text = view.qr
            self.qr_texture = qr_texture(view.qr)


class MessageScreen(KioskScreen):
    title = StringProperty("")
    text = StringProperty("")
    kind = StringProperty("info")
    retrying = BooleanProperty(False)
    button = StringProperty("返回首页")

    def present(self, view: MessageView) -> None:
        self.title, self.text, self.kind = view.title, view.text, view.kind
        self.retrying, self.button = view.retrying, view.button


class StatusScreen(KioskScreen):
    entry = StringProperty("")
    result_text = StringProperty("")
    error = StringProperty("")
    busy = BooleanProperty(False)
    can_rejoin = BooleanProperty(False)
    can_rate = BooleanProperty(False)
    _prefixes: tuple[str, ...] = ()

    def present(self, view: StatusView) -> None:
        self.entry, self.error, self.busy, self.can_rejoin = view.entry, view.error, view.busy, view.can_rejoin
        self.can_rate = view.can_rate
        if view.busy:
            self.result_text = "正在查询…"
        elif view.error:
            self.result_text = view.error
        elif view.result:
            r = view.result
            lines = [
                f"[b][size={int(64 * App.get_running_app().scale)}]{r.number}[/size][/b]  {r.service_name}",
                f"[b]{r.status_text}[/b]",
            ]
            if r.status == "waiting":
                wait = r.wait if r.wait == "无需等候" else f"预计等候{r.wait}"
                lines.append(f"前面还有 {r.ahead} 人 · {wait}")
            self.result_text = "\n".join(lines)
        else:
            self.result_text = "请扫码或输入号码，例如 A012"
        if view.prefixes != self._prefixes:
            self._prefixes = view.prefixes
            self._build_keypad()

    def _build_keypad(self) -> None:
        letters, digits = self.ids.letters, self.ids.digits
        letters.clear_widgets()
        digits.clear_widgets()
        for key in self._prefixes:
            letters.add_widget(self._key(key, key, (0.16, 0.42, 0.80, 1)))
        for key in "123456789":
            digits.add_widget(self._key(key, key))
        digits.add_widget(self._key("清空", "clear", (0.55, 0.40, 0.30, 1)))
        digits.add_widget(self._key("0", "0"))
        digits.add_widget(self._key("删除", "back", (0.55, 0.40, 0.30, 1)))

    @staticmethod
    def _key(label: str, key: str, bg: tuple[float, ...] = (0.25, 0.30, 0.38, 1)) -> Touch:
        button = Touch(text=label, bg=bg, radius=10, base_font=44, scaled=False)
        button.key = key
        button.bind(on_release=lambda b: _presenter().status_key(b.key))
        return button


# The levels' colours: green for the good ones, amber for 基本满意, red for a 差评.
LEVEL_COLOURS = {5: (0.09, 0.56, 0.26, 1), 4: (0.20, 0.62, 0.36, 1), 3: (0.80, 0.55, 0.10, 1),
                 2: (0.85, 0.35, 0.20, 1), 1: (0.75, 0.15, 0.15, 1)}  # fmt: skip
UNCHOSEN = (0.62, 0.65, 0.70, 1)


def _rate(action: str, *args: Any) -> None:
    presenter = _presenter()
    presenter.activity()
    getattr(presenter.rating, action)(*args)


class RatingScreen(KioskScreen):
    """好差评: five big level buttons, then the reasons for the chosen level, then 提交评价."""

    subtitle = StringProperty("")
    error = StringProperty("")
    chosen = NumericProperty(0)
    bad = BooleanProperty(False)
    has_reasons = BooleanProperty(False)

    def present(self, view: RatingView) -> None:
        where = f" · {view.window_name}" if view.window_name else ""
        self.subtitle = f"{view.number}  {view.service_name}{where}"
        self.error, self.chosen, self.bad = view.error, view.score or 0, view.is_bad
        self.has_reasons = bool(view.reasons)
        self._levels()
        self._reasons(view)

    def _levels(self) -> None:
        grid = self.ids.levels
        if not grid.children:
            for score, name in RATING_LEVELS:
                button = Touch(text=name, base_font=48, bg=LEVEL_COLOURS[score])
                button.score = score
                button.bind(on_release=lambda b: _rate("choose_level", b.score))
                grid.add_widget(button)
        for button in grid.children:
            chosen = not self.chosen or button.score == self.chosen
            button.bg = LEVEL_COLOURS[button.score] if chosen else UNCHOSEN

    def _reasons(self, view: RatingView) -> None:
        grid = self.ids.reasons
        grid.clear_widgets()
        for reason in view.reasons:
            mark = "● " if reason.selected else ""
            colour = (0.16, 0.42, 0.80, 1) if reason.selected else (0.40, 0.45, 0.52, 1)
            button = Touch(text=mark + reason.label, base_font=32, bg=colour, radius=10)
            button.code = reason.code
            button.bind(on_release=lambda b: _rate("toggle_reason", b.code))
            grid.add_widget(button)
