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
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._lock_conns: dict[str, Connection] = {}
        self._lock_guard = threading.Lock()

    def try_take_hall(self, hall: str) -> bool:
        """Take the hall's session advisory lock on PostgreSQL (always True on SQLite, whose file lock
        already serializes writers). The lock lives as long as this process's dedicated connection."""
        if self._is_sqlite:
            return True
        with self._lock_guard:
            if hall in self._lock_conns:
                return True
            conn = self.engine.connect()
            key = zlib.crc32(f"hallq:{hall}".encode())
            taken = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            if not taken:
                conn.close()
                return False
            self._lock_conns[hall] = conn
            return True

    def hall_lock_alive(self, hall: str) -> bool:
        """Whether this process still holds the hall: the advisory lock dies with its connection (a
        database restart, a network cut), and then another dispatcher may already have taken over."""
        if self._is_sqlite:
            return True
        with self._lock_guard:
            conn = self._lock_conns.get(hall)
        if conn is None:
            return False
        try:
            conn.execute(sa.text("SELECT 1"))
            conn.commit()
            return True
        except sa.exc.SQLAlchemyError:
            self.release_hall(hall)
            return False

    def holds_hall(self, hall: str) -> bool:
        return self._is_sqlite or hall in self._lock_conns

    def release_hall(self, hall: str) -> None:
        with self._lock_guard:
            conn = self._lock_conns.pop(hall, None)
        if conn is not None:
            try:
                conn.close()
            except sa.exc.SQLAlchemyError:
                log.warning("closing the advisory-lock connection of hall %s failed", hall)

    def release_all(self) -> None:
        for hall in list(self._lock_conns):
            self.release_hall(hall)
