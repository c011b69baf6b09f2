"""DESIGN.md section 2: imports point one way, the engine has no I/O, and there is no circle anywhere.

Every import counts, wherever it stands (a function-level import that reaches up is still a
dependency up); relative imports are resolved to the module they name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hallq", "server", "kiosk", "caller", "display", "hardware")
DEVICE_PACKAGES = ("kiosk", "caller", "display")
# The engine takes the clock and the hall's rules as plain frozen values: no I/O, nothing that parses.
ENGINE_FORBIDDEN = {
    "fastapi", "starlette", "sqlalchemy", "alembic", "paho", "kivy", "httpx", "requests", "socket", "serial", "usb",
    "asyncio", "threading", "subprocess", "time", "os", "pathlib", "logging", "pydantic", "yaml", "json",
    "hallq", "server", "kiosk", "caller", "display", "hardware", "zoneinfo_data",
}  # fmt: skip
# Inside server/: api / commands_mqtt / web → usecases → views → runtime → store, engine (DESIGN §2).
# A module may import its own package, its level and anything lower, never a higher one (a sideways
# import between two modules of one level is allowed; the circle test keeps it from going round).
SERVER_LEVELS: dict[str, int] = {
    "server.engine": 0,
    "server.pii": 1,
    "server.settings": 1,
    "server.hall_rules": 1,
    "server.json_guard": 1,
    "server.delivery": 1,  # what the platform feed and the SMS notifier share: JSON lines once, URL templates
    "server.login_throttle": 1,
    "server.woken_thread": 1,  # the background workers' thread, stop and pause (folders, feeder, uplink)
    "server.outbox_marks": 1,
    "server.committer": 1,  # the group commits' threads
    "server.store": 1,
    "server.cases.tables": 1,  # the cases' SQL tables: the store's migrations need them
    "server.evaluations.tables": 1,  # the same for 好差评's tables
    "server.stats.tables": 1,  # the statistics' roll-up tables, likewise
    "server.notify.tables": 1,  # the phone queue notifier's tables, likewise
    "server.appointments.tables": 1,  # the 预约 tables, likewise
    "server.network.tables": 1,  # the hub's register of halls, likewise
    "server.network.settings": 1,  # the hub's settings tree, beside the dispatcher's
    "server.network.forward_tables": 1,  # the catalogue's and cases across halls' tables, likewise
    "server.network.catalogue_cache": 1,  # a hall's copy of the catalogue: the settings read it at start
    "server.auth": 2,
    "server.runtime": 3,
    "server.views": 4,
    "server.usecases": 5,
    "server.cases": 5,
    "server.evaluations": 5,
    "server.stats": 5,
    "server.notify": 5,
    "server.appointments": 5,
    "server.network": 5,  # the network of halls: the hub's register, ingestion, folding, numbers; the uplink
    "server.api": 6,
    "server.commands_mqtt": 6,
    "server.publisher": 6,
    "server.web": 6,
    "server.http_protocol": 6,
    "server.network.hub_auth": 6,  # the hub's FastAPI dependencies
    "server.network.hub_api": 6,  # the hub's routers
    "server.network.hub_stats_api": 6,
    "server.network.forward_api": 6,  # the catalogue and store-and-forward routers
    "server.network.city_api": 6,  # /city's API: live, rankings, monthly reports at the hub
    "server.network.city_page": 6,  # /city and the files it needs
    "server.app": 7,
    "server.network.hub_app": 7,  # create_hub_app
    "server.cli": 8,
    "server.network.cli": 8,  # hallq hub
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    # `from pkg import name` may name a submodule: count both, the graph keeps what exists.
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


@cache
def project_imports() -> dict[str, set[str]]:
    """module → every module name it imports (ours and third-party)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = module_name(path)
            targets: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    targets.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    targets.update(_resolve(module, path.name == "__init__.py", node))
            graph[module] = targets
    return graph


def imports_of(prefix: str) -> Iterator[tuple[str, str]]:
    for module, targets in sorted(project_imports().items()):
        if module == prefix or module.startswith(prefix + "."):
            for target in sorted(targets):
                yield module, target


def offenders(prefix: str, forbidden: set[str]) -> list[str]:
    return [f"{module} imports {target}" for module, target in imports_of(prefix) if target.split(".")[0] in forbidden]


def level_of(module: str) -> tuple[str, int] | None:
    """The most specific entry of SERVER_LEVELS that contains `module`."""
    matches = [
        (name, level) for name, level in SERVER_LEVELS.items() if module == name or module.startswith(name + ".")
    ]
    return max(matches, key=lambda match: len(match[0])) if matches else None


def test_engine_imports_no_io_and_nothing_that_parses() -> None:
    outside = [(m, t) for m, t in imports_of("server.engine") if not t.startswith("server.engine")]
    assert [f"{m} imports {t}" for m, t in outside if t.split(".")[0] in ENGINE_FORBIDDEN] == []


def test_every_server_module_has_a_level() -> None:
    unplaced = [m for m in project_imports() if m.startswith("server.") and level_of(m) is None]
    assert unplaced == [], "give these modules a level in SERVER_LEVELS (DESIGN.md §2)"


def test_imports_inside_the_server_point_down_only() -> None:
    upward = []
    for module, target in imports_of("server"):
        source, into = level_of(module), level_of(target)
        if source is None or into is None or source[0] == into[0]:
            continue
        if into[1] > source[1]:
            upward.append(f"{module} (level {source[1]}) imports {target} (level {into[1]})")
    assert upward == []


@pytest.mark.parametrize("package", DEVICE_PACKAGES + ("hardware",))
def test_devices_never_import_the_server(package: str) -> None:
    assert offenders(package, {"server"}) == []


@pytest.mark.parametrize("package", DEVICE_PACKAGES)
def test_no_device_package_imports_another(package: str) -> None:
    others = set(DEVICE_PACKAGES) - {package}
    assert offenders(package, others) == [], "what two device packages share lives in hallq or hardware"


def test_hardware_imports_only_the_shared_core() -> None:
    assert offenders("hardware", {"server", "kiosk", "caller", "display"}) == []


def test_shared_core_imports_no_part() -> None:
    assert offenders("hallq", {"server", "kiosk", "caller", "display", "hardware"}) == []


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle among our modules (as a path that ends where it starts), or None."""
    ours = {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}
    # A package's __init__ importing its own submodules is not a circle with them.
    for module, targets in ours.items():
        ours[module] = {t for t in targets if not t.startswith(module + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(ours[module]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(ours):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_no_import_circle_anywhere() -> None:
    cycle = find_cycle(project_imports())
    assert cycle is None, " → ".join(cycle or [])


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
