"""A real Mosquitto and a real dispatcher publishing to it: the hall most device tests stand in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.broker import Broker, start_mosquitto
from tests.support.dispatcher import Dispatcher, start_dispatcher


@contextmanager
def running_hall(tmp_path: Path) -> Iterator[tuple[Broker, Dispatcher]]:
    broker = start_mosquitto(tmp_path)
    try:
        dispatcher = start_dispatcher(tmp_path, mqtt_url=broker.url)
        try:
            yield broker, dispatcher
        finally:
            dispatcher.stop()
    finally:
        broker.stop()
