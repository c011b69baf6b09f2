"""The signature pad: a white box the citizen signs in with a finger. Strokes are kept as point lists
in the pad's own coordinates; kiosk/submission/signature.py turns them into the PNG that is sent."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Line
from kivy.properties import NumericProperty
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView


class SignaturePad(StencilView):
    """Ink stays inside the box (a stencil) and moves with it when the screen turns."""

    ink = NumericProperty(0)  # points drawn, so the kv can enable 确认签名

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strokes: list[list[tuple[float, float]]] = []
        self._lines: dict[Any, Line] = {}
        self.bind(pos=lambda *_a: self._redraw())

    def _redraw(self) -> None:
        self.canvas.clear()
        with self.canvas:
            Color(0.05, 0.08, 0.20, 1)
            for stroke in self.strokes:
                Line(
                    points=[v for x, y in stroke for v in (x + self.x, y + self.y)],
                    width=3.2,
                    cap="round",
                    joint="round",
                )

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return bool(super().on_touch_down(touch))
        touch.grab(self)
        stroke = [self._local(touch.pos)]
        self.strokes.append(stroke)
        with self.canvas:
            Color(0.05, 0.08, 0.20, 1)
            self._lines[touch.uid] = Line(points=list(touch.pos), width=3.2, cap="round", joint="round")
        self.ink += 1
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or touch.uid not in self._lines:
            return bool(super().on_touch_move(touch))
        x, y = touch.pos
        x = min(max(x, self.x), self.right)
        y = min(max(y, self.y), self.top)
        self._lines[touch.uid].points += [x, y]
        self.strokes[-1].append(self._local((x, y)))
        self.ink += 1
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is self:
            touch.ungrab(self)
            self._lines.pop(touch.uid, None)
            return True
        return bool(super().on_touch_up(touch))

    def _local(self, pos: tuple[float, float]) -> tuple[float, float]:
        return (pos[0] - self.x, pos[1] - self.y)

    def clear(self) -> None:
        self.strokes = []
        self._lines.clear()
        self.canvas.clear()
        self.ink = 0


class SubTitle(Label):
    """A screen's heading in the submission flow (looks in kv/message.kv)."""


class SubText(Label):
    """Body text that wraps to its width and grows to its height (looks in kv/message.kv)."""
