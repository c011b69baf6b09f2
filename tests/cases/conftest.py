from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from hallq.config import HallConfig, example_config_path, load_hall_config
from server.cases.service import CaseService
from server.cases.uploads import FileStore
from server.store import Store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    name = f"hallq_cases_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL reachable at 127.0.0.1:5432 ({exc}); the PostgreSQL leg is skipped")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.sqlite3'}"
    else:
        yield from _postgres_url()


@pytest.fixture
def config() -> HallConfig:
    return load_hall_config(example_config_path())


@pytest.fixture
def cases(database_url: str, config: HallConfig, tmp_path: Path) -> Iterator[CaseService]:
    store = Store(database_url)
    store.migrate()
    yield CaseService(store.engine, config, FileStore(tmp_path / "files"), b"k" * 32)
    store.close()


def png_bytes(colour: str = "white", size: tuple[int, int] = (60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(colour: str = "white") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 100), colour).save(out, "JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
