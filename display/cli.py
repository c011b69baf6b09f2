"""`hallq board` and `hallq window-screen`: options, validation, then the app or the bridge.

Heavy imports (Kivy, hardware drivers) happen inside the `run_*` functions, so `hallq --help` works
on a PC without the kiosk extra.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from display.board.textfit import Legibility
from hallq import screen
from hallq.config import ConfigError
from hallq.device import DeviceSettings, add_device_options, device_settings

log = logging.getLogger(__name__)

BOARD_KEYS = (
    "zone", "windows", "services", "orientation", "fullscreen", "size", "position", "screenshot", "flash_seconds",
    "draw_log", "panel_inches", "viewing_distance",
)  # fmt: skip
SCREEN_KEYS = ("windows", "led_map", "show", "size", "position", "screenshot")


def register_board(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("board", help="the hall board (big screen): calls, windows, waiting")
    add_device_options(parser)
    group = parser.add_argument_group("board")
    group.add_argument("--zone", help="show only the windows of this zone (hall config `zone`, e.g. 1F)")
    group.add_argument("--windows", help="show only these windows, e.g. 1,2,3")
    group.add_argument("--services", help="show only these services' waiting counts, e.g. A,B,H")
    group.add_argument("--orientation", choices=("landscape", "portrait"), help="default landscape")
    group.add_argument("--fullscreen", dest="fullscreen", action="store_true", default=None, help="(default)")
    group.add_argument("--windowed", dest="fullscreen", action="store_false", help="a window, for testing")
    group.add_argument("--size", help="window size WxH (default 1920x1080, or 1080x1920 in portrait)")
    screen.add_position_option(group)
    group.add_argument("--flash-seconds", type=float, help="how long a new call flashes (default 8)")
    group.add_argument("--panel-inches", help="the screen's diagonal in inches (default 55): sizes the type")
    group.add_argument(
        "--viewing-distance",
        help="metres from the screen to the back of the waiting area (default 10): every character is at"
        " least 1/250 of it tall (40 mm at 10 m); what does not fit is shown page by page",
    )
    group.add_argument("--screenshot", help="write a PNG (and PATH.json) of the board after every change")
    group.add_argument("--draw-log", help="append a JSON line per new call drawn on screen (benchmarks)")
    parser.set_defaults(func=run_board)


def register_window_screen(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("window-screen", help="drive the LED strips over windows from windows/{window}")
    add_device_options(parser)
    group = parser.add_argument_group("window screen")
    group.add_argument("--windows", help="the windows to follow, e.g. 1,2,3")
    group.add_argument(
        "--led-map",
        help="one LED URL per window: 1=serial:///dev/ttyUSB0?unit=1,2=serial:///dev/ttyUSB0?unit=2 "
        "(otherwise --led for all of them)",
    )
    group.add_argument(
        "--show", action="store_true", default=None, help="also draw the strips in a window (the demo's sim: strips)"
    )
    group.add_argument("--size", help="with --show: the window's size WxH (default 480x720)")
    screen.add_position_option(group)
    group.add_argument("--screenshot", help="with --show: write a PNG of the strips every 2 s")
    parser.set_defaults(func=run_window_screen)


# ---- board ---------------------------------------------------------------------------------------


def parse_list(text: str | None, option: str) -> frozenset[str] | None:
    if text is None or str(text).strip() == "":
        return None
    items = [part.strip() for part in str(text).split(",")]
    if any(not item or any(c in item for c in "/+#") for item in items):
        raise ConfigError(option, [(option, f"a comma-separated list like 1,2,3, not {text!r}")])
    return frozenset(items)


def parse_size(text: str | None, portrait: bool) -> tuple[int, int]:
    try:
        return screen.parse_size(text, (1080, 1920) if portrait else (1920, 1080))
    except ValueError as exc:
        raise ConfigError("--size", [("--size", str(exc))]) from None


def parse_position(text: str | None) -> tuple[int, int] | None:
    try:
        return screen.parse_position(text)
    except ValueError as exc:
        raise ConfigError("--position", [("--position", str(exc))]) from None


def parse_seconds(value: object, option: str, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise ConfigError(option, [(option, f"seconds between 0 and 600, not {value!r}")])
    return seconds


def parse_legibility(inches: object, distance: object) -> Legibility:
    """--panel-inches and --viewing-distance, each checked; every problem reported at once."""
    problems: list[tuple[str, str]] = []
    values: dict[str, float] = {}
    for option, value, low, high, unit in (
        ("--panel-inches", inches, 10.0, 300.0, "inches (the screen's diagonal)"),
        ("--viewing-distance", distance, 1.0, 60.0, "metres"),
    ):
        if value is None or value == "":
            continue
        try:
            number = float(str(value))
        except ValueError:
            number = -1.0
        if not low <= number <= high:
            problems.append((option, f"{low:g} to {high:g} {unit}, not {value!r}"))
        values[option] = number
    if problems:
        raise ConfigError("board", problems)
    default = Legibility()
    return Legibility(
        values.get("--panel-inches", default.panel_inches), values.get("--viewing-distance", default.distance_m)
    )


def run_board(args: argparse.Namespace) -> int:
    try:
        settings = device_settings(args, "board", BOARD_KEYS)
        extra = settings.extra
        portrait = str(extra.get("orientation") or "landscape") == "portrait"
        if str(extra.get("orientation") or "landscape") not in ("landscape", "portrait"):
            raise ConfigError("--orientation", [("--orientation", "landscape or portrait")])
        size = parse_size(extra.get("size"), portrait)
        position = parse_position(extra.get("position"))
        windows = parse_list(extra.get("windows"), "--windows")
        services = parse_list(extra.get("services"), "--services")
        flash_s = parse_seconds(extra.get("flash_seconds"), "--flash-seconds", default=8.0)
        legibility = parse_legibility(extra.get("panel_inches"), extra.get("viewing_distance"))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    from display.board.model import ZoneFilter
    from hallq.fonts import FontMissing, cjk_fonts

    try:
        fonts = cjk_fonts()
    except FontMissing as exc:
        print(f"hallq board: {exc}", file=sys.stderr)
        return 2
    zone_name = extra.get("zone") or None
    zone = ZoneFilter(windows, services, str(zone_name or ""))
    resolve_zone = zone_name if (zone_name and windows is None and services is None) else None
    fullscreen = extra.get("fullscreen")
    fullscreen = fullscreen is not False and not extra.get("screenshot")
    # Without a position the board keeps the desktop's top-left corner, where a hall's screen starts.
    screen.configure_window(
        screen.WindowGeometry(size, fullscreen, position or (0, 0), resizable=False, exit_on_escape=True)
    )
    from display.board.app import BoardApp

    screenshot = Path(extra["screenshot"]) if extra.get("screenshot") else None
    draw_log = Path(extra["draw_log"]) if extra.get("draw_log") else None
    BoardApp(
        settings, fonts, portrait, zone, resolve_zone, flash_s=flash_s, legibility=legibility, screenshot=screenshot,
        draw_log=draw_log,
    ).run()  # fmt: skip
    return 0


# ---- window screen -------------------------------------------------------------------------------


def led_urls(settings: DeviceSettings) -> dict[str, str]:
    """Window → LED URL, from --led-map, or --led for every window of --windows."""
    windows = parse_list(settings.extra.get("windows"), "--windows")
    mapping: dict[str, str] = {}
    raw_map = settings.extra.get("led_map")
    if raw_map:
        for part in str(raw_map).split(","):
            window, sep, url = part.partition("=")
            if not sep or not window.strip() or not url.strip():
                raise ConfigError("--led-map", [("--led-map", f"WINDOW=URL pairs, not {part!r}")])
            mapping[window.strip()] = url.strip()
    if windows:
        missing = sorted(w for w in windows if w not in mapping)
        if missing and not settings.led:
            raise ConfigError("--led", [("--led", f"no LED URL for window(s) {', '.join(missing)}")])
        shared = settings.led or ""
        for position, window in enumerate(sorted(missing, key=_window_order), start=1):
            mapping[window] = _with_unit(shared, window, position) if len(missing) > 1 else shared
    if not mapping:
        raise ConfigError("--windows", [("--windows", "name the windows to follow, e.g. --windows 1,2,3")])
    return mapping


def _window_order(window: str) -> tuple[int, str]:
    return (int(window), "") if window.isdigit() else (1 << 30, window)


def _with_unit(url: str, window: str, position: int) -> str:
    """One --led line for several windows: strip N answers as Modbus unit N (the window's number), unless
    the URL names a unit itself."""
    if "unit=" in url:
        return url
    unit = int(window) if window.isdigit() and 1 <= int(window) <= 247 else position
    return f"{url}{'&' if '?' in url else '?'}unit={unit}"


def run_window_screen(args: argparse.Namespace) -> int:
    try:
        settings = device_settings(args, "window-screen", SCREEN_KEYS)
        urls = led_urls(settings)
        show = settings.extra.get("show") in (True, "1", "true", "yes")
        size = screen.parse_size(settings.extra.get("size"), (480, 720), minimum=(200, 200)) if show else (0, 0)
        position = parse_position(settings.extra.get("position"))
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    if not show:
        from display.window_screen import run_bridge

        return run_bridge(settings, urls)
    return _run_led_panel(settings, urls, size, position, settings.extra.get("screenshot"))


def _run_led_panel(
    settings: DeviceSettings, urls: dict[str, str], size: tuple[int, int], position: tuple[int, int] | None,
    screenshot: str | None,
) -> int:  # fmt: skip
    from hallq.fonts import FontMissing, cjk_fonts
    from hardware.urls import DeviceUrlError

    try:
        fonts = cjk_fonts()
    except FontMissing as exc:
        print(f"hallq window-screen: {exc}", file=sys.stderr)
        return 2
    screen.configure_window(screen.WindowGeometry(size, False, position, resizable=True))
    from display.led_panel import PanelOptions, run_panel

    try:
        return run_panel(settings, urls, fonts, PanelOptions(Path(screenshot) if screenshot else None))
    except DeviceUrlError as exc:
        print(f"hallq window-screen: {exc}", file=sys.stderr)
        return 2
