"""How the group commit writes a table's rows: one statement per table per transaction.

On PostgreSQL through the driver (psycopg) directly: one multi-row INSERT (… ON CONFLICT DO UPDATE)
whose text is built once per (table, columns, row count), JSON columns as orjson text cast to json,
exactly the values SQLAlchemy writes. SQLAlchemy's executemany ran each table through psycopg's
pipeline mode, whose wait for the answer kept the GIL (py-spy: 18 % of the dispatcher's call-next
time on PostgreSQL), plus a compile-cache lookup and an execution context per statement. SQLite keeps
SQLAlchemy's executemany (sqlite3 has no round trips to save; the ratio target is met there).
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.store.database import Upserts, json_text

CHUNK = 1000  # rows per statement: far below PostgreSQL's 65 535 bound parameters for our tables


class RowWriter(Protocol):
    def write(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        """Insert the rows (every row with the same keys); `upsert`: a row whose primary key exists
        replaces every other column of it."""


class SqlAlchemyRows:
    """executemany of a statement built once per table (SQLite)."""

    def __init__(self, dialect: str) -> None:
        self._upserts = Upserts(dialect)

    def write(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        conn.execute(self._upserts.statement(table) if upsert else table.insert(), rows)


class PsycopgRows:
    """Multi-row statements on the transaction's own psycopg connection (PostgreSQL)."""

    def __init__(self) -> None:
        self._sql: dict[tuple[str, tuple[str, ...], int, bool], str] = {}

    def write(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        columns = tuple(rows[0])
        json_columns = {name for name in columns if isinstance(table.c[name].type, sa.JSON)}
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                values = [_value(row[name], name in json_columns) for row in chunk for name in columns]
                cursor.execute(self._statement(table, columns, len(chunk), upsert, json_columns), values)
        finally:
            cursor.close()

    def _statement(self, table: sa.Table, columns: tuple[str, ...], count: int, upsert: bool,
                   json_columns: set[str]) -> str:  # fmt: skip
        key = (table.name, columns, count, upsert)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = _insert_sql(table, columns, count, upsert, json_columns)
        return sql


def _value(value: Any, is_json: bool) -> Any:
    return json_text(value) if is_json and value is not None else value


def _insert_sql(table: sa.Table, columns: tuple[str, ...], count: int, upsert: bool, json_columns: set[str]) -> str:
    quoted = [f'"{name}"' for name in columns]
    one = "(" + ", ".join("%s::json" if name in json_columns else "%s" for name in columns) + ")"
    sql = f'INSERT INTO "{table.name}" ({", ".join(quoted)}) VALUES ' + ", ".join([one] * count)
    if upsert:
        keys = [c.name for c in table.primary_key.columns]
        # as SQLAlchemy's upsert (database.Upserts): every column outside the key, from the new row
        update = ", ".join(f'"{c.name}" = EXCLUDED."{c.name}"' for c in table.columns if c.name not in keys)
        sql += " ON CONFLICT (" + ", ".join(f'"{k}"' for k in keys) + f") DO UPDATE SET {update}"
    return sql


def row_writer(dialect: str) -> RowWriter:
    return SqlAlchemyRows(dialect) if dialect == "sqlite" else PsycopgRows()
