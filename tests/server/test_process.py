"""The real `hallq server` process: kill -9 during a burst of issues loses no ticket whose 201 arrived,
a restart continues the day's numbering, production mode refuses demo credentials, and the
`hallq user` / `hallq token` commands write credentials the server accepts."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import httpx
import pytest

from hallq.config import example_config_path
from server import cli as server_cli
from tests.support.dispatcher import TEST_HMAC_SECRET, start_dispatcher

DEMO = {"Authorization": "Bearer demo-device-token"}


def _burst(api: str, stop: threading.Event, received: list[dict[str, str]], service: str) -> None:
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                response = client.post(f"{api}/halls/demo/tickets", json={"service": service}, headers=DEMO)
            except httpx.HTTPError:
                return  # the server died mid-request: that ticket was never confirmed
            if response.status_code == 201:
                received.append(response.json())


def test_kill_9_during_a_burst_loses_no_confirmed_ticket(tmp_path: Path, database: str) -> None:
    dispatcher = start_dispatcher(tmp_path, database=database)
    try:
        stop = threading.Event()
        received: list[dict[str, str]] = []
        workers = [
            threading.Thread(target=_burst, args=(dispatcher.api, stop, received, service))
            for service in ("E", "F", "F")
        ]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 20
        while len(received) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        dispatcher.kill()
        stop.set()
        for worker in workers:
            worker.join(10)
        assert len(received) >= 20, dispatcher.log_text()[-2000:]

        dispatcher.start()
        with httpx.Client(base_url=dispatcher.api, headers=DEMO, timeout=10) as client:
            for ticket in received:
                again = client.get(f"/halls/demo/tickets/{ticket['id']}")
                assert again.status_code == 200, (ticket["number"], again.text)
                assert again.json()["number"] == ticket["number"]
            highest = max(int(t["number"][1:]) for t in received if t["number"].startswith("F"))
            after = client.post("/halls/demo/tickets", json={"service": "F"}).json()
            assert int(after["number"][1:]) > highest, "numbering continues after the crash"
    finally:
        dispatcher.kill()


def test_restart_mid_day_continues_numbering_and_state(tmp_path: Path) -> None:
    dispatcher = start_dispatcher(tmp_path)
    try:
        clerk = dispatcher.clerk_headers("8")
        with httpx.Client(base_url=dispatcher.api, timeout=10) as client:
            keyed = {**DEMO, "Idempotency-Key": "kiosk-7:42"}
            numbers = [client.post("/halls/demo/tickets", json={"service": "E"}, headers=h).json()["number"]
                       for h in (DEMO, DEMO, keyed)]  # fmt: skip
            assert numbers == ["E001", "E002", "E003"]
            assert client.post("/halls/demo/windows/8/call-next", headers=clerk).json()["ticket"]["number"] == "E001"
        dispatcher.restart()
        with httpx.Client(base_url=dispatcher.api, timeout=10) as client:
            retried = client.post("/halls/demo/tickets", json={"service": "E"}, headers=keyed)
            assert retried.status_code == 201 and retried.json()["number"] == "E003", "the key outlives a restart"
            assert client.post("/halls/demo/tickets", json={"service": "E"}, headers=DEMO).json()["number"] == "E004"
            window = client.get("/halls/demo/windows/8", headers=clerk)  # the login survives the restart
            assert window.status_code == 200 and window.json()["ticket"]["number"] == "E001"
            nxt = client.post("/halls/demo/windows/8/call-next", headers=clerk)
            assert nxt.json()["ticket"]["number"] == "E002"
            board = client.get("/halls/demo/board").json()
            assert board["waiting"]["E"]["count"] == 2  # E003, E004
            # Personal data never reaches the log, in success or in error.
            card = {"id_number": "320115194501011238", "name": "欧阳明", "birth": "19450101"}
            assert client.post("/halls/demo/tickets", json={"service": "E", "id_card": card},
                               headers=DEMO).status_code == 201  # fmt: skip
            bad = {**card, "birth": "19451301"}
            assert client.post("/halls/demo/tickets", json={"service": "E", "id_card": bad},
                               headers=DEMO).status_code == 422  # fmt: skip
        log = dispatcher.log_text()
        assert "320115194501011238" not in log and "欧阳明" not in log and "19451301" not in log
    finally:
        dispatcher.kill()


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _hallq(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Ran:
    """`hallq server|user|token ...` in-process (the commands return before serving when they refuse)."""
    parser = argparse.ArgumentParser(prog="hallq")
    sub = parser.add_subparsers(dest="command")
    for register in (server_cli.register_server, server_cli.register_user, server_cli.register_token):
        register(sub)
    parsed = parser.parse_args(list(args))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}
    environment.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, environment, clear=True),
        mock.patch("sys.stdin", io.StringIO(stdin)),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        mock.patch("uvicorn.run", side_effect=AssertionError("the server must refuse before serving")),
    ):
        code = parsed.func(parsed)
    return Ran(code, out.getvalue(), err.getvalue())


def test_production_mode_refuses_demo_credentials_and_weak_secret(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    config = str(example_config_path())
    secret = {"HALLQ_HMAC_SECRET": TEST_HMAC_SECRET}
    refused = _hallq("server", "--config", config, "--database", db, "--port", "0", env=secret)
    assert refused.returncode == 2
    assert "demo-device-token" in refused.stderr and "'clerk1' has the demo password" in refused.stderr
    short = _hallq("server", "--config", config, "--database", db, env={"HALLQ_HMAC_SECRET": "short"})
    assert short.returncode == 2 and "HALLQ_HMAC_SECRET" in short.stderr
    missing = _hallq("server", "--config", config, "--database", db)
    assert missing.returncode == 2 and "HALLQ_HMAC_SECRET" in missing.stderr


def test_production_mode_refuses_a_database_user_with_the_demo_password(tmp_path: Path) -> None:
    config = tmp_path / "hall.yaml"
    text = example_config_path().read_text(encoding="utf-8")
    config.write_text(text.split("\ncredentials:")[0] + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    secret = {"HALLQ_HMAC_SECRET": TEST_HMAC_SECRET}
    added = _hallq("user", "add", "lazy", "--password-stdin", "--config", str(config), "--database", db,
                   env=secret, stdin="demo\n")  # fmt: skip
    assert added.returncode == 2 and "8 characters" in added.stderr  # too short outside demo
    added = _hallq("user", "add", "lazy", "--password-stdin", "--demo", "--database", db, stdin="demo\n")
    assert added.returncode == 0, added.stderr
    refused = _hallq("server", "--config", str(config), "--database", db, env=secret)
    assert refused.returncode == 2 and "'lazy' has the demo password" in refused.stderr


@pytest.mark.parametrize("windows", ["3"])
def test_user_and_token_commands_give_working_credentials(tmp_path: Path, windows: str) -> None:
    db = f"sqlite:///{tmp_path / 'hallq.sqlite3'}"
    added = _hallq("user", "add", "zhao", "--role", "clerk", "--display-name", "赵*", "--password-stdin",
                   "--demo", "--database", db, stdin="long-enough-secret\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    created = _hallq("token", "create", "keypad-3", "--kind", "keypad_bridge", "--windows", windows,
                     "--demo", "--database", db)  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert len(token) > 30 and token not in Path(tmp_path / "hallq.sqlite3").read_bytes().decode("latin-1")
    bad_window = _hallq("token", "create", "kp", "--kind", "keypad_bridge", "--windows", "99", "--demo",
                        "--database", db)  # fmt: skip
    assert bad_window.returncode == 2 and "99" in bad_window.stderr

    dispatcher = start_dispatcher(tmp_path, database=db)
    try:
        with httpx.Client(base_url=dispatcher.api, timeout=10) as client:
            login = client.post("/auth/login", json={"username": "zhao", "password": "long-enough-secret",
                                                     "window": "3"})  # fmt: skip
            assert login.status_code == 200 and login.json()["display_name"] == "赵*"
            keypad = {"Authorization": f"Bearer {token}"}
            client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            assert client.post("/halls/demo/windows/3/call-next", headers=keypad).status_code == 200
            assert client.post("/halls/demo/windows/1/call-next", headers=keypad).status_code == 403
            window = client.get("/halls/demo/windows/3", headers=keypad).json()
            assert window["clerk"] == "赵*"
    finally:
        dispatcher.kill()


@pytest.mark.pg
def test_second_dispatcher_stands_by_and_takes_over_on_postgresql(tmp_path: Path) -> None:
    from tests.server.conftest import fresh_pg_database

    with fresh_pg_database() as database:
        first = start_dispatcher(tmp_path / "a", database=database)
        second = None
        try:
            second = start_dispatcher(tmp_path / "b", database=database, standby=True)
            issued = httpx.post(f"{first.api}/halls/demo/tickets", json={"service": "G"}, headers=DEMO, timeout=10)
            assert issued.json()["number"] == "G001"
            refused = httpx.post(f"{second.api}/halls/demo/tickets", json={"service": "G"}, headers=DEMO, timeout=10)
            assert refused.status_code == 503 and "备用" in refused.json()["detail"]
            assert httpx.get(f"{second.api}/health", timeout=10).json()["halls"]["demo"]["state"] == "standby"
            assert httpx.get(f"{first.api}/health", timeout=10).json()["halls"]["demo"] == {"state": "active",
                                                                                           "seq": 1}  # fmt: skip
            first.kill()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if httpx.get(f"{second.api}/halls/demo", timeout=5).status_code == 200:
                    break
                time.sleep(0.2)
            after = httpx.post(f"{second.api}/halls/demo/tickets", json={"service": "G"}, headers=DEMO, timeout=10)
            assert after.status_code == 201 and after.json()["number"] == "G002", after.text
        finally:
            first.kill()
            if second is not None:
                second.kill()
