"""Alembic environment: run by server.store.Store.migrate() with a live connection in
`config.attributes["connection"]`, or by the alembic command with sqlalchemy.url set."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import server.appointments.tables  # noqa: F401  (the 预约 tables)
import server.cases.tables  # noqa: F401  (registers the case tables on the metadata)
import server.evaluations.tables  # noqa: F401  (the 好差评 tables)
import server.network.forward_tables  # noqa: F401  (the catalogue and cases across halls)
import server.network.tables  # noqa: F401  (the hub's register of halls)
import server.notify.tables  # noqa: F401  (the phone queue's notifier)
import server.stats.tables  # noqa: F401  (and the statistics tables)
from server.store.schema import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///var/hallq.sqlite3")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
