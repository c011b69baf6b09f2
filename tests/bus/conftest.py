"""Fixtures for the bus tests: a real Mosquitto (config/mosquitto.conf) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import Broker, start_mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    broker = start_mosquitto(tmp_path)
    yield broker
    broker.stop()
