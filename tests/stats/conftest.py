"""The statistics tests use the dispatcher's fixtures: SQLite always, PostgreSQL where reachable."""

from tests.server.conftest import database, sqlite_url  # noqa: F401  (the fixtures, re-exported)
