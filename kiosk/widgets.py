"""Small Kivy widgets the kiosk's .kv files share (coloured panels, big touch buttons, the QR)."""

from __future__ import annotations

import io

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label


class Panel(BoxLayout):
    """A BoxLayout with a (rounded) background colour."""

    bg = ColorProperty((1, 1, 1, 1))
    radius = NumericProperty(0)


class Touch(ButtonBehavior, Label):
    """A big labelled touch target; darkens while pressed."""

    bg = ColorProperty((0.12, 0.31, 0.61, 1))
    radius = NumericProperty(16)
    enabled = BooleanProperty(True)
    base_font = NumericProperty(40)  # scaled by app.scale (elderly mode) unless `scaled` is False
    scaled = BooleanProperty(True)


class ServiceTile(ButtonBehavior, Panel):
    code = StringProperty("")
    name = StringProperty("")
    department = StringProperty("")
    waiting_text = StringProperty("")
    open_now = BooleanProperty(True)
    group = NumericProperty(0)


def qr_texture(text: str, box: int = 8) -> Texture:
    """A QR code as a Kivy texture (nearest-neighbour scaled so the modules stay sharp)."""
    code = qrcode.QRCode(border=2, box_size=box, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="png")
    buffer.seek(0)
    texture: Texture = CoreImage(buffer, ext="png").texture
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture
