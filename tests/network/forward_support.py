"""What the catalogue and 转报 tests share: publishing a catalogue at a real hub, halls that name
their items by code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from hallq.config import example_config_path
from tests.support.hub import Hub


def import_catalogue(hub: Hub, file: Path | str) -> subprocess.CompletedProcess[str]:
    """`hallq hub catalogue import FILE --database …`, as the city's administrator runs it."""
    cmd = [sys.executable, "-m", "hallq.cli", "hub", "catalogue", "import", str(file), "--database", hub.database]
    return subprocess.run(cmd, capture_output=True, text=True, env=hub._env(), cwd=hub.workdir, timeout=60)


def by_code(config_path: Path, local: dict[str, dict[str, Any]] | None = None) -> None:
    """Rewrite a hall config so each service names its items by code only (`local`: code → its
    hall-local fields)."""
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    local = local or {}
    for service in data["services"]:
        service["items"] = [
            {"code": item["code"], **local[item["code"]]} if item["code"] in local else item["code"]
            for item in service.get("items", [])
        ]
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def example_items() -> list[str]:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    return [item["code"] for service in data["services"] for item in service.get("items", [])]
