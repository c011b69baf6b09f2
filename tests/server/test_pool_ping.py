"""PostgreSQL connections are pinged before use only after sitting idle (server/store/database.py):
a pooled connection the database dropped meanwhile is replaced before the dispatcher's next statement,
as pool_pre_ping did on every checkout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.store import database
from server.store.store import Store


@pytest.mark.pg
def test_an_idle_connection_the_database_dropped_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.postgres import admin_engine, fresh_pg_database

    with fresh_pg_database() as url:
        store = Store(url)
        try:
            store.migrate()
            assert store.last_seq("demo") == 0  # a pooled connection now sits idle
            name = url.rsplit("/", 1)[1]
            admin = admin_engine()
            with admin.connect() as conn:
                dropped = conn.execute(
                    sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d"),
                    {"d": name},
                ).scalar()
            admin.dispose()
            assert dropped, "the store's idle connection was dropped"
            monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)  # idle long enough to be pinged
            assert store.last_seq("demo") == 0
        finally:
            store.close()
