"""The `hallq` command. Subcommands come from entry points (group `hallq.commands`) so the shared
core never imports a device package, and a missing extra gives a clear "install hallq[...]"."""

from __future__ import annotations

import argparse
import logging
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
