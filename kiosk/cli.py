"""`hallq kiosk`: the touchscreen kiosk (entry point in group hallq.commands, extra [kiosk])."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from hallq.config import ConfigError
from hallq.device import add_device_options, device_settings
from hallq.screen import WindowGeometry, add_position_option, configure_window, parse_position, parse_size

log = logging.getLogger(__name__)
EXTRA_KEYS = (
    "orientation", "fullscreen", "size", "position", "idle_timeout", "elderly_age", "speech", "speech_wav",
    "documents", "data_dir",
)  # fmt: skip
SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "kiosk",
        help="the touchscreen ticket kiosk (Kivy)",
        description="The touchscreen kiosk: tickets, ID cards, 绿色通道, status look-up.",
    )
    add_device_options(parser)
    group = parser.add_argument_group("kiosk options")
    group.add_argument("--orientation", choices=("portrait", "landscape"), help="screen layout (default portrait)")
    screen = group.add_mutually_exclusive_group()
    screen.add_argument(
        "--fullscreen",
        dest="fullscreen",
        action="store_const",
        const=True,
        default=None,
        help="fill the screen (default, except in --demo)",
    )
    screen.add_argument(
        "--windowed",
        dest="fullscreen",
        action="store_const",
        const=False,
        help="a window of --size (default in --demo)",
    )
    group.add_argument("--size", help="window size WxH (default 1080x1920 portrait, 1920x1080 landscape)")
    add_position_option(group)
    group.add_argument("--idle-timeout", type=float, help="seconds without a touch before going home (default 30)")
    group.add_argument("--elderly-age", type=int, help="age from which a card gets the 绿色通道 (default 60)")
    group.add_argument(
        "--no-speech",
        dest="speech",
        action="store_const",
        const=False,
        default=None,
        help="do not speak (ticket numbers, elderly mode)",
    )
    group.add_argument("--speech-wav", help="write speech to WAV files in this folder instead of the speaker")
    group.add_argument(
        "--documents", help="document scanner / camera for 24-hour submissions (device URL; default sim: in --demo)"
    )
    group.add_argument("--data-dir", help="the kiosk's own files (default ~/.local/state/hallq/DEVICE)")
    parser.set_defaults(func=run)


class KioskArgsError(ValueError):
    pass


def kiosk_extras(extra: dict[str, Any], demo: bool) -> dict[str, Any]:
    """Validated kiosk options from the merged device settings."""
    orientation = str(extra.get("orientation") or "portrait")
    if orientation not in SIZES:
        raise KioskArgsError(f"--orientation {orientation!r}: choose portrait or landscape")
    try:
        size = parse_size(extra.get("size"), SIZES[orientation])
        position = parse_position(extra.get("position"))
    except ValueError as exc:
        raise KioskArgsError(str(exc)) from None
    fullscreen = extra.get("fullscreen")
    fullscreen = (not demo) if fullscreen is None else str(fullscreen).lower() in ("1", "true", "yes")
    try:
        idle = float(extra.get("idle_timeout") or 30)
        elderly_age = int(extra.get("elderly_age") or 60)
    except (TypeError, ValueError) as exc:
        raise KioskArgsError(f"--idle-timeout / --elderly-age: {exc}") from exc
    if not 5 <= idle <= 3600:
        raise KioskArgsError(f"--idle-timeout {idle:g}: choose between 5 and 3600 seconds")
    if not 50 <= elderly_age <= 100:
        raise KioskArgsError(f"--elderly-age {elderly_age}: choose between 50 and 100")
    speech = extra.get("speech")
    return {
        "orientation": orientation,
        "size": size,
        "position": position,
        "fullscreen": fullscreen,
        "idle_timeout": idle,
        "elderly_age": elderly_age,
        "speech": speech is None or str(speech).lower() in ("1", "true", "yes"),
        "speech_wav": extra.get("speech_wav"),
    }


def run(args: argparse.Namespace) -> int:
    try:
        settings = device_settings(args, "kiosk", EXTRA_KEYS)
        options = kiosk_extras(settings.extra, settings.demo)
    except (ConfigError, KioskArgsError) as exc:
        print(f"hallq kiosk: {exc}", file=sys.stderr)
        return 2
    from kiosk.runtime import KioskSetupError, build_runtime, find_cjk_font

    try:
        fonts = (find_cjk_font(), find_cjk_font(style="Bold"))
        runtime = build_runtime(settings, options)
    except KioskSetupError as exc:
        print(f"hallq kiosk: {exc}", file=sys.stderr)
        return 2
    configure_kivy(
        WindowGeometry(
            options["size"], options["fullscreen"], options["position"], exit_on_escape=not options["fullscreen"]
        ),
        fonts,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per 15 s hall refresh is noise
    from kiosk.app import KioskApp

    log.info("kiosk %s for hall %s, dispatcher %s", settings.device, settings.hall, settings.server)
    KioskApp(runtime).run()
    return 0


def configure_kivy(geometry: WindowGeometry, fonts: tuple[str, str]) -> None:
    """Window and font settings; must run before kivy.core.window is imported."""
    configure_window(geometry)
    from kivy.core.text import LabelBase

    # Every label uses the CJK font: register it under Kivy's default name.
    LabelBase.register(name="Roboto", fn_regular=fonts[0], fn_bold=fonts[1])
