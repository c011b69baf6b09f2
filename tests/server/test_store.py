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


def test_outbox_numbers_events_per_hall_without_gaps(database: str) -> None:
    store = Store(database)
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
    # nor write anything else of its command (on PostgreSQL the guard and the rows are one statement)
    stale = CommandWrite(tickets=[_ticket("t-stale")], events=[("ticket_issued", {})],
                         idempotency=("issue", "k-stale", 201, {"id": "t-stale"}))  # fmt: skip
    with pytest.raises(HallTaken):
        store.commit_batch("demo", [stale], 2)
    assert store.ticket_rows("demo", "2026-12-07") == [] and store.idempotent_answer("demo", "issue", "k-stale") is None
    # a command with no events (an answer remembered) leaves the sequence where it was
    store.commit_batch("demo", [CommandWrite(tickets=[_ticket("t-1")], idempotency=("issue", "k-1", 201, None))], 3)
    assert store.last_seq("demo") == 3 and store.idempotent_answer("demo", "issue", "k-1") is not None
    assert [r["id"] for r in store.ticket_rows("demo", "2026-12-07")] == ["t-1"]
    store.close()


def _ticket(ticket_id: str) -> dict[str, object]:
    return {"id": ticket_id, "day": "2026-12-07", "number": "A001", "service": "A", "status": "waiting",
            "window": None, "id_hash": None, "data": {"id": ticket_id}}  # fmt: skip


def test_the_group_commits_connection_is_kept_given_back_after_a_failure_and_at_close(database: str) -> None:
    """SQLite's group commits keep one pooled connection between commits (server/store/rows.py); one
    whose commit failed goes back to the pool, and closing the store gives back the one kept."""
    store = Store(database)
    store.migrate()
    pool = store.engine.pool
    store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 1)  # the hall's row (SQLAlchemy's path)
    store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 2)  # the usual group commit
    store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 3)
    kept = 1 if store.is_sqlite else 0
    assert pool.checkedout() == kept  # type: ignore[attr-defined]
    with pytest.raises(HallTaken):
        store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 2)
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    store.commit("demo", CommandWrite(tickets=[_ticket("t-after")], events=[("ticket_issued", {})]), 4)
    assert store.last_seq("demo") == 4 and [r["id"] for r in store.ticket_rows("demo", "2026-12-07")] == ["t-after"]
    assert pool.checkedout() == kept  # type: ignore[attr-defined]
    store.close()
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_kept_connection_that_broke_is_let_go_and_the_next_commit_opens_another(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 1)
    store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 2)  # keeps its connection
    kept = store._rows._held  # type: ignore[attr-defined]
    assert kept is not None
    kept[1].driver_connection.close()  # gone under it (a disk error, a closed file)
    with pytest.raises(Exception, match="closed"):
        store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 3)
    store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 3)
    assert store.last_seq("demo") == 3
    store.close()
