from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image

from hallq.config import HallConfig, example_config_path, load_hall_config
from server.api import cases as cases_api
from server.app import create_app
from server.cases.service import CaseService
from server.cases.uploads import FileStore
from server.settings import build_settings
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

DEMO_DEVICE = {"Authorization": "Bearer demo-device-token"}
SAMPLE_CARD = {"id_number": "321183195003120011", "name": "张三", "birth": "19500312"}


def submit_realestate_transfer(client: httpx.Client, base: str = "/api/v1/halls/demo") -> tuple[str, str]:
    """A 不动产转移登记 submission with four materials uploaded and the fifth (完税凭证) deferred under a
    signed promise, not yet completed: (case id, access key). `client` is a TestClient or an httpx client."""
    reply = client.post(
        f"{base}/submissions",
        headers=DEMO_DEVICE,
        json={"item": "realestate-transfer", "id_card": SAMPLE_CARD, "phone": "13812345678"},
    )
    assert reply.status_code == 201, reply.text
    case_id, key = reply.json()["id"], reply.json()["access"]
    for idx in range(4):
        up = client.put(f"{base}/submissions/{case_id}/materials/{idx}?k={key}", headers=DEMO_DEVICE, content=PDF)
        assert up.status_code == 200, up.text
    signed = client.post(
        f"{base}/submissions/{case_id}/materials/4/defer?k={key}", headers=DEMO_DEVICE, content=png_bytes("black")
    )
    assert signed.status_code == 200, signed.text
    return case_id, key


# ---- the back office's tests: the real app on SQLite and PostgreSQL, the test's clock, window printers --


@dataclass
class Clock:
    now: dt.datetime

    def at(self, text: str) -> None:
        """Set the hall's local time (Asia/Shanghai), e.g. "2026-09-30 14:10"."""
        self.now = dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(dt.UTC)


@pytest.fixture
def printers(tmp_path: Path) -> dict[str, Path]:
    return {"4": tmp_path / "window4.bin", "12": tmp_path / "window12.bin"}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(dt.datetime(2026, 9, 30, 6, 10, tzinfo=dt.UTC))
    monkeypatch.setattr(cases_api, "utcnow", lambda: clock.now)
    return clock


@pytest.fixture
def client(database_url: str, tmp_path: Path, printers: dict[str, Path], clock: Clock) -> Iterator[TestClient]:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    for window in data["windows"]:
        if window["id"] in printers:
            window["printer"] = f"file://{printers[window['id']]}"
    config = tmp_path / "hall.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = build_settings(demo=True, config=str(config), database=database_url, environ={})
    with TestClient(create_app(settings, start_bus=False)) as test_client:
        yield test_client
