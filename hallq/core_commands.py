"""Subcommands that need only the shared core: check-config, demo, simulate, bench."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hallq.config import ConfigError, parse_hall_config, read_hall_yaml


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from hallq import demo, demo_network, simulate

    demo.register(sub)
    sub.choices["demo"].set_defaults(func=demo_network.run_demo)  # --network: the city (hallq/demo_network.py)
    simulate.register(sub)
    check = sub.add_parser("check-config", help="validate a hall config file, reporting every error")
    check.add_argument("file")
    check.add_argument(
        "--catalogue",
        help="the city's catalogue for items named by code: a file (YAML, or a hall's catalogue.json copy) "
        "or the hub's URL; default: the config's network.hub",
    )
    check.set_defaults(func=check_config)


def check_config(args: argparse.Namespace) -> int:
    """Every error at once, item codes the catalogue lacks among them."""
    from hallq.catalogue import catalogue_from
    from hallq.config import names_items_by_code

    try:
        raw = read_hall_yaml(args.file)
        catalogue = None
        if args.catalogue or names_items_by_code(raw):
            catalogue = catalogue_from(args.catalogue or _hub_of(raw))
        config = parse_hall_config(raw, args.file, catalogue)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"{args.file}: ok — hall {config.hall.id} ({config.hall.name}), "
        f"{len(config.services)} services, {len(config.windows)} windows"
    )
    return 0


def _hub_of(raw: Any) -> str | None:
    network = raw.get("network") if isinstance(raw, dict) else None
    hub = network.get("hub") if isinstance(network, dict) else None
    return str(hub) if hub else None
