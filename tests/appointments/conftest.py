"""预约 tests run on SQLite and PostgreSQL, with the dispatcher tests' fixtures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hallq.config import HallConfig, example_config_path, load_hall_config
from server.appointments.service import AppointmentService
from server.pii import gb11643_check_char
from server.store import Store
from tests.server.conftest import database  # noqa: F401  (the SQLite + PostgreSQL fixture)

ZONE = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"


def id_number(seq: int, birth: str = "19800101") -> str:
    """A valid resident ID number (GB 11643 check character), one per `seq`."""
    first17 = f"320102{birth}{seq:03d}"
    return first17 + gb11643_check_char(first17)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), ZONE)


MONDAY = dt.date(2026, 12, 7)


def hall_config(**appointments: Any) -> HallConfig:
    """The shipped demo hall (real hours, not around the clock) with appointment settings changed."""
    data = load_hall_config(example_config_path()).model_dump()
    data["appointments"].update(appointments)
    return HallConfig.model_validate(data)


@pytest.fixture
def make_service(database: str) -> Iterator[Any]:  # noqa: F811  (the fixture above)
    store = Store(database)
    store.migrate()

    def make(**appointments: Any) -> AppointmentService:
        return AppointmentService(store.engine, hall_config(**appointments), b"k" * 32)

    yield make
    store.close()
