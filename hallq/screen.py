"""Where and how big the Kivy apps (kiosk, board, terminal) draw their window.

`--size` and `--position` are parsed here once for all three; `configure_window` hands them to Kivy,
which reads them when it creates its window, so it must run before `kivy.core.window` is imported.
`display_size` tells `hallq demo` how much desktop it has to share between the three.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

_SIZE = re.compile(r"(\d{3,5})\s*[xX×]\s*(\d{3,5})")
_POSITION = re.compile(r"(-?\d{1,5})\s*,\s*(-?\d{1,5})")
_DIMENSIONS = re.compile(r"dimensions:\s+(\d+)x(\d+) pixels")


@dataclass(frozen=True)
class WindowGeometry:
    size: tuple[int, int]
    fullscreen: bool
    position: tuple[int, int] | None = None  # top-left corner on the desktop; None: the window manager decides
    resizable: bool = True
    exit_on_escape: bool = False  # a public kiosk or board must not close on a stray Esc key


def fit_factor(size: tuple[int, int], design: tuple[int, int], grow: bool = False) -> float:
    """How much a layout drawn for `design` pixels must shrink to fit a window of `size`; with `grow`,
    also how much it may grow to fill a bigger one (only for layouts whose every size scales with it)."""
    factor = min(size[0] / design[0], size[1] / design[1])
    return factor if grow else min(1.0, factor)


def parse_size(text: object, default: tuple[int, int], minimum: tuple[int, int] = (320, 240)) -> tuple[int, int]:
    """`--size WIDTHxHEIGHT`; ValueError with a sentence when it is not one."""
    if text is None or str(text).strip() == "":
        return default
    match = _SIZE.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. {default[0]}x{default[1]}")
    size = int(match[1]), int(match[2])
    if size[0] < minimum[0] or size[1] < minimum[1]:
        raise ValueError(f"--size {text!r}: at least {minimum[0]}x{minimum[1]}")
    return size


def parse_position(text: object) -> tuple[int, int] | None:
    """`--position X,Y`: the window's top-left corner on the desktop."""
    if text is None or str(text).strip() == "":
        return None
    match = _POSITION.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"--position {text!r}: expected X,Y (the window's top-left corner), e.g. 0,0")
    return int(match[1]), int(match[2])


def add_position_option(group: argparse._ActionsContainer) -> None:
    group.add_argument("--position", help="the window's top-left corner X,Y (with --windowed)")


def configure_window(geometry: WindowGeometry) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy logs through hallq's logging, at its level
    from kivy.config import Config

    width, height = geometry.size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if geometry.fullscreen else "0")
    Config.set("graphics", "resizable", "1" if geometry.resizable and not geometry.fullscreen else "0")
    if geometry.position is not None and not geometry.fullscreen:
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", str(geometry.position[0]))
        Config.set("graphics", "top", str(geometry.position[1]))
    else:
        Config.set("graphics", "position", "auto")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "1" if geometry.exit_on_escape else "0")


def display_size() -> tuple[int, int] | None:
    """The X desktop's size (xdpyinfo), or None where there is no display or no way to ask."""
    tool = shutil.which("xdpyinfo")
    if not os.environ.get("DISPLAY") or tool is None:
        return None
    try:
        out = subprocess.run([tool], capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _DIMENSIONS.search(out)
    return (int(match[1]), int(match[2])) if match else None
