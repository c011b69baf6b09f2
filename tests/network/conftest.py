from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import fresh_pg_database


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def hub_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The hub's database: SQLite (trying the hub out) and PostgreSQL (the city's)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    else:
        with fresh_pg_database() as url:
            yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        yield url
