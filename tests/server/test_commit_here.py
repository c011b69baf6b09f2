"""SQLite's group commit on the event loop itself (Committer.run_here, Store.commit_batch_at_once):
it commits there while nothing else writes; while another connection holds SQLite's write lock it
writes nothing and waits for nothing, the commit goes to the commit thread and the hall keeps
answering meanwhile; the connection then waits for the lock as every other one does."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from server.store import CommandWrite, Store
from server.store.database import BUSY_TIMEOUT_MS, utcnow
from server.store.rows import Guard, SqliteRows
from tests.server.conftest import DEMO, make_settings, running_app


def _locked(path: Path) -> sqlite3.Connection:
    """Another writer in the middle of its transaction: it holds SQLite's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _last_seq(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute("SELECT last_seq FROM halls WHERE hall = 'demo'").fetchone()[0])
    finally:
        raw.close()


def test_at_once_writes_nothing_while_another_holds_the_lock_and_the_connection_waits_again(tmp_path: Path) -> None:
    path = tmp_path / "hall.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 1)
    rows = store._rows
    assert isinstance(rows, SqliteRows)
    other = _locked(path)
    assert rows.commit_guarded_at_once(store.engine, Guard("demo", 1, 2, None, utcnow()), []) is False
    assert _last_seq(path) == 1
    kept = rows._kept(store.engine).driver_connection  # the group commits' connection, kept between them
    assert kept.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS, "it waits for the lock again"
    other.execute("ROLLBACK")
    rows.commit_guarded(store.engine, Guard("demo", 1, 2, None, utcnow()), [])
    assert _last_seq(path) == 2
    assert rows.commit_guarded_at_once(store.engine, Guard("demo", 2, 3, None, utcnow()), []) is True
    assert _last_seq(path) == 3
    other.close()
    store.close()


def test_the_hall_commits_on_its_loop_and_goes_to_the_thread_while_another_writer_holds_the_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hallq.sqlite3"
    where: list[tuple[str, bool]] = []

    async def main() -> None:
        async with running_app(make_settings(f"sqlite:///{path}")) as (client, app):
            store = app.state.dispatcher.store
            at_once, waiting = store.commit_batch_at_once, store.commit_batch

            def spied_at_once(*args: Any) -> Any:
                batches = at_once(*args)
                where.append((threading.current_thread().name, batches is not None))
                return batches

            on_thread = asyncio.Event()
            loop = asyncio.get_running_loop()

            def spied_waiting(*args: Any) -> Any:
                where.append((threading.current_thread().name, True))
                loop.call_soon_threadsafe(on_thread.set)
                return waiting(*args)

            store.commit_batch_at_once, store.commit_batch = spied_at_once, spied_waiting
            assert (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).status_code == 201
            where.clear()
            first = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            assert first.status_code == 201
            assert where == [(threading.current_thread().name, True)], "committed on the event loop"

            where.clear()
            other = _locked(path)
            issuing = asyncio.create_task(client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO))
            await asyncio.wait_for(on_thread.wait(), 10)  # declined on the loop, then on the commit thread
            board = await client.get("/halls/demo/board")
            assert board.status_code == 200, "the loop answers meanwhile"
            assert not issuing.done(), "answered before its commit"
            other.execute("ROLLBACK")
            other.close()
            third = await issuing
            assert third.status_code == 201 and third.json()["number"] == "A003"
            assert where[0] == (threading.current_thread().name, False)
            assert where[1][0].startswith("hallq-commit")

    asyncio.run(main())
    assert _last_seq(path) >= 3
