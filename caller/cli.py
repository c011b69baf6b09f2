"""`hallq terminal` and `hallq keypad-bridge` (entry points in group `hallq.commands`).

Heavy imports (Kivy, paho, the hardware drivers) stay inside `run_*`, so `hallq --help` works on a
PC without the kiosk extra and a missing extra is a clear sentence, not a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from hallq.config import ConfigError
from hallq.device import add_device_options, device_settings
from hallq.screen import add_position_option, parse_position, parse_size

log = logging.getLogger(__name__)
DEMO_BRIDGE_DEVICE = "demo-device"
# the terminal's own settings, on the command line, in HALLQ_* variables or in its device file
TERMINAL_KEYS = ("window", "windowed", "size", "position", "rating", "speak_rating", "audio_device")


def register_terminal(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "terminal",
        help="the clerk's window terminal (Kivy): log in, call next, recall, transfer, pause …",
        description="The clerk's window terminal. Keys: F1 call next, F2 recall, F3 no-show, F4 finish, "
        "F5 transfer, F6 pause/resume, F7 call a number (特呼), F8 park / call back, F9 quick serve, "
        "Esc close / cancel, Ctrl+Q log out.",
    )
    parser.add_argument("--window", help="the window this terminal serves, e.g. 3 (required)")
    parser.add_argument("--windowed", action="store_true", default=None, help="a window instead of full screen")
    parser.add_argument("--size", help="window size WIDTHxHEIGHT (default 1280x800)")
    add_position_option(parser)
    parser.add_argument(
        "--no-rating",
        dest="rating",
        action="store_false",
        default=None,
        help="do not ask the citizen for a rating (好差评) after finish",
    )
    parser.add_argument(
        "--speak-rating",
        dest="speak_rating",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="speak on the citizen's rating screen (the question, the level touched, the thanks) through "
        "the PC's sound card; default on (silent without a sound card)",
    )
    parser.add_argument("--audio-device", help="the sound card for --speak-rating (aplay -D), e.g. plughw:1,0")
    parser.add_argument("--screenshot", help="save a screenshot to this PNG once up (MQTT linked or 10 s), then exit")
    add_device_options(parser)
    parser.set_defaults(func=run_terminal)


def run_terminal(args: argparse.Namespace) -> int:
    try:
        settings = device_settings(args, "terminal", extra_keys=TERMINAL_KEYS)
        window = _window(settings.extra.get("window"))
        size = parse_size(settings.extra.get("size"), (1280, 800), minimum=(640, 480))
        position = parse_position(settings.extra.get("position"))
    except (ConfigError, ValueError) as exc:
        print(f"hallq terminal: {exc}", file=sys.stderr)
        return 2
    try:
        import kivy  # noqa: F401
    except ImportError:
        print("hallq terminal needs Kivy: pip install 'hallq[kiosk]'", file=sys.stderr)
        return 2
    from caller.terminal.runtime import TerminalOptions
    from caller.terminal.runtime import run_terminal as run

    options = TerminalOptions(
        window=window,
        windowed=_flag(settings.extra.get("windowed")),
        size=size,
        position=position,
        rating=_flag(settings.extra.get("rating"), default=True),
        speak_rating=_flag(settings.extra.get("speak_rating"), default=True),
        audio_device=str(settings.extra["audio_device"]) if settings.extra.get("audio_device") else None,
        screenshot=Path(args.screenshot) if args.screenshot else None,
    )
    return run(settings, options)


def register_keypad_bridge(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "keypad-bridge",
        conflict_handler="resolve",
        help="caller keypads on RS-485 → the windows' MQTT command topics, replies on their displays",
        description="Bridges hardware caller keypads to the dispatcher. Pair keypads with windows in order: "
        "--keypad URL --window 3 [--keypad URL2 --window 4 …], or use --keypads FILE (YAML) mapping "
        "keypad addresses on one RS-485 bus to windows.",
    )
    parser.add_argument("--window", action="append", dest="windows", help="window for the --keypad before it")
    parser.add_argument("--keypads", help="YAML file: {bus: URL, keypads: [{address: 1, window: '3'}, …]}")
    parser.add_argument("--reply-timeout", type=float, help="seconds to wait for the dispatcher (default 5)")
    parser.add_argument(
        "--command-token",
        choices=("auto", "yes", "no"),
        help="put the device token in each command (auto: only to a broker on this machine)",
    )
    add_device_options(parser)
    # the device options' --keypad, repeatable here: one per window
    parser.add_argument("--keypad", action="append", help="keypad URL (serial://…, sim:…); repeat with --window")
    parser.set_defaults(func=run_keypad_bridge)


def run_keypad_bridge(args: argparse.Namespace) -> int:
    from caller.keypad_bridge import BridgeConfigError, bridge_plan, run_bridge

    keypads = args.keypad or []
    args.keypad = None  # the settings model holds one URL; the plan holds them all
    if args.demo and not args.device and not os.environ.get("HALLQ_DEVICE"):
        args.device = DEMO_BRIDGE_DEVICE  # the demo token belongs to this device id
    try:
        extra_keys = ("keypads", "reply_timeout", "command_token", "window")
        settings = device_settings(args, "keypad-bridge", extra_keys=extra_keys)
        windows = list(args.windows or [])
        if not keypads and settings.keypad:  # one keypad from the device file or HALLQ_KEYPAD / HALLQ_WINDOW
            keypads = [settings.keypad]
            if not windows and settings.extra.get("window"):
                windows = [str(settings.extra["window"])]
        plan = bridge_plan(keypads, windows, settings.extra.get("keypads"))
    except (ConfigError, BridgeConfigError) as exc:
        print(f"hallq keypad-bridge: {exc}", file=sys.stderr)
        return 2
    timeout = float(settings.extra.get("reply_timeout") or 5.0)
    token_choice = str(settings.extra.get("command_token") or "auto")
    return run_bridge(settings, plan, reply_timeout_s=timeout, command_token=token_choice)


def _window(value: Any) -> str:
    if value is None or not str(value).strip():
        raise ValueError("--window is required (the window this terminal serves, e.g. --window 3)")
    return str(value).strip()


def _flag(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")
