"""Who may do what to a citizen's ticket (issue 12): cancel and 好差评, on SQLite and PostgreSQL.

Each device of the hall has its own credential here, as a production hall has: a board, a keypad and
an evaluator at window 1, a terminal at window 1, a kiosk, and an evaluator at window 2."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from hallq.config import HallConfig
from server.auth import sha256_hex
from tests.server.conftest import DEMO, demo_config, make_settings, running_app
from tests.server.test_api import clerk

DEVICES = {
    "board-1": ("board", []),
    "keypad-1": ("keypad_bridge", ["1"]),
    "kiosk-1": ("kiosk", []),
    "terminal-1": ("terminal", ["1"]),
    "evaluator-1": ("evaluator", ["1"]),
    "evaluator-2": ("evaluator", ["2"]),
}


def token_of(device: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {device}-token"}


def hall_with_devices() -> HallConfig:
    data = demo_config().model_dump()
    for device, (kind, windows) in DEVICES.items():
        data["credentials"]["devices"].append(
            {"id": device, "kind": kind, "token_sha256": sha256_hex(f"{device}-token"), "windows": windows}
        )
    return HallConfig.model_validate(data)


def run(database: str, scenario: Any) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, hall_with_devices())) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


async def issue(client: httpx.AsyncClient) -> tuple[str, str]:
    """A waiting ticket: its id and its access key (the QR code's `k`)."""
    response = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=token_of("kiosk-1"))
    assert response.status_code == 201, response.text
    ticket = response.json()
    return ticket["id"], ticket["status_url"].split("k=")[1]


async def served_at_window_1(client: httpx.AsyncClient, clerk1: dict[str, str]) -> tuple[str, str]:
    """A ticket called and finished at window 1 (ready to be rated)."""
    ticket_id, access = await issue(client)
    assert (await client.post("/halls/demo/windows/1/call-next", headers=clerk1)).status_code == 200
    assert (await client.post("/halls/demo/windows/1/finish", headers=clerk1)).status_code == 200
    return ticket_id, access


def test_only_the_citizen_a_kiosk_or_a_supervisor_cancels(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, _app: Any) -> None:
        clerk1 = await clerk(client, "1")
        ticket_id, access = await issue(client)
        refused = {
            "board": token_of("board-1"),
            "keypad": token_of("keypad-1"),
            "evaluator": token_of("evaluator-1"),
            "terminal": token_of("terminal-1"),
            "clerk": clerk1,
        }
        for who, headers in refused.items():
            response = await client.post(f"/halls/demo/tickets/{ticket_id}/cancel", headers=headers)
            assert response.status_code == 403, (who, response.text)
            assert len(response.json()["detail"]) > 10, "a sentence saying why"
        still = await client.get(f"/halls/demo/tickets/{ticket_id}", params={"k": access})
        assert still.json()["status"] == "waiting", "nothing refused changed the ticket"

        by_citizen = await client.post(f"/halls/demo/tickets/{ticket_id}/cancel", params={"k": access})
        assert by_citizen.status_code == 200 and by_citizen.json()["status"] == "cancelled"
        at_kiosk, _ = await issue(client)
        by_kiosk = await client.post(f"/halls/demo/tickets/{at_kiosk}/cancel", headers=token_of("kiosk-1"))
        assert by_kiosk.status_code == 200 and by_kiosk.json()["status"] == "cancelled"
        by_demo_kiosk, _ = await issue(client)  # the demo's one credential stands for its kiosk too
        assert (await client.post(f"/halls/demo/tickets/{by_demo_kiosk}/cancel", headers=DEMO)).status_code == 200

    run(database, scenario)


def test_only_the_citizen_rates_never_staff_or_another_device(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, _app: Any) -> None:
        clerk1 = await clerk(client, "1")
        supervisor = await clerk(client, "2", username="supervisor")
        ticket_id, access = await served_at_window_1(client, clerk1)
        path = f"/halls/demo/tickets/{ticket_id}/evaluation"
        refused = {
            "the clerk who served it": clerk1,
            "a supervisor": supervisor,
            "a board": token_of("board-1"),
            "a keypad": token_of("keypad-1"),
            "the evaluator of another window": token_of("evaluator-2"),
        }
        for who, headers in refused.items():
            response = await client.post(path, json={"score": 5}, headers=headers)
            assert response.status_code == 403, (who, response.text)
            assert len(response.json()["detail"]) > 10
        # nothing was stored: the citizen still rates, once
        rated = await client.post(path, json={"score": 4}, params={"k": access})
        assert rated.status_code == 200, rated.text
        again = await client.post(path, json={"score": 1}, headers=token_of("evaluator-1"))
        assert again.status_code == 409, "rated once (一次一评)"

        for rater in ("evaluator-1", "terminal-1", "kiosk-1"):
            served, _ = await served_at_window_1(client, clerk1)
            response = await client.post(
                f"/halls/demo/tickets/{served}/evaluation", json={"score": 5}, headers=token_of(rater)
            )
            assert response.status_code == 200, (rater, response.text)

    run(database, scenario)


def test_a_kiosk_finds_the_card_holders_served_ticket_to_rate(database: str) -> None:
    """好差评 by ID card at the kiosk: the card holder's ticket served last today, found by the card's
    HMAC; only a kiosk may ask, a card with nothing served is told so, a bad card is 422."""
    holder = {"id_number": "321183195003120011", "name": "张三", "birth": "19500312"}
    other = {"id_number": "11010519491231002X", "name": "李四", "birth": "19491231"}

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        clerk1 = await clerk(client, "1")
        kiosk = token_of("kiosk-1")
        issued = []
        for _ in range(2):  # two services today, both served at window 1
            answer = await client.post("/halls/demo/tickets", json={"service": "A", "id_card": holder}, headers=kiosk)
            assert answer.status_code == 201, answer.text
            issued.append(answer.json()["id"])
            assert (await client.post("/halls/demo/windows/1/call-next", headers=clerk1)).status_code == 200
            assert (await client.post("/halls/demo/windows/1/finish", headers=clerk1)).status_code == 200
        found = await client.post("/halls/demo/tickets/served-by-card", json={"id_card": holder}, headers=kiosk)
        assert found.status_code == 200, found.text
        assert found.json()["id"] == issued[-1] and found.json()["status"] == "done"
        assert "321183195003120011" not in found.text and "张三" not in found.text
        access = found.json()["status_url"].split("k=")[1]
        rated = await client.post(f"/halls/demo/tickets/{issued[-1]}/evaluation?k={access}", json={"score": 5})
        assert rated.status_code == 200, rated.text
        nobody = await client.post("/halls/demo/tickets/served-by-card", json={"id_card": other}, headers=kiosk)
        assert nobody.status_code == 404 and "二维码" in nobody.json()["detail"]
        bad = {**holder, "id_number": holder["id_number"][:17] + "9"}
        refused = await client.post("/halls/demo/tickets/served-by-card", json={"id_card": bad}, headers=kiosk)
        assert refused.status_code == 422
        for device in ("board-1", "terminal-1"):
            asked = await client.post(
                "/halls/demo/tickets/served-by-card", json={"id_card": holder}, headers=token_of(device)
            )
            assert asked.status_code == 403, device
        assert (await client.post("/halls/demo/tickets/served-by-card", json={"id_card": holder})).status_code == 401
        by_clerk = await client.post("/halls/demo/tickets/served-by-card", json={"id_card": holder}, headers=clerk1)
        assert by_clerk.status_code == 403

    run(database, scenario)
