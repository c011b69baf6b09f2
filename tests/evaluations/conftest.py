"""好差评 tests run on SQLite and PostgreSQL, with the dispatcher tests' fixtures."""

from tests.server.conftest import database  # noqa: F401  (the SQLite + PostgreSQL fixture)
