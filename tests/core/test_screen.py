"""Window geometry options shared by the Kivy apps, and how `hallq demo` shares a desktop between them."""

from __future__ import annotations

import pytest

from hallq.demo_layout import TERMINAL_MIN, Placement, demo_layout
from hallq.screen import fit_factor, parse_position, parse_size


def test_size_and_position_parse_or_say_what_is_expected() -> None:
    assert parse_size(None, (1080, 1920)) == (1080, 1920)
    assert parse_size(" 1280×720 ", (1, 1)) == (1280, 720)
    assert parse_position("100, -20") == (100, -20) and parse_position("") is None
    with pytest.raises(ValueError, match="expected WIDTHxHEIGHT"):
        parse_size("big", (1280, 800))
    with pytest.raises(ValueError, match="at least 640x480"):
        parse_size("600x400", (1280, 800), minimum=(640, 480))
    with pytest.raises(ValueError, match="expected X,Y"):
        parse_position("left")


def test_layouts_shrink_but_never_grow() -> None:
    assert fit_factor((1080, 1920), (1080, 1920)) == 1.0
    assert fit_factor((2160, 3840), (1080, 1920)) == 1.0
    assert fit_factor((640, 480), (1280, 800)) == pytest.approx(0.5)
    assert fit_factor((1920, 1080), (1280, 800), grow=True) == pytest.approx(1.35)  # proportional, fits both ways


def _overlap(a: Placement, b: Placement) -> bool:
    ax, ay, bx, by = *a.position, *b.position
    return ax < bx + b.size[0] and bx < ax + a.size[0] and ay < by + b.size[1] and by < ay + a.size[1]


@pytest.mark.parametrize("desktop", [(1920, 1080), (2560, 1440), (2560, 1600), (3840, 2160), None])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_demo_windows_fit_the_desktop_side_by_side(desktop: tuple[int, int] | None, orientation: str) -> None:
    width, height = desktop or (1920, 1080)
    places = demo_layout(desktop, orientation)
    for name, place in places.items():
        assert place.position[0] >= 0 and place.position[1] >= 0, name
        assert place.position[0] + place.size[0] <= width and place.position[1] + place.size[1] <= height, name
    names = list(places)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not _overlap(places[first], places[second]), (first, second)
    kiosk_w, kiosk_h = places["kiosk"].size
    assert abs(kiosk_w / kiosk_h - 9 / 16) < 0.01  # a kiosk stands portrait
    assert places["terminal"].size[0] >= TERMINAL_MIN[0] and places["terminal"].size[1] >= TERMINAL_MIN[1]
    assert places["kiosk"].size_arg == f"{kiosk_w}x{kiosk_h}" and "," in places["board"].position_arg
