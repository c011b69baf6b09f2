"""Fixtures for the hardware tests: fresh in-process simulators, the external ID card vectors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.modbus import reset_masters
from hardware.sim import reset_simulators

# a copy of ../shared/vectors/idcard (made outside the project), so the suite runs anywhere
VECTORS = Path(__file__).parent / "vectors"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(autouse=True)
def fresh_simulators() -> Iterator[None]:
    reset_simulators()
    reset_masters()
    yield
    reset_masters()
    reset_simulators()


def vector_cards() -> list[tuple[bytes, dict[str, str]]]:
    if not VECTORS.is_dir():
        pytest.skip(f"ID card vectors not found at {VECTORS}")
    return [
        ((VECTORS / f"card{n:02d}.bin").read_bytes(), json.loads((VECTORS / f"card{n:02d}.json").read_text("utf-8")))
        for n in range(4)
    ]


def vector(name: str) -> bytes:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"ID card vector {path} not found")
    return path.read_bytes()
