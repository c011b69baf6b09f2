"""DESIGN.md section 2: imports point one way, and the engine has no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_LIBRARIES = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "paho",
    "kivy",
    "httpx",
    "requests",
    "socket",
    "serial",
    "usb",
    "asyncio",
    "threading",
    "subprocess",
    "time",
    "os",
    "pathlib",
    "logging",
}


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def offenders(package: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in imports_of(package)
        if name.split(".")[0] in forbidden
    ]


def test_engine_imports_no_io_library() -> None:
    assert offenders("server/engine", IO_LIBRARIES) == []


@pytest.mark.parametrize("package", ["kiosk", "caller", "display", "hardware"])
def test_devices_never_import_the_server(package: str) -> None:
    assert offenders(package, {"server"}) == []


def test_hardware_imports_only_the_shared_core() -> None:
    assert offenders("hardware", {"server", "kiosk", "caller", "display"}) == []


def test_shared_core_imports_no_part() -> None:
    assert offenders("hallq", {"server", "kiosk", "caller", "display", "hardware"}) == []
