"""`hallq hub` on the command line (server/network/cli.py): add-hall prints the token once and keeps
its sha256; a bad registration or a missing database is a sentence and exit 2; add-user's staff log
in at the hub; a hub outside demo mode refuses to start with a demo password in its database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hallq.cli import main
from server.auth import hash_password, sha256_hex
from server.network.registry import HallRegistry
from server.store import CredentialStore, Store
from tests.network.inprocess import hub_client, in_loop


def hub(database: str, *args: str) -> int:
    return main(["hub", *args, "--database", database])


def test_add_hall_prints_the_token_once_and_keeps_only_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    assert hub(database, "add-hall", "jurong", "--name", "句容市政务服务中心", "--kind", "center") == 0
    token = capsys.readouterr().out.strip()
    assert hub(database, "add-hall", "baohua", "--name", "宝华镇", "--kind", "town", "--parent", "jurong") == 0
    capsys.readouterr()
    store = Store(database)
    registry = HallRegistry(store.engine)
    found = registry.by_token(sha256_hex(token))
    assert found is not None and found.hall == "jurong" and found.kind == "center"
    assert registry.get("baohua").parent == "jurong"  # type: ignore[union-attr]
    with store.engine.connect() as conn:
        assert token not in str(conn.exec_driver_sql("SELECT * FROM hub_halls").all())
    store.close()
    assert hub(database, "add-hall", "x", "--name", "村", "--kind", "village", "--parent", "nowhere") == 2
    assert "not registered" in capsys.readouterr().err


def test_a_hub_needs_its_database(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HALLQ_HUB_DATABASE", raising=False)
    assert main(["hub", "add-hall", "a", "--name", "a", "--kind", "town"]) == 2
    assert "--database" in capsys.readouterr().err


def test_a_hub_outside_demo_mode_refuses_a_demo_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    store = Store(database)
    store.migrate()
    CredentialStore(store.engine).add_user("chief", hash_password("demo"), "supervisor", "")
    store.close()
    assert hub(database) == 2
    assert "chief" in capsys.readouterr().err


@in_loop
async def test_add_user_makes_staff_who_log_in_at_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert hub(database, "add-user", "chief", "--role", "supervisor", "--password-stdin") == 0
    assert "chief" in capsys.readouterr().out
    async with hub_client(database, demo=False) as client:
        login = await client.post("/auth/login", json={"username": "chief", "password": "a-long-password"})
        assert login.status_code == 200 and login.json()["role"] == "supervisor"
        halls = await client.get("/hub/halls", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert halls.status_code == 200 and halls.json() == []
