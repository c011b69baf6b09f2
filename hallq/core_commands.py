"""Subcommands that need only the shared core: check-config, demo, simulate, bench."""

from __future__ import annotations

import argparse
import sys

from hallq.config import ConfigError, load_hall_config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from hallq import demo, demo_network, simulate

    demo.register(sub)
    sub.choices["demo"].set_defaults(func=demo_network.run_demo)  # --network: the city (hallq/demo_network.py)
    simulate.register(sub)
    check = sub.add_parser("check-config", help="validate a hall config file, reporting every error")
    check.add_argument("file")
    check.set_defaults(func=check_config)


def check_config(args: argparse.Namespace) -> int:
    try:
        config = load_hall_config(args.file)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"{args.file}: ok — hall {config.hall.id} ({config.hall.name}), "
        f"{len(config.services)} services, {len(config.windows)} windows"
    )
    return 0
