"""The store on its own: migrations match the tables the code uses, and the outbox API the publisher
relies on (gap-free seq per hall, unpublished in order, marking, a second writer refused)."""

from __future__ import annotations

import pytest

from server.store import CommandWrite, HallTaken, Store


def test_migrations_create_exactly_the_declared_tables(database: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import server.cases.tables  # noqa: F401  (the cases area registers its tables on the same metadata)
    from server.store.schema import metadata

    store = Store(database)
    store.migrate()
    store.migrate()  # idempotent
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.close()
    assert diff == []


def test_outbox_numbers_events_per_hall_without_gaps(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    first = CommandWrite(events=[("ticket_issued", {"number": "A001"}), ("window_changed", {"window": "1"})])
    store.commit_batch("demo", [first, CommandWrite(events=[("ticket_called", {"number": "A001"})])], 0)
    store.commit("other", CommandWrite(events=[("ticket_issued", {"number": "B001"})]), 1)
    assert store.last_seq("demo") == 3 and store.last_seq("other") == 1
    rows = store.fetch_unpublished("demo", limit=10)
    assert [(r.seq, r.kind) for r in rows] == [(1, "ticket_issued"), (2, "window_changed"), (3, "ticket_called")]
    assert rows[0].payload == {"number": "A001"} and rows[0].created_at.tzinfo is not None
    store.mark_published("demo", 2)
    assert [r.seq for r in store.fetch_unpublished("demo", 10)] == [3]
    assert [r.seq for r in store.fetch_unpublished("other", 10)] == [1]
    with pytest.raises(HallTaken):  # a writer that does not know the latest seq cannot fork it
        store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 3)
    assert store.last_seq("demo") == 3
    store.close()
