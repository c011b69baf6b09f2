"""Several halls on one dispatcher (issue 18): a directory of hall files or `--config` given more than
once, each hall's tickets and calls in its own hall, and every configured credential confined to the
hall whose file defines it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hallq.config import ConfigError, HallConfig
from server.auth import sha256_hex
from server.settings import build_settings
from tests.server.conftest import DEMO, demo_config, make_settings, running_app

SECRET = {"HALLQ_HMAC_SECRET": "s" * 40}
EAST = {"Authorization": "Bearer east-device-token"}


def east_config() -> HallConfig:
    """The demo hall again as hall `east`, with its own device and clerks (`e-clerk1`…)."""
    data = demo_config(id="east", name="东区政务服务中心").model_dump()
    data["credentials"]["devices"] = [
        {**d, "id": "east-device", "token_sha256": sha256_hex("east-device-token")}
        for d in data["credentials"]["devices"]
    ]
    for user in data["credentials"]["users"]:
        user["username"] = f"e-{user['username']}"
    for department in data["departments"]:
        department["staff"] = [f"e-{name}" for name in department["staff"]]
    return HallConfig.model_validate(data)


def write_hall(path: Path, config: HallConfig) -> Path:
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    return path


def test_a_directory_of_hall_files_is_one_hall_each(tmp_path: Path) -> None:
    halls = tmp_path / "halls"
    halls.mkdir()
    write_hall(halls / "demo.yaml", demo_config())
    write_hall(halls / "east.yml", east_config())
    (halls / "README.txt").write_text("not a hall")
    settings = build_settings(config=str(halls), environ=SECRET, check_credentials=False)
    assert [c.hall.id for c in settings.halls] == ["demo", "east"]
    again = build_settings(
        config=[str(halls / "east.yml"), str(halls / "demo.yaml")], environ=SECRET, check_credentials=False
    )
    assert [c.hall.id for c in again.halls] == ["east", "demo"]


def test_two_halls_with_one_id_or_one_credential_are_refused(tmp_path: Path) -> None:
    first = write_hall(tmp_path / "a.yaml", demo_config())
    second = write_hall(tmp_path / "b.yaml", demo_config())
    with pytest.raises(ConfigError, match="hall id 'demo' is given by 2 hall configs"):
        build_settings(config=[str(first), str(second)], environ=SECRET, check_credentials=False)
    data = east_config().model_dump()
    data["credentials"]["users"][0]["username"] = "clerk1"
    shared = write_hall(tmp_path / "c.yaml", HallConfig.model_validate(data))
    with pytest.raises(ConfigError, match="user name 'clerk1' is in hall 'demo' and in hall 'east'"):
        build_settings(config=[str(first), str(shared)], environ=SECRET, check_credentials=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no hall config"):
        build_settings(config=str(tmp_path / "empty"), environ=SECRET, check_credentials=False)


def run(database: str, scenario: Any) -> None:
    async def main() -> None:
        settings = make_settings(database).model_copy(update={"other_halls": (east_config(),)})
        async with running_app(settings) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


async def issue(client: httpx.AsyncClient, hall: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(f"/halls/{hall}/tickets", json={"service": "A"}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def login(client: httpx.AsyncClient, username: str, hall: str, window: str) -> httpx.Response:
    body = {"username": username, "password": "demo", "hall": hall, "window": window}
    return await client.post("/auth/login", json=body)


def test_tickets_and_calls_stay_in_their_hall(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        demo_ticket = await issue(client, "demo", DEMO)
        east_tickets = [await issue(client, "east", EAST) for _ in range(2)]
        assert demo_ticket["number"] == east_tickets[0]["number"]  # each hall numbers its own day
        east_clerk = await login(client, "e-clerk1", "east", "1")
        assert east_clerk.status_code == 200, east_clerk.text
        headers = {"Authorization": f"Bearer {east_clerk.json()['access_token']}"}
        called = await client.post("/halls/east/windows/1/call-next", headers=headers)
        assert called.status_code == 200 and called.json()["ticket"]["id"] == east_tickets[0]["id"]
        demo_hall = app.state.dispatcher.halls["demo"].engine
        east_hall = app.state.dispatcher.halls["east"].engine
        assert demo_hall.ticket(demo_ticket["id"]).status == "waiting"
        assert demo_hall.ticket(east_tickets[0]["id"]) is None
        assert east_hall.ticket(east_tickets[0]["id"]).status == "called"
        assert (await client.get("/halls/east/tickets/" + demo_ticket["id"], headers=EAST)).status_code == 404

    run(database, scenario)


def test_a_credential_of_hall_east_cannot_act_in_hall_demo(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await issue(client, "demo", DEMO)
        refused = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=EAST)
        assert refused.status_code == 403, refused.text
        assert (await client.post("/halls/demo/windows/1/call-next", headers=EAST)).status_code == 403
        assert (await client.post("/halls/east/windows/1/call-next", headers=DEMO)).status_code == 403
        assert (await login(client, "e-clerk1", "demo", "1")).status_code == 401  # not a clerk of that hall
        east_clerk = await login(client, "e-clerk1", "east", "1")
        assert east_clerk.status_code == 200
        headers = {"Authorization": f"Bearer {east_clerk.json()['access_token']}"}
        assert (await client.post("/halls/demo/windows/1/call-next", headers=headers)).status_code == 403
        waiting = app.state.dispatcher.halls["demo"].engine.waiting_count("A")
        assert waiting == 1  # nothing called in hall demo by east's credentials

    run(database, scenario)


def test_mqtt_window_commands_are_confined_to_the_device_hall(database: str) -> None:
    from server.usecases.windows import device_may_command

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        dispatcher = app.state.dispatcher
        assert device_may_command(dispatcher, "east", "east-device", "east-device-token", "1")
        assert not device_may_command(dispatcher, "demo", "east-device", "east-device-token", "1")
        assert not device_may_command(dispatcher, "demo", "east-device", None, "1")
        assert device_may_command(dispatcher, "demo", "demo-device", None, "1")

    run(database, scenario)


def test_one_hallq_server_serves_a_directory_of_halls(tmp_path: Path) -> None:
    from tests.support.dispatcher import start_dispatcher

    halls = tmp_path / "halls"
    halls.mkdir()
    write_hall(halls / "demo.yaml", demo_config())
    write_hall(halls / "east.yaml", east_config())
    server = start_dispatcher(tmp_path, extra_args=["--config", str(halls)])
    try:
        ids = {}
        for hall, headers in (("demo", DEMO), ("east", EAST)):
            issued = httpx.post(f"{server.api}/halls/{hall}/tickets", json={"service": "A"}, headers=headers)
            assert issued.status_code == 201, issued.text
            ids[hall] = issued.json()["id"]
        assert httpx.get(f"{server.api}/halls/east/tickets/{ids['east']}", headers=EAST).status_code == 200
        assert httpx.get(f"{server.api}/halls/east/tickets/{ids['demo']}", headers=EAST).status_code == 404
        crossed = httpx.post(f"{server.api}/halls/demo/tickets", json={"service": "A"}, headers=EAST)
        assert crossed.status_code == 403
        assert "2 halls (demo, east)" in server.log_text()
    finally:
        server.terminate()


@pytest.mark.pg
def test_more_halls_than_the_connection_pool_holds_start_on_postgresql() -> None:
    """Each hall's advisory lock once held a pooled connection of its own: 17 halls or more exhausted the
    pool (8 + 8) and the dispatcher could not start. All locks now share one connection."""
    from tests.server.conftest import fresh_pg_database

    def hall(n: int) -> HallConfig:
        data = demo_config(id=f"h{n:02d}").model_dump()
        data["credentials"] = {"devices": [], "users": []}
        return HallConfig.model_validate(data)

    async def main(database: str) -> None:
        settings = make_settings(database).model_copy(update={"other_halls": tuple(hall(n) for n in range(24))})
        async with running_app(settings) as (client, app):
            dispatcher = app.state.dispatcher
            assert all(runtime.engine is not None for runtime in dispatcher.halls.values())
            assert (await client.get("/halls/h23")).status_code == 200
            assert (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).status_code == 201

    with fresh_pg_database() as database:
        asyncio.run(main(database))


def test_the_statistics_folder_folds_only_the_halls_committed_to(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With many halls, a commit in one must not make the folder read every hall's cursor and events."""
    from server.stats import worker

    folded: list[str] = []
    real_fold_all = worker.fold_all

    def recording(store: Any, hall: str, zone: Any, on_folded: Any = None, **options: Any) -> int:
        folded.append(hall)
        return real_fold_all(store, hall, zone, on_folded, **options)

    monkeypatch.setattr(worker, "fold_all", recording)

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        folder = app.state.stats_folder
        assert await asyncio.to_thread(folder.wait_folded, 30)
        assert set(folded) == {"demo", "east"}, "the catch-up at start folds every hall"
        committed: set[str] = set()
        app.state.dispatcher.on_commit.append(lambda hall, _seq: committed.add(hall))
        folded.clear()
        await issue(client, "east", EAST)
        assert await asyncio.to_thread(folder.wait_folded, 30)
        assert "east" in folded and set(folded) <= committed, (folded, committed)

    run(database, scenario)
