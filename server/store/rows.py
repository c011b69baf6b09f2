"""How the group commit writes a table's rows: one statement per table per transaction.

On PostgreSQL through the driver (psycopg) directly: one multi-row INSERT (… ON CONFLICT DO UPDATE)
whose text is built once per (table, columns, row count), JSON columns as orjson text cast to json,
exactly the values SQLAlchemy writes. The texts use PostgreSQL's own `$n` placeholders and run on a
psycopg `RawCursor`: a `%s` text of more than 50 parameters is parsed again on every execute (psycopg
caches only short queries; py-spy: 12 % of the dispatcher's GIL time during call-next). SQLAlchemy's
executemany ran each table through psycopg's pipeline mode, whose wait for the answer kept the GIL
(py-spy: 18 % of the dispatcher's call-next time on PostgreSQL), plus a compile-cache lookup and an
execution context per statement.

On SQLite through sqlite3 directly too: SQLAlchemy's own INSERT (or upsert) compiled once per (table,
columns), each column's value put through that column type's own bind processor (a datetime as
SQLAlchemy's text, JSON through the engine's serializer), then one executemany. The stored values are
SQLAlchemy's to the byte (tested); what is saved is its execution context, parameter processing and
result set per statement (py-spy: about 10 % of the dispatcher's GIL time during call-next). The usual
group's whole transaction (the sequence guard, the rows, the commit) runs on the pooled sqlite3
connection the same way: SQLAlchemy's Connection, its transaction and the guard's execution through it
were another 10 % of the GIL time during call-next.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from server.store import schema as t
from server.store.database import BUSY_TIMEOUT_MS, Upserts, json_text

CHUNK = 1000  # rows per statement: far below PostgreSQL's 65 535 bound parameters for our tables
MAX_STATEMENTS = 512  # statement texts kept (one per shape of group commit; a few dozen in practice)

T = TypeVar("T")
TableRows = tuple[sa.Table, list[dict[str, Any]], bool]  # table, its rows, upsert


class HallTaken(Exception):
    """Another dispatcher holds this hall's advisory lock (PostgreSQL); this one stands by."""


@dataclass(frozen=True)
class Guard:
    """The halls row's compare-and-set: from `expected` to `last_seq`, or nothing is written."""

    hall: str
    expected: int
    last_seq: int
    state: dict[str, Any] | None
    now: dt.datetime


def _guard(with_state: bool) -> sa.Update:
    """The sequence guard as SQLAlchemy runs it, built once (parameters: guard_params)."""
    values: dict[str, Any] = {
        "last_seq": sa.bindparam("b_last_seq"),
        "updated_at": sa.bindparam("b_now", type_=t.halls.c.updated_at.type),
    }
    if with_state:
        values["state"] = sa.bindparam("b_state", type_=t.halls.c.state.type)
    return (
        t.halls.update()
        .where(t.halls.c.hall == sa.bindparam("b_hall"), t.halls.c.last_seq == sa.bindparam("b_expected"))
        .values(**values)
    )


GUARD = _guard(with_state=False)
GUARD_WITH_STATE = _guard(with_state=True)


def guard_params(guard: Guard) -> dict[str, Any]:
    params = {"b_hall": guard.hall, "b_expected": guard.expected, "b_last_seq": guard.last_seq, "b_now": guard.now}
    return params if guard.state is None else {**params, "b_state": guard.state}


def moved(hall: str) -> HallTaken:
    return HallTaken(f"hall {hall}: the event sequence moved under this dispatcher (another writer?)")


class RowWriter(Protocol):
    def write(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        """Insert the rows (every row with the same keys); `upsert`: a row whose primary key exists
        replaces every other column of it."""

    def commit_guarded(self, engine: Engine, guard: Guard, tables: list[TableRows]) -> None:
        """The sequence guard and every table's rows in one transaction, durable when it returns; a
        guard that matches no row writes nothing and raises HallTaken."""

    def close(self) -> None:
        """Give back any connection kept between commits (before the engine is disposed of)."""


class SqlAlchemyRows:
    """executemany of a statement built once per table, through SQLAlchemy (the reference SqliteRows is
    tested against)."""

    def __init__(self, dialect: str) -> None:
        self._upserts = Upserts(dialect)

    def write(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        conn.execute(self._upserts.statement(table) if upsert else table.insert(), rows)


@dataclass(frozen=True)
class _SqlitePlan:
    sql: str
    # for each `?` in order: the row's key, and its column's bind processor (None: the value as it is)
    fields: tuple[tuple[str, Any], ...]

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] if process is None else process(row[name]) for name, process in self.fields)


class _LastMoment:
    """A moment column's bind processor that remembers the last moment it turned into text: every row
    of a group commit carries the same `now` (the text was a quarter of the commit thread's CPU)."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.last: tuple[Any, Any] = (_NOTHING, None)  # (moment, its text), swapped whole: threads share it

    def __call__(self, value: Any) -> Any:
        moment, text = self.last
        if moment is value:
            return text
        text = self.process(value)
        self.last = (value, text)
        return text


_NOTHING = object()


def _processor(kind: Any, dialect: Any) -> Any:
    process = kind.bind_processor(dialect)
    is_moment = isinstance(kind, sa.DateTime) or isinstance(getattr(kind, "impl", None), sa.DateTime)
    return _LastMoment(process) if process is not None and is_moment else process


def _sqlite_plan(statement: Any, dialect: Any, columns: list[str] | None = None) -> _SqlitePlan:
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    names = compiled.positiontup or ()
    types = (compiled.binds[name].type.dialect_impl(dialect) for name in names)  # as SQLAlchemy does
    fields = tuple((name, _processor(kind, dialect)) for name, kind in zip(names, types, strict=True))
    return _SqlitePlan(compiled.string, fields)


class SqliteRows:
    """executemany on the transaction's own sqlite3 connection (SQLite)."""

    def __init__(self, dialect: str) -> None:
        self._upserts = Upserts(dialect)
        self._plans: dict[tuple[str, tuple[str, ...], bool], _SqlitePlan] = {}
        self._guards: dict[bool, _SqlitePlan] = {}
        self._held: tuple[Engine, Any] | None = None  # (engine, its connection kept between commits)
        self._holding = threading.Lock()

    def write(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            self._write(cursor, conn.dialect, table, rows, upsert)
        finally:
            cursor.close()

    def commit_guarded(self, engine: Engine, guard: Guard, tables: list[TableRows]) -> None:
        """The guard, the rows and the commit on a pooled sqlite3 connection itself (sqlite3 opens the
        transaction at the guard's UPDATE, as under SQLAlchemy); anything that fails rolls it all back.
        SQLite has one writer, so the connection is kept from one group commit to the next: checking it
        out of the pool and back in (and the pool's rollback on its return) was a tenth of the commit
        thread's time (py-spy, issue 18). One that failed goes back to the pool, or is thrown away."""
        self._on_kept(engine, lambda driver: self._commit_on(driver, engine.dialect, guard, tables))

    def commit_guarded_at_once(self, engine: Engine, guard: Guard, tables: list[TableRows]) -> bool:
        """commit_guarded, unless another connection holds SQLite's write lock: then nothing is written,
        nothing waits, and False is returned (for a caller that must not sit in SQLite's busy handler)."""
        return self._on_kept(engine, lambda driver: self._commit_unless_locked(driver, engine.dialect, guard, tables))

    def _on_kept(self, engine: Engine, commit: Callable[[Any], T]) -> T:
        """`commit(driver)` on the kept connection; one that failed is given back or thrown away."""
        with self._holding:
            fairy = self._kept(engine)
            driver = fairy.driver_connection
            assert driver is not None
            try:
                return commit(driver)
            except BaseException:
                self._held = None
                try:
                    driver.rollback()
                except Exception:  # a connection that cannot even roll back is not given out again
                    fairy.invalidate()
                fairy.close()
                raise

    def _commit_unless_locked(self, driver: Any, dialect: Any, guard: Guard, tables: list[TableRows]) -> bool:
        driver.execute("PRAGMA busy_timeout=0")
        try:
            self._commit_on(driver, dialect, guard, tables)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # the primary code of an extended one
                raise
            driver.rollback()  # the lock is taken at the guard, the first write: nothing was written
            return False
        finally:  # the connection goes on waiting as every other one does (and may go back to the pool)
            driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return True

    def _commit_on(self, driver: Any, dialect: Any, guard: Guard, tables: list[TableRows]) -> None:
        cursor = driver.cursor()
        try:
            plan = self._guard_plan(dialect, guard.state is not None)
            cursor.execute(plan.sql, plan.values(guard_params(guard)))
            if cursor.rowcount != 1:
                raise moved(guard.hall)
            for table, rows, upsert in tables:
                self._write(cursor, dialect, table, rows, upsert)
            driver.commit()
        finally:
            cursor.close()

    def close(self) -> None:
        with self._holding:
            if self._held is not None:
                self._held[1].close()
                self._held = None

    def _kept(self, engine: Engine) -> Any:
        if self._held is None or self._held[0] is not engine:
            if self._held is not None:
                self._held[1].close()
            self._held = (engine, engine.raw_connection())
        return self._held[1]

    def _write(self, cursor: Any, dialect: Any, table: sa.Table, rows: list[dict[str, Any]], upsert: bool) -> None:
        plan = self._plan(dialect, table, tuple(rows[0]), upsert)
        cursor.executemany(plan.sql, [plan.values(row) for row in rows])

    def _plan(self, dialect: Any, table: sa.Table, columns: tuple[str, ...], upsert: bool) -> _SqlitePlan:
        key = (table.name, columns, upsert)
        plan = self._plans.get(key)
        if plan is None:
            statement = self._upserts.statement(table) if upsert else table.insert()
            plan = self._plans[key] = _sqlite_plan(statement, dialect, list(columns))
        return plan

    def _guard_plan(self, dialect: Any, with_state: bool) -> _SqlitePlan:
        plan = self._guards.get(with_state)
        if plan is None:
            plan = self._guards[with_state] = _sqlite_plan(GUARD_WITH_STATE if with_state else GUARD, dialect)
        return plan


class PsycopgRows:
    """Multi-row statements on the transaction's own psycopg connection (PostgreSQL)."""

    def __init__(self) -> None:
        self._sql: dict[Any, bytes] = {}

    def close(self) -> None:  # keeps no connection: several commit threads check theirs out of the pool
        pass

    def write(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        columns = tuple(rows[0])
        json_columns = _json_columns(table, columns)
        cursor = _raw_cursor(conn.connection.dbapi_connection)
        try:
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                values = [_value(row[name], name in json_columns) for row in chunk for name in columns]
                cursor.execute(self._statement(table, columns, len(chunk), upsert, json_columns), values)
        finally:
            cursor.close()

    def commit_guarded(self, engine: Engine, guard: Guard, tables: list[TableRows]) -> None:
        """The sequence guard and every table's rows as ONE statement (data-modifying WITH parts) in its
        own transaction, durable when it returns: one round trip instead of BEGIN, one per table and
        COMMIT. A guard that matches no row divides by zero, so the statement, and everything in it,
        fails: HallTaken. (At most CHUNK rows a table: a bigger group goes statement by statement.)"""
        if any(len(rows) > CHUNK for _, rows, _ in tables):
            with engine.begin() as conn:
                self._advance(conn, guard)
                for table, rows, upsert in tables:
                    self.write(conn, table, rows, upsert=upsert)
            return
        shapes = tuple((table, tuple(rows[0]), len(rows), upsert) for table, rows, upsert in tables)
        sql = self._guarded_statement(guard.state is not None, shapes)
        values = _guard_values(guard)
        for (table, columns, _, _), (_, rows, _) in zip(shapes, tables, strict=True):
            json_columns = _json_columns(table, columns)
            values += [_value(row[name], name in json_columns) for row in rows for name in columns]
        _run_autocommit(engine, sql, values, guard.hall)

    def _advance(self, conn: Connection, guard: Guard) -> None:
        cursor = _raw_cursor(conn.connection.dbapi_connection)
        try:
            cursor.execute(_guard_sql(guard.state is not None, Numbers(), returning=False), _guard_values(guard))
            if cursor.rowcount != 1:
                raise moved(guard.hall)
        finally:
            cursor.close()

    def _guarded_statement(
        self, with_state: bool, shapes: tuple[tuple[sa.Table, tuple[str, ...], int, bool], ...]
    ) -> bytes:
        key = (
            "guarded",
            with_state,
            tuple((table.name, columns, count, upsert) for table, columns, count, upsert in shapes),
        )
        sql = self._sql.get(key)  # type: ignore[call-overload]
        if sql is None:
            numbers = Numbers()  # the guard's parameters first, then each table's rows in order
            parts = [f"g AS ({_guard_sql(with_state, numbers, returning=True)})"]
            parts += [f"w{i} AS ({_insert_sql(table, columns, count, upsert, _json_columns(table, columns), numbers)})"
                      for i, (table, columns, count, upsert) in enumerate(shapes)]  # fmt: skip
            sql = ("WITH " + ", ".join(parts) + " SELECT 1 / count(*) FROM g").encode()
            self._remember(key, sql)
        return sql

    def _remember(self, key: Any, sql: bytes) -> None:
        if len(self._sql) >= MAX_STATEMENTS:
            self._sql.clear()
        self._sql[key] = sql

    def _statement(self, table: sa.Table, columns: tuple[str, ...], count: int, upsert: bool,
                   json_columns: set[str]) -> bytes:  # fmt: skip
        key = (table.name, columns, count, upsert)
        sql = self._sql.get(key)
        if sql is None:
            sql = _insert_sql(table, columns, count, upsert, json_columns, Numbers()).encode()
            self._remember(key, sql)
        return sql


class Numbers:
    """PostgreSQL's placeholders $1, $2, … in the order the statement's values are sent."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self, cast: str = "") -> str:
        self._next += 1
        return f"${self._next}{cast}"


def _raw_cursor(dbapi_connection: Any) -> Any:
    import psycopg

    return psycopg.RawCursor(dbapi_connection)


def _json_columns(table: sa.Table, columns: tuple[str, ...]) -> set[str]:
    return {name for name in columns if isinstance(table.c[name].type, sa.JSON)}


def _guard_sql(with_state: bool, n: Numbers, *, returning: bool) -> str:
    """In _guard_values' order: last_seq, now, [state], hall, expected."""
    last_seq, now = n(), n()
    state = f', "state" = {n("::json")}' if with_state else ""
    where = f'"hall" = {n()} AND "last_seq" = {n()}'
    sql = f'UPDATE "halls" SET "last_seq" = {last_seq}, "updated_at" = {now}{state} WHERE {where}'
    return sql + (" RETURNING 1" if returning else "")


def _guard_values(guard: Guard) -> list[Any]:
    state = [json_text(guard.state)] if guard.state is not None else []
    return [guard.last_seq, guard.now, *state, guard.hall, guard.expected]


def _run_autocommit(engine: Engine, sql: bytes, values: list[Any], hall: str) -> None:
    """One statement as its own transaction (autocommit): with synchronous_commit on, it returns once
    its commit is on the disk. A connection that failed is discarded from the pool."""
    import psycopg

    fairy = engine.raw_connection()
    try:
        driver = fairy.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.autocommit = True
        try:
            with psycopg.RawCursor(driver) as cursor:
                cursor.execute(sql, values)
        finally:
            if not driver.closed:
                driver.autocommit = False
    except psycopg.errors.DivisionByZero as exc:
        raise moved(hall) from exc
    except psycopg.OperationalError:
        fairy.invalidate()
        raise
    finally:
        fairy.close()


def _value(value: Any, is_json: bool) -> Any:
    return json_text(value) if is_json and value is not None else value


def _insert_sql(
    table: sa.Table, columns: tuple[str, ...], count: int, upsert: bool, json_columns: set[str], n: Numbers
) -> str:
    quoted = [f'"{name}"' for name in columns]
    casts = ["::json" if name in json_columns else "" for name in columns]
    rows = ("(" + ", ".join(n(cast) for cast in casts) + ")" for _ in range(count))
    sql = f'INSERT INTO "{table.name}" ({", ".join(quoted)}) VALUES ' + ", ".join(rows)
    if upsert:
        keys = [c.name for c in table.primary_key.columns]
        # as SQLAlchemy's upsert (database.Upserts): every column outside the key, from the new row
        update = ", ".join(f'"{c.name}" = EXCLUDED."{c.name}"' for c in table.columns if c.name not in keys)
        sql += " ON CONFLICT (" + ", ".join(f'"{k}"' for k in keys) + f") DO UPDATE SET {update}"
    return sql


def row_writer(dialect: str) -> RowWriter:
    return SqliteRows(dialect) if dialect == "sqlite" else PsycopgRows()
