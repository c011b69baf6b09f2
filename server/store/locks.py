"""Which dispatcher writes which hall (DESIGN.md §4): a PostgreSQL session advisory lock per hall,
held on a dedicated connection for as long as this process serves the hall. A second dispatcher on
the same database stands by until the lock is free. SQLite needs none: its file lock already
serializes writers."""

from __future__ import annotations

import logging
import threading
import zlib

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)


class HallLocks:
    """Every hall's lock is held on ONE connection of this process (session advisory locks stack on a
    session): a connection per hall took a pool slot each, and a dispatcher of more halls than its
    pool has slots could not start. Losing that connection loses every hall at once, as a database
    outage would anyway; each then stands by and is taken back on a new connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._conn: Connection | None = None
        self._held: set[str] = set()
        self._lock_guard = threading.Lock()  # one connection, used from worker threads

    def try_take_hall(self, hall: str) -> bool:
        """Take the hall's session advisory lock on PostgreSQL (always True on SQLite, whose file lock
        already serializes writers). The lock lives as long as this process's lock connection."""
        if self._is_sqlite:
            return True
        with self._lock_guard:
            if hall in self._held:
                return True
            if self._conn is None:
                self._conn = self.engine.connect()
            try:
                taken = bool(self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(hall)}).scalar())
                self._conn.commit()
            except sa.exc.SQLAlchemyError:
                self._lose_all()
                raise
            if taken:
                self._held.add(hall)
            return taken

    def halls_alive(self, halls: list[str]) -> set[str]:
        """Which of these halls this process still holds, with ONE query: their locks live and die
        with the one lock connection (a query per hall was 400 round trips per check at 200 halls)."""
        if self._is_sqlite:
            return set(halls)
        with self._lock_guard:
            if self._conn is None:
                return set()
            try:
                self._conn.execute(sa.text("SELECT 1"))
                self._conn.commit()
            except sa.exc.SQLAlchemyError:
                self._lose_all()
                return set()
            return {hall for hall in halls if hall in self._held}

    def connection_of(self, hall: str) -> Connection | None:
        """The connection holding the hall's lock (None: not held); tests cut it to simulate a loss."""
        return self._conn if hall in self._held else None

    def holds_hall(self, hall: str) -> bool:
        return self._is_sqlite or hall in self._held

    def release_hall(self, hall: str) -> None:
        with self._lock_guard:
            if hall not in self._held or self._conn is None:
                return
            self._held.discard(hall)
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _key(hall)})
                self._conn.commit()
            except sa.exc.SQLAlchemyError:
                log.warning("releasing the advisory lock of hall %s failed", hall)
                self._lose_all()
                return
            if not self._held:
                self._close()

    def release_all(self) -> None:
        with self._lock_guard:
            self._held.clear()
            self._close()

    def _lose_all(self) -> None:
        """The lock connection failed: no hall's lock can be trusted any more."""
        self._held.clear()
        self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sa.exc.SQLAlchemyError:
                log.warning("closing the advisory-lock connection failed")


def _key(hall: str) -> int:
    return zlib.crc32(f"hallq:{hall}".encode())
