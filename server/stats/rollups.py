"""The roll-ups in the database: fold the next batch of committed events, exactly once, and rebuild.

Each batch is one transaction that first moves the hall's cursor from the seq it read to the last seq
it folded (compare and set), then adds its cells to the rows and saves what it remembers of tickets
and windows. Two folders on one hall (the server's and a `hallq stats rebuild`) cannot both fold the
same events: the second one's compare fails, it rolls back and reads the cursor again.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.stats.folding import Cell, CellKey, Fold, TicketMemory, WindowMemory
from server.stats.tables import COUNTERS, DAILY_KEY, HOURLY_KEY, stats_cursor, stats_daily, stats_hourly, stats_tickets
from server.store import EventRow, Store
from server.store.database import utcnow
from server.store.rows import RowWriter, row_writer

log = logging.getLogger(__name__)
BATCH = 2000


class CursorMoved(Exception):
    """Another folder advanced this hall's cursor first; read it again and fold what is left."""


def read_cursor(conn: Connection, hall: str) -> tuple[int, dict[str, WindowMemory]]:
    row = conn.execute(sa.select(stats_cursor).where(stats_cursor.c.hall == hall)).first()
    if row is None:
        return 0, {}
    return int(row.last_seq), {w: WindowMemory.from_json(d) for w, d in (row.windows or {}).items()}


Folded = Callable[[str, dict[CellKey, Cell]], None]  # told (hall, cells) after each committed batch
# (hall, seq, limit) → the committed events after seq, at most limit, in order (Store.events_since)
EventsAfter = Callable[[str, int, int], list[EventRow]]


def fold_batch(
    store: Store, hall: str, tz: ZoneInfo, limit: int = BATCH, on_folded: Folded | None = None,
    events_after: EventsAfter | None = None,
) -> int:  # fmt: skip
    """Fold the events after the hall's cursor (at most `limit`); returns how many were folded.
    `events_after`: where the events are read (default: the store)."""
    with store.engine.connect() as conn:
        last_seq, windows = read_cursor(conn, hall)
    events = (events_after or store.events_since)(hall, last_seq, limit)
    if not events:
        return 0
    ids = {str(e.payload["ticket_id"]) for e in events if e.payload.get("ticket_id")}
    fold = Fold(tz, _load_tickets(store, hall, ids), windows)
    for event in events:
        fold.apply(event.kind, event.payload)
    # Read and merge before the write transaction, so SQLite's write lock (which the issue path's
    # commits wait for) is held only for the writes: the compare-and-set of the cursor proves that
    # nobody changed the rows since the cursor was read, or rolls everything back.
    with store.engine.connect() as conn:
        merged = merged_rows(conn, hall, fold.cells)
    with store.engine.begin() as conn:
        _move_cursor(conn, hall, last_seq, events[-1].seq, fold.windows)
        write_rows(conn, merged)
        _save_tickets(conn, hall, fold)
    if on_folded is not None:
        on_folded(hall, fold.cells)
    return len(events)


def fold_all(
    store: Store, hall: str, tz: ZoneInfo, on_folded: Folded | None = None, *, chase: bool = True,
    events_after: EventsAfter | None = None,
) -> int:  # fmt: skip
    """Fold until the cursor reaches the last committed event; returns how many events were folded.
    `chase=False` (the folding workers): stop once a batch is not full, i.e. once the events that were
    committed when it read are folded; what commits meanwhile waits for the worker's next pass. Chasing
    the tail under load was a small batch after each batch, each paying a batch's fixed cost (five
    queries, ≈ 4 ms of CPU): three quarters of the folder's CPU during call-next (issue 18)."""
    total = 0
    while True:
        try:
            folded = fold_batch(store, hall, tz, limit=BATCH, on_folded=on_folded, events_after=events_after)
        except CursorMoved:
            continue
        total += folded
        if folded == 0 or (not chase and folded < BATCH):
            return total


def rebuild(store: Store, hall: str, tz: ZoneInfo) -> int:
    """Forget the hall's roll-ups and fold every event again, from seq 1 (the events are the truth)."""
    with store.engine.begin() as conn:  # the cursor first: the folders' lock order, so no deadlock
        for table in (stats_cursor, stats_hourly, stats_daily, stats_tickets):
            conn.execute(table.delete().where(table.c.hall == hall))
    return fold_all(store, hall, tz)


def folded_seq(store: Store, hall: str) -> int:
    with store.engine.connect() as conn:
        return read_cursor(conn, hall)[0]


def _load_tickets(store: Store, hall: str, ids: set[str]) -> dict[str, TicketMemory]:
    found: dict[str, TicketMemory] = {}
    wanted = sorted(ids)
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):  # stay under the databases' bound-parameter limits
            rows = conn.execute(
                sa.select(stats_tickets).where(
                    stats_tickets.c.hall == hall, stats_tickets.c.ticket_id.in_(wanted[start : start + 500])
                )
            ).all()
            for r in rows:
                found[r.ticket_id] = TicketMemory(
                    r.day, int(r.issued_hour), r.issued_at, r.service or "", r.first_called_at, r.window, r.clerk
                )
    return found


def _move_cursor(conn: Connection, hall: str, expected: int, to: int, windows: dict[str, WindowMemory]) -> None:
    """Compare and set, first in the transaction (so on PostgreSQL it holds the cursor's row lock).
    The first batch of a hall inserts the row; a conflict means another folder was first. No
    savepoint: pysqlite would commit a savepoint opened before any other write on its own."""
    values = {"last_seq": to, "windows": {w: m.to_json() for w, m in windows.items()}, "updated_at": utcnow()}
    if expected == 0:
        if conn.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        first = insert(stats_cursor).values(hall=hall, **values).on_conflict_do_nothing(index_elements=["hall"])
        # RETURNING says whether the row went in (this statement's rowcount was seen wrong on psycopg).
        if conn.execute(first.returning(stats_cursor.c.hall)).first() is not None:
            return
    moved = conn.execute(
        stats_cursor.update().where(stats_cursor.c.hall == hall, stats_cursor.c.last_seq == expected).values(**values)
    )
    if moved.rowcount != 1:
        raise CursorMoved(hall)


Merged = list[tuple[sa.Table, tuple[str, ...], list[dict[str, Any]]]]  # table, its key, whole rows


def add_cells(conn: Connection, hall: str, cells: dict[CellKey, Cell]) -> None:
    """Add cells to the hourly and daily rows on one connection (a rebuild's or a bench's)."""
    write_rows(conn, merged_rows(conn, hall, cells))


def merged_rows(conn: Connection, hall: str, cells: dict[CellKey, Cell]) -> Merged:
    """The hourly rows the cells fall in, and the daily rows (the cells summed over the hours), each
    as it will be once the cells are added."""
    daily: dict[tuple[str, ...], Cell] = {}
    for (day, _hour, service, window, clerk), cell in cells.items():
        daily.setdefault((day, service, window, clerk), Cell()).absorb(cell)
    hourly: dict[tuple[str, ...], Cell] = {(k[0], str(k[1]), *k[2:]): cell for k, cell in cells.items()}
    return [
        (stats_hourly, HOURLY_KEY, _merged(conn, hall, stats_hourly, HOURLY_KEY, hourly)),
        (stats_daily, DAILY_KEY, _merged(conn, hall, stats_daily, DAILY_KEY, daily)),
    ]


def _merged(conn: Connection, hall: str, table: sa.Table, key: tuple[str, ...],
            cells: dict[tuple[str, ...], Cell]) -> list[dict[str, Any]]:  # fmt: skip
    if not cells:
        return []
    days = sorted({k[0] for k in cells})
    rows = conn.execute(sa.select(table).where(table.c.hall == hall, table.c.day.in_(days))).all()
    existing = {tuple(str(getattr(r, name)) for name in key[1:]): r for r in rows}
    merged = []
    for cell_key, gained in cells.items():
        total = cell_of_row(existing[cell_key]) if cell_key in existing else Cell()
        total.absorb(gained)
        names: dict[str, Any] = dict(zip(key[1:], cell_key, strict=True))
        if "hour" in names:
            names["hour"] = int(names["hour"])
        merged.append({"hall": hall, **names, **row_values(total)})
    return merged


def write_rows(conn: Connection, merged: Merged) -> None:
    """Upsert the merged rows (each table's key is its primary key), one statement per table, with the
    store's row writer: built once per table, on PostgreSQL one multi-row statement through psycopg.
    (Building the upsert each second, and psycopg's pipelined executemany, cost the folder more than
    its rows: py-spy had 10 % of the dispatcher's GIL time under call-next load there.)"""
    writer = _writer(conn.dialect.name)
    for table, _key, rows in merged:
        if rows:
            writer.write(conn, table, rows, upsert=True)


@functools.cache
def _writer(dialect: str) -> RowWriter:
    return row_writer(dialect)


def cell_of_row(row: Any) -> Cell:
    return Cell(
        counts={name: int(getattr(row, name)) for name in COUNTERS},
        wait_max_s=int(row.wait_max_s),
        service_max_s=int(row.service_max_s),
        wait_hist={k: int(v) for k, v in (row.wait_hist or {}).items()},
        service_hist={k: int(v) for k, v in (row.service_hist or {}).items()},
    )


def row_values(cell: Cell) -> dict[str, Any]:
    return {
        **{name: cell.counts.get(name, 0) for name in COUNTERS},
        "wait_max_s": cell.wait_max_s,
        "service_max_s": cell.service_max_s,
        "wait_hist": cell.wait_hist,
        "service_hist": cell.service_hist,
    }


def _save_tickets(conn: Connection, hall: str, fold: Fold) -> None:
    rows = [
        {
            "hall": hall,
            "ticket_id": ticket_id,
            "day": memory.day,
            "issued_hour": memory.issued_hour,
            "issued_at": memory.issued_at,
            "service": memory.service,
            "first_called_at": memory.first_called_at,
            "window": memory.window,
            "clerk": memory.clerk,
        }
        for ticket_id in sorted(fold.touched)
        for memory in (fold.tickets[ticket_id],)
    ]
    write_rows(conn, [(stats_tickets, ("hall", "ticket_id"), rows)])
    if fold.forget_before is not None:
        conn.execute(
            stats_tickets.delete().where(stats_tickets.c.hall == hall, stats_tickets.c.day < fold.forget_before)
        )
