"""A fresh PostgreSQL database per test (127.0.0.1:5432, user postgres, trust), dropped afterwards;
the test is skipped, saying why, where no PostgreSQL answers.

    with fresh_pg_database() as url:    # postgresql://postgres@127.0.0.1:5432/hallq_t_…
        ...
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_engine() -> Any:
    """An AUTOCOMMIT engine on the server's `postgres` database (CREATE / DROP DATABASE, pg_terminate_backend)."""
    import sqlalchemy as sa

    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@contextlib.contextmanager
def fresh_pg_database(prefix: str = "hallq_t") -> Iterator[str]:
    import sqlalchemy as sa

    try:
        admin = admin_engine()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # the driver's errors vary; any failure here means "no PostgreSQL"
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (user postgres) is not reachable: {exc}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
