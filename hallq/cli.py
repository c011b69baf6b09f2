"""The `hallq` command. Subcommands come from entry points (group `hallq.commands`) so the shared
core never imports a device package, and a missing extra gives a clear "install hallq[...]"."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points

from hallq import __version__

Register = Callable[[argparse._SubParsersAction], None]  # type: ignore[type-arg]


def _missing_extra(sub: argparse._SubParsersAction, ep: EntryPoint, error: Exception) -> None:  # type: ignore[type-arg]
    extra = ",".join(ep.extras) or "all"
    parser = sub.add_parser(ep.name, help=f"(needs: pip install 'hallq[{extra}]')", add_help=False)
    parser.add_argument("rest", nargs=argparse.REMAINDER)

    def refuse(_: argparse.Namespace) -> int:
        print(f"hallq {ep.name} needs the {extra!r} extra: pip install 'hallq[{extra}]' ({error})", file=sys.stderr)
        return 2

    parser.set_defaults(func=refuse)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq", description="hallq: queue calling for service halls")
    parser.add_argument("--version", action="version", version=f"hallq {__version__}")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from hallq import core_commands

    core_commands.register(sub)
    for ep in sorted(entry_points(group="hallq.commands"), key=lambda e: e.name):
        try:
            register: Register = ep.load()
        except ImportError as exc:
            _missing_extra(sub, ep, exc)
            continue
        register(sub)
    return parser


QUIET_LIBRARIES = ("httpx", "httpcore")  # a line per request (httpcore: per socket step) buries the log


def configure_logging(level_name: str) -> None:
    """One plain-text handler for every process. Kivy must log through it (KIVY_LOG_MODE=PYTHON, set
    before anything imports kivy): in its own mode Kivy puts the root logger at NOTSET, so every
    library's DEBUG lines come through, and adds colour codes when TERM looks like a colour terminal,
    even into a log file."""
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    level = getattr(logging, str(level_name).upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # before an entry point could import kivy
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
