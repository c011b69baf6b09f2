"""The group commit's SQLite writer (sqlite3's executemany with SQLAlchemy's compiled statements and
bind processors, issue 18) stores exactly what SQLAlchemy's own execute stored: every write of a hall's
working loop (tickets, windows, events, answers, ratings, the statistics' roll-ups) replayed through
both, byte for byte; and so does the sequence guard the group commit runs on sqlite3 itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.stats.worker import fold_all
from server.store import CommandWrite, Store
from server.store.rows import GUARD_WITH_STATE, Guard, SqlAlchemyRows, SqliteRows, guard_params
from tests.server.conftest import DEMO, make_settings, running_app

Write = tuple[sa.Table, list[dict[str, Any]], bool]


def recorded_writes(database: str, monkeypatch: Any) -> list[Write]:
    writes: list[Write] = []
    original = SqliteRows._write  # under both write() and the group commit's commit_guarded()

    def recording(
        self: SqliteRows, cursor: Any, dialect: Any, table: sa.Table, rows: list[dict[str, Any]], upsert: bool
    ) -> None:
        writes.append((table, [dict(r) for r in rows], upsert))
        original(self, cursor, dialect, table, rows, upsert)

    monkeypatch.setattr(SqliteRows, "_write", recording)

    async def working_loop() -> None:
        async with running_app(make_settings(database)) as (client, app):
            login = await client.post("/auth/login", json={"username": "clerk1", "password": "demo", "window": "1"})
            clerk = {"Authorization": f"Bearer {login.json()['access_token']}"}
            tickets = []
            for number, service in enumerate("AAC", 1):
                headers = {**DEMO, "Idempotency-Key": f"t{number}"}
                issued = await client.post("/halls/demo/tickets", json={"service": service}, headers=headers)
                tickets.append(issued.json())
            for step in ("call-next", "finish", "call-next", "no-show", "call-next"):
                assert (await client.post(f"/halls/demo/windows/1/{step}", headers=clerk)).status_code < 300, step
            key = tickets[0]["status_url"].rsplit("k=", 1)[1]
            rating = {"ticket_id": tickets[0]["id"], "score": 2, "reasons": ["attitude"], "comment": "慢"}
            assert (await client.post("/halls/demo/evaluations", params={"k": key}, json=rating)).status_code == 201
            dispatcher = app.state.dispatcher
            await asyncio.to_thread(fold_all, dispatcher.store, "demo", dispatcher.runtime("demo").config.hall.tz())

    asyncio.run(working_loop())
    return writes


def replayed(path: Path, writer: Any, writes: list[Write]) -> dict[str, list[tuple[Any, ...]]]:
    store = Store(f"sqlite:///{path}")
    store.migrate()
    with store.engine.begin() as conn:
        for table, rows, upsert in writes:
            writer.write(conn, table, rows, upsert=upsert)
    store.close()
    raw = sqlite3.connect(path)
    try:
        return {t.name: raw.execute(f'SELECT * FROM "{t.name}" ORDER BY rowid').fetchall() for t, _, _ in writes}
    finally:
        raw.close()


def test_every_write_of_a_working_loop_is_stored_as_sqlalchemy_stores_it(tmp_path: Path, monkeypatch: Any) -> None:
    writes = recorded_writes(f"sqlite:///{tmp_path / 'hall.sqlite3'}", monkeypatch)
    written = {table.name for table, _, _ in writes}
    assert {"tickets", "windows", "events", "idempotency", "evaluations"} <= written, written
    assert any(upsert for _, _, upsert in writes) and any(not upsert for _, _, upsert in writes)
    monkeypatch.undo()
    ours = replayed(tmp_path / "ours.sqlite3", SqliteRows("sqlite"), writes)
    reference = replayed(tmp_path / "reference.sqlite3", SqlAlchemyRows("sqlite"), writes)
    assert ours == reference
    assert all(ours[name] for name in written)


def test_the_sequence_guard_stores_the_halls_row_as_sqlalchemy_does(tmp_path: Path) -> None:
    guard = Guard("demo", 1, 3, {"counters": {"A": 12, "C": 2}, "day": "2026-12-07"},
                  dt.datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=dt.UTC))  # fmt: skip
    halls = {}
    for name in ("ours", "reference"):
        path = tmp_path / f"{name}.sqlite3"
        store = Store(f"sqlite:///{path}")
        store.migrate()
        store.commit("demo", CommandWrite(events=[("ticket_issued", {})]), 1)  # the hall's row, at seq 1
        if name == "ours":
            SqliteRows("sqlite").commit_guarded(store.engine, guard, [])
        else:
            with store.engine.begin() as conn:
                assert conn.execute(GUARD_WITH_STATE, guard_params(guard)).rowcount == 1
        store.close()
        raw = sqlite3.connect(path)
        halls[name] = raw.execute("SELECT * FROM halls").fetchall()
        raw.close()
    assert halls["ours"] == halls["reference"]
    hall, last_seq, state, _updated_at = halls["ours"][0]
    assert (hall, last_seq) == ("demo", 3) and '"A":12' in state
