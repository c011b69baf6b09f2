"""The reference the dispatcher is measured against (issue 18): a bare FastAPI app that does one
durable database commit per request and nothing else — no engine, no auth, no idempotency, no
outbox. `bench/http_bench.py` runs it beside `hallq server` in the same run and prints the ratio.

    POST /api/v1/halls/demo/tickets                     one INSERT, committed → 201 {id, number}
    POST /api/v1/halls/demo/windows/{window}/call-next  the oldest waiting row marked called, committed
                                                        → 200 {ticket: {id, number}} or 204
    GET  /api/v1/halls/demo                             200 (readiness)

SQLite in WAL mode with synchronous=FULL (an fsync per commit, as the dispatcher), or PostgreSQL
(psycopg, synchronous_commit on). Run: `python bench/bare_ticket_server.py DATABASE_URL PORT`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI, Response

SCHEMA = "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, number TEXT, status TEXT, window_id TEXT)"


class SqliteTickets:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(SCHEMA)
        self.lock = threading.Lock()

    def issue(self) -> tuple[int, str]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            cursor = self.conn.execute("INSERT INTO tickets (status) VALUES ('waiting')")
            ticket_id = int(cursor.lastrowid or 0)
            number = f"A{ticket_id:03d}"
            self.conn.execute("UPDATE tickets SET number = ? WHERE id = ?", (number, ticket_id))
            self.conn.execute("COMMIT")
        return ticket_id, number

    def call_next(self, window: str) -> tuple[int, str] | None:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            row = self.conn.execute(
                "SELECT id, number FROM tickets WHERE status = 'waiting' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is not None:
                self.conn.execute("UPDATE tickets SET status = 'called', window_id = ? WHERE id = ?", (window, row[0]))
            self.conn.execute("COMMIT")
        return (int(row[0]), str(row[1])) if row else None


class PostgresTickets:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=False)
        with self.conn.cursor() as cursor:
            cursor.execute(SCHEMA.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY"))
        self.conn.commit()
        self.lock = threading.Lock()

    def issue(self) -> tuple[int, str]:
        with self.lock, self.conn.cursor() as cursor:
            cursor.execute("INSERT INTO tickets (status) VALUES ('waiting') RETURNING id")
            ticket_id = int(cursor.fetchone()[0])  # type: ignore[index]
            number = f"A{ticket_id:03d}"
            cursor.execute("UPDATE tickets SET number = %s WHERE id = %s", (number, ticket_id))
            self.conn.commit()
        return ticket_id, number

    def call_next(self, window: str) -> tuple[int, str] | None:
        with self.lock, self.conn.cursor() as cursor:
            cursor.execute("SELECT id, number FROM tickets WHERE status = 'waiting' ORDER BY id LIMIT 1 FOR UPDATE")
            row = cursor.fetchone()
            if row is not None:
                cursor.execute("UPDATE tickets SET status = 'called', window_id = %s WHERE id = %s", (window, row[0]))
            self.conn.commit()
        return (int(row[0]), str(row[1])) if row else None


def create_app(tickets: SqliteTickets | PostgresTickets) -> FastAPI:
    app = FastAPI()

    async def run(function: Callable[..., Any], *args: Any) -> Any:  # the blocking commit off the event loop
        return await asyncio.to_thread(function, *args)

    @app.get("/api/v1/halls/demo")
    async def ready() -> dict[str, str]:
        return {"id": "demo"}

    @app.post("/api/v1/halls/demo/tickets", status_code=201)
    async def issue() -> dict[str, Any]:
        ticket_id, number = await run(tickets.issue)
        return {"id": str(ticket_id), "number": number}

    @app.post("/api/v1/halls/demo/windows/{window}/call-next", response_model=None)
    async def call_next(window: str) -> dict[str, Any] | Response:
        called = await run(tickets.call_next, window)
        if called is None:
            return Response(status_code=204)
        return {"ticket": {"id": str(called[0]), "number": called[1]}}

    return app


def main() -> None:
    database, port = sys.argv[1], int(sys.argv[2])
    if database.startswith("sqlite:///"):
        tickets: SqliteTickets | PostgresTickets = SqliteTickets(database.removeprefix("sqlite:///"))
    else:
        tickets = PostgresTickets(database)
    uvicorn.run(create_app(tickets), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
