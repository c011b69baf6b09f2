"""The submission flow's screens: thin, one .kv each (kiosk/submission/kv/). `present(view)` copies a
view into properties; taps go to `app.submission` (the SubmissionPresenter)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.screens import KioskScreen
from kiosk.submission import widgets  # noqa: F401  (registers SignaturePad, SubTitle, SubText for the kv files)
from kiosk.submission.views import (
    CardView,
    ConfirmView,
    HandbookView,
    ItemView,
    LockerView,
    MaterialView,
    PhoneView,
    ReceiptView,
    SignView,
    SubMessageView,
)
from kiosk.widgets import Touch, qr_texture

KV_DIR = Path(__file__).with_name("kv")
BLUE, GREEN, GREY, RED = (0.16, 0.42, 0.80, 1), (0.09, 0.56, 0.26, 1), (0.42, 0.46, 0.52, 1), (0.75, 0.22, 0.17, 1)


def _flow() -> Any:
    return App.get_running_app().submission


def _act(method: str, *args: Any) -> Callable[[], None]:
    """A tap's action: `method` of the submission presenter with these arguments."""
    return lambda: getattr(_flow(), method)(*args)


def _button(
    text: str, action: Callable[[], None], bg: tuple[float, ...] = BLUE, font: int = 34, **kwargs: Any
) -> Touch:
    button = Touch(text=text, bg=bg, base_font=font, markup=True, **kwargs)
    button.bind(on_release=lambda _b: action())
    return button


def _scale() -> float:
    """The kiosk's type scale now (smaller window, elderly mode): for sizes written into markup."""
    return float(App.get_running_app().scale)


class RescaledScreen(KioskScreen):
    """A screen whose text carries sizes in markup ([size=N]) or builds widgets in Python: shown again
    when the type scale changes, so a tag never ends up bigger than the name it follows."""

    _view: Any = None

    def on_kv_post(self, base_widget: Any) -> None:
        App.get_running_app().bind(scale=self._rescaled)

    def _rescaled(self, *_: Any) -> None:
        if self._view is not None:
            self.show(self._view)

    def present(self, view: Any) -> None:
        self._view = view
        self.show(view)

    def show(self, view: Any) -> None:
        raise NotImplementedError


class HandbookScreen(RescaledScreen):
    def show(self, view: HandbookView) -> None:
        grid = self.ids.groups
        grid.clear_widgets()
        from kivy.uix.label import Label

        scale = _scale()
        for group in view.groups:
            title = Label(
                text=f"[b]{group.name}[/b]  [size={round(26 * scale)}][color=5f6b7a]{group.department}[/color][/size]",
                markup=True,
                color=(0.08, 0.27, 0.55, 1),
                font_size=36 * scale,
                size_hint_y=None,
                height=64 * scale,
                halign="left",
                valign="bottom",
            )
            title.bind(size=lambda w, s: setattr(w, "text_size", s))
            grid.add_widget(title)
            for entry in group.items:
                # the item's name (base 32) stays bigger than its kind tag (即办件 / 承诺件, 0.75 of it)
                grid.add_widget(
                    _button(
                        f"{entry.name}  [size={round(24 * scale)}]{entry.kind_label}[/size]",
                        _act("choose_item", entry.code),
                        font=32,
                        size_hint_y=None,
                        height=96 * max(scale, 0.6),
                        radius=12,
                    )
                )


class ItemScreen(RescaledScreen):
    title = StringProperty("")
    facts = StringProperty("")
    materials = StringProperty("")
    notes = StringProperty("")
    ticket_open = BooleanProperty(True)

    def show(self, view: ItemView) -> None:
        self.title = view.name
        self.facts = f"{view.service_name} · [b]{view.kind_label}[/b] · {view.promise}\n收费：{view.fee}"
        lines = []
        for i, m in enumerate(view.materials, start=1):
            defer = "  [color=178f42][b]可容缺[/b][/color]" if m.deferrable else ""
            lines.append(f"{i}. {m.name}（{m.form} {m.copies} 份）{defer}")
        if any(m.deferrable for m in view.materials):
            lines.append(
                f"[size={round(26 * _scale())}][color=5f6b7a]可容缺：暂缺时可先签署承诺，"
                f"{view.defer_days}个工作日内补交[/color][/size]"
            )
        self.materials = "\n".join(lines)
        self.notes = f"[b]办理条件[/b]：{view.conditions or '无'}\n[b]设定依据[/b]：{view.legal_basis or '—'}"
        self.ticket_open = view.ticket_open


class CardScreen(KioskScreen):
    item_name = StringProperty("")
    error = StringProperty("")

    def present(self, view: CardView) -> None:
        self.item_name, self.error = view.item_name, view.error


class PhoneScreen(KioskScreen):
    item_name = StringProperty("")
    greeting = StringProperty("")
    entry = StringProperty("")
    error = StringProperty("")
    _built = False

    def present(self, view: PhoneView) -> None:
        self.item_name, self.entry, self.error = view.item_name, view.entry, view.error
        self.greeting = f"{view.masked_name}，您好"
        if not self._built:
            self._built = True
            pad = self.ids.keypad
            for key in "123456789":
                pad.add_widget(_button(key, _act("phone_key", key), BLUE, 48, scaled=False, radius=10))
            pad.add_widget(_button("清空", _act("phone_key", "clear"), GREY, 36, scaled=False, radius=10))
            pad.add_widget(_button("0", _act("phone_key", "0"), BLUE, 48, scaled=False, radius=10))
            pad.add_widget(_button("删除", _act("phone_key", "back"), GREY, 36, scaled=False, radius=10))


class MaterialScreen(KioskScreen):
    progress = StringProperty("")
    name_text = StringProperty("")
    detail = StringProperty("")
    pages_text = StringProperty("")
    hint = StringProperty("")
    error = StringProperty("")
    note = StringProperty("")
    status = StringProperty("missing")
    can_request = BooleanProperty(True)
    deferrable = BooleanProperty(False)
    uploading = BooleanProperty(False)
    first = BooleanProperty(True)
    preview_texture = ObjectProperty(None, allownone=True)
    preview_note = StringProperty("")
    _preview: bytes = b""

    def present(self, view: MaterialView) -> None:
        what = "补正材料" if view.correction else "申报材料"
        self.progress = f"{view.item_name} · {what} 第 {view.index + 1} / {view.count} 项"
        self.name_text = view.name
        self.detail = f"{view.form} {view.copies} 份" + ("  ·  可容缺" if view.deferrable else "")
        if view.uploading:
            self.pages_text = f"正在上传… 已收 {view.pages} 页"
        elif view.status == "provided":
            self.pages_text = f"已扫描 {view.pages} 页  ✓"
        elif view.status == "deferred":
            self.pages_text = "已签署容缺承诺  ✓"
        else:
            self.pages_text = "尚未扫描"
        self.hint, self.error, self.note = view.hint, view.error, view.note
        self.status, self.can_request, self.deferrable = view.status, view.can_request, view.deferrable
        self.uploading, self.first = view.uploading, view.index == 0
        self.preview_note = "最近一页为 PDF 文件，已收到" if view.preview_pdf else ""
        if view.preview != self._preview:
            self._preview = view.preview
            self.preview_texture = _picture(view.preview) if view.preview else None


def _picture(data: bytes) -> Any:
    """A scanned JPEG/PNG as a texture; a picture Kivy cannot read shows nothing (it was uploaded anyway)."""
    import io

    from kivy.core.image import Image as CoreImage

    try:
        return CoreImage(io.BytesIO(data), ext="png" if data.startswith(b"\x89PNG") else "jpg").texture
    except Exception:
        return None


class SignScreen(KioskScreen):
    material_name = StringProperty("")
    promise = StringProperty("")
    error = StringProperty("")

    def present(self, view: SignView) -> None:
        if view.material_name != self.material_name or not view.error:
            self.ids.pad.clear()
        self.material_name, self.promise, self.error = view.material_name, view.promise, view.error

    def sign(self) -> None:
        pad = self.ids.pad
        _flow().sign_done([list(s) for s in pad.strokes], (pad.width, pad.height))


class LockerScreen(KioskScreen):
    state = StringProperty("offer")
    slot = StringProperty("")
    text = StringProperty("")
    demo = BooleanProperty(False)

    def present(self, view: LockerView) -> None:
        self.state, self.slot, self.text, self.demo = view.state, view.slot, view.text, view.demo


class ConfirmScreen(KioskScreen):
    heading = StringProperty("")
    summary = StringProperty("")
    lines = StringProperty("")
    correction = BooleanProperty(False)

    def present(self, view: ConfirmView) -> None:
        self.correction = view.correction
        self.heading = "请核对补正材料" if view.correction else "请核对申报信息"
        parts = [f"办理事项：[b]{view.item_name}[/b]", f"申请人：{view.masked_name}"]
        if view.phone:
            parts.append(f"联系电话：{view.phone}")
        if view.locker:
            parts.append(f"纸质原件：已存入 {view.locker} 号柜")
        self.summary = "\n".join(parts)
        self.lines = "\n".join(
            f"{'[color=178f42]✓[/color]' if line.ok else '[color=c0392b]✗[/color]'} {line.name}：[b]{line.state}[/b]"
            for line in view.lines
        )


class ReceiptScreen(KioskScreen):
    title = StringProperty("")
    receipt_no = StringProperty("")
    body = StringProperty("")
    print_message = StringProperty("")
    printing = BooleanProperty(True)
    printed = BooleanProperty(False)
    qr_texture = ObjectProperty(None, allownone=True)
    _qr = ""

    def present(self, view: ReceiptView) -> None:
        self.title, self.receipt_no = view.title, view.receipt_no
        lines = [f"办理事项：{view.item_name}", f"申请人：{view.masked_name}"]
        if view.received:
            lines.append("已收材料：" + "、".join(view.received))
        if view.deferred:
            lines.append("[color=b35c00]容缺材料（请按期补交）：" + "、".join(view.deferred) + "[/color]")
        lines.extend(view.deadlines)
        self.body = "\n".join(lines)
        self.print_message, self.printing, self.printed = view.print_message, view.printing, view.printed
        if view.qr != self._qr:
            self._qr = view.qr
            self.qr_texture = qr_texture(view.qr) if view.qr else None


class SubMessageScreen(KioskScreen):
    title = StringProperty("")
    text = StringProperty("")
    kind = StringProperty("info")
    buttons = NumericProperty(1)

    def present(self, view: SubMessageView) -> None:
        self.title, self.text, self.kind = view.title, view.text, view.kind
        row = self.ids.actions
        row.clear_widgets()
        for i, (label, name) in enumerate(view.actions):
            bg = GREEN if i == 0 and view.kind in ("question", "info") else (RED if name == "abandon" else BLUE)
            row.add_widget(_button(label, _act("action", name), bg, 40))
        self.buttons = len(view.actions)


# view class → (screen name, screen class, kv file): added to kiosk/app.py's SCREENS
SUBMISSION_SCREENS: dict[type, tuple[str, type[KioskScreen], str]] = {
    HandbookView: ("sub_handbook", HandbookScreen, str(KV_DIR / "handbook.kv")),
    ItemView: ("sub_item", ItemScreen, str(KV_DIR / "item.kv")),
    CardView: ("sub_card", CardScreen, str(KV_DIR / "card.kv")),
    PhoneView: ("sub_phone", PhoneScreen, str(KV_DIR / "phone.kv")),
    MaterialView: ("sub_material", MaterialScreen, str(KV_DIR / "material.kv")),
    SignView: ("sub_sign", SignScreen, str(KV_DIR / "sign.kv")),
    LockerView: ("sub_locker", LockerScreen, str(KV_DIR / "locker.kv")),
    ConfirmView: ("sub_confirm", ConfirmScreen, str(KV_DIR / "confirm.kv")),
    ReceiptView: ("sub_receipt", ReceiptScreen, str(KV_DIR / "receipt.kv")),
    SubMessageView: ("sub_message", SubMessageScreen, str(KV_DIR / "message.kv")),
}
