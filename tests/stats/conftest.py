"""The statistics tests use the dispatcher's fixtures: SQLite always, PostgreSQL where reachable."""

from tests.server.conftest import database  # noqa: F401  (the fixture, re-exported)
