"""Every time in every answer carries its offset (issue 12), on SQLite (which keeps none) and
PostgreSQL: tickets, windows, the board, cases (the citizen's page and the back office), their
history, the audit log, the login. Checked through the HTTP API, on every time-looking string."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from tests.server.conftest import DEMO, make_settings, running_app
from tests.server.test_api import clerk

CARD = {"id_number": "321183195003120011", "name": "张三", "birth": "19500312"}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def times_in(answer: Any, path: str = "") -> list[tuple[str, str]]:
    """(where, value) of every string in a JSON answer that reads as a date and time."""
    if isinstance(answer, dict):
        return [found for key, value in answer.items() for found in times_in(value, f"{path}.{key}")]
    if isinstance(answer, list):
        return [found for i, value in enumerate(answer) for found in times_in(value, f"{path}[{i}]")]
    if isinstance(answer, str) and TIME.match(answer):
        return [(path, answer)]
    return []


def naive(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(where, value) for where, value in found if dt.datetime.fromisoformat(value).tzinfo is None]


async def ok(response: Any) -> Any:
    reply = await response
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


def test_every_time_in_every_answer_has_its_offset(database: str) -> None:
    async def main() -> None:
        async with running_app(make_settings(database)) as (client, _app):
            answers: dict[str, Any] = {}
            ticket = await ok(client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO))
            answers["ticket"] = ticket
            clerk1 = await clerk(client, "1")
            answers["called"] = await ok(client.post("/halls/demo/windows/1/call-next", headers=clerk1))
            answers["window"] = await ok(client.get("/halls/demo/windows/1", headers=clerk1))
            answers["board"] = await ok(client.get("/halls/demo/board"))
            answers["me"] = await ok(client.get("/auth/me", headers=clerk1))

            body = {"item": "realestate-transfer", "id_card": CARD, "phone": "13812345678"}
            draft = await ok(client.post("/halls/demo/submissions", json=body, headers=DEMO))
            key = {"k": draft["access"]}
            answers["submission"] = draft
            answers["submission again"] = await ok(
                client.get(f"/halls/demo/submissions/{draft['id']}", params=key, headers=DEMO)
            )
            answers["citizen's case page"] = await ok(client.get(f"/public/halls/demo/cases/{draft['id']}", params=key))
            supervisor = await clerk(client, "2", username="supervisor")
            instant = {"item": "sbk-replace", "id_card": CARD, "window": "2"}
            done = await ok(client.post("/halls/demo/cases/instant", json=instant, headers=supervisor))
            answers["instant case"] = done
            answers["back office case"] = await ok(client.get(f"/halls/demo/cases/{done['id']}", headers=supervisor))
            answers["back office list"] = await ok(client.get("/halls/demo/cases", headers=supervisor))
            waiting = await ok(client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO))
            await ok(client.post(f"/halls/demo/tickets/{waiting['id']}/cancel", headers=supervisor))
            answers["audit"] = await ok(client.get("/halls/demo/audit", headers=supervisor))

            found = {name: times_in(answer) for name, answer in answers.items()}
            for name in ("ticket", "board", "submission", "citizen's case page", "back office list", "audit"):
                assert found[name], f"{name}: no time to check (the test would prove nothing)"
            problems = {name: naive(times) for name, times in found.items() if naive(times)}
            assert problems == {}, problems

    asyncio.run(main())
