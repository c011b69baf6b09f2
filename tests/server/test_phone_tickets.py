"""线上取号 (DESIGN §13): a ticket from the phone page without a token where the hall allows it, with the
kiosk's rules (per-person limit by the ID's HMAC, the elderly green channel by the number's age), counted
per address; refused with a sentence where the hall does not take phone tickets. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from server.usecases import phone_tickets
from tests.server.conftest import demo_config, make_settings, running_app
from tests.server.test_idcards import BORN_1940, BORN_1999, wrong_check_char

TAKE = "/halls/demo/phone-tickets"


def run(database: str, scenario: Any, **hall: Any) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, demo_config(**hall))) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


def test_a_phone_takes_a_ticket_with_the_kiosks_rules(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        first = await client.post(TAKE, json={"service": "A", "id_number": BORN_1999, "notify_phone": "13812345678"})
        assert first.status_code == 201, first.text
        ticket = first.json()
        assert ticket["channel"] == "phone" and ticket["priority"] == "normal" and ticket["status"] == "waiting"
        assert BORN_1999 not in first.text and "13812345678" not in first.text
        access = ticket["status_url"].split("k=")[1]
        read = await client.get(f"/halls/demo/tickets/{ticket['id']}?k={access}")  # the phone's own page
        assert read.status_code == 200 and read.json()["number"] == ticket["number"]
        elderly = await client.post(TAKE, json={"service": "B", "id_number": BORN_1940})
        assert elderly.status_code == 201 and elderly.json()["priority"] == "green"
        assert elderly.json()["green_reason"] == "elderly"
        again = await client.post(
            TAKE, json={"service": "A", "id_number": BORN_1999}, headers={"Idempotency-Key": "k1"}
        )
        replay = await client.post(
            TAKE, json={"service": "A", "id_number": BORN_1999}, headers={"Idempotency-Key": "k1"}
        )
        assert again.status_code == replay.status_code and again.json() == replay.json()
        refused = None
        for _ in range(5):  # the demo hall's per-person daily limit, the kiosk's rule
            refused = await client.post(TAKE, json={"service": "A", "id_number": BORN_1999})
            if refused.status_code != 201:
                break
        assert refused is not None and refused.status_code == 409 and "次" in refused.json()["detail"]
        bad = await client.post(TAKE, json={"service": "A", "id_number": wrong_check_char(BORN_1999)})
        assert bad.status_code == 422 and "校验" in bad.json()["detail"]

    run(database, scenario, phone_tickets=True)


def test_a_hall_without_phone_tickets_says_so(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        refused = await client.post(TAKE, json={"service": "A", "id_number": BORN_1999})
        assert refused.status_code == 403 and "未开通线上取号" in refused.json()["detail"]

    run(sqlite_url, scenario, phone_tickets=False)


def test_one_address_is_limited(sqlite_url: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(phone_tickets, "PER_ADDRESS_PER_HOUR", 2)

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        answers = [(await client.post(TAKE, json={"service": s, "id_number": BORN_1999})) for s in "ABC"]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert "过于频繁" in answers[2].json()["detail"] and int(answers[2].headers["Retry-After"]) >= 1

    run(sqlite_url, scenario, phone_tickets=True)
