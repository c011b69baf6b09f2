"""The dispatcher checks an ID card a device sends (issue 12) before it trusts it: the GB 11643 check
character, the birth date against the number's, a birth in the future; the elderly green channel
takes the age from the number. On SQLite and PostgreSQL, through the HTTP API (ticket, walk-in,
self-service case); the numbers are the reader test vectors' and ones computed here (ISO 7064 MOD 11-2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from server import pii
from tests.server.conftest import DEMO, make_settings, running_app
from tests.server.test_api import clerk

VECTORS = Path("/work/shared/vectors/idcard")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2, written out here independently of server.pii."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def wrong_check_char(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def vector_cards() -> list[dict[str, str]]:
    read = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(VECTORS.glob("card*.json"))]
    cards = [{k: c[k] for k in ("id_number", "name", "birth")} for c in read]  # what a kiosk sends
    return cards or [{"id_number": "321183195003120011", "name": "张三", "birth": "19500312"}]


BORN_1999 = with_check_char("32011519990101123")
BORN_1940 = with_check_char("32011519400101123")


def card(number: str, birth: str | None = None, name: str = "李四") -> dict[str, str]:
    return {"id_number": number, "name": name, "birth": birth or number[6:14]}


def test_the_check_rules_themselves() -> None:
    today = dt.date(2026, 12, 4)
    for vector in vector_cards():
        checked = pii.check_id_card(vector["id_number"], vector["birth"], today)
        assert checked.birth == dt.datetime.strptime(vector["birth"], "%Y%m%d").date()
    assert pii.check_id_card(BORN_1940.lower(), None, today).number == BORN_1940.upper()
    with pytest.raises(pii.InvalidIdCard, match="校验"):
        pii.check_id_card(wrong_check_char(BORN_1999), None, today)
    with pytest.raises(pii.InvalidIdCard, match="不符"):
        pii.check_id_card(BORN_1999, "19400101", today)
    future = with_check_char("32011520270101123")
    with pytest.raises(pii.InvalidIdCard, match="晚于今天"):
        pii.check_id_card(future, None, today)
    with pytest.raises(pii.InvalidIdCard, match="不存在"):
        pii.check_id_card(with_check_char("32011519990231123"), None, today)  # 31 February


async def _issue(client: httpx.AsyncClient, id_card: dict[str, str]) -> httpx.Response:
    return await client.post("/halls/demo/tickets", json={"service": "A", "id_card": id_card}, headers=DEMO)


def test_devices_cannot_bring_a_wrong_card_and_the_age_is_the_numbers(database: str) -> None:
    async def main() -> None:
        async with running_app(make_settings(database)) as (client, _app):
            refused: dict[str, dict[str, str]] = {
                "check character": card(wrong_check_char(BORN_1999)),
                "birth does not match": card(BORN_1999, birth="19400101"),
                "birth in the future": card(with_check_char("32011520990101123")),
            }
            for why, id_card in refused.items():
                response = await _issue(client, id_card)
                assert response.status_code == 422, (why, response.text)
                detail = response.json()["detail"]
                assert "身份证" in detail and len(detail) > 15, (why, detail)
                assert id_card["id_number"] not in detail, "the number is never echoed"
            board = (await client.get("/halls/demo/board")).json()
            assert board["waiting"]["A"]["count"] == 0, "nothing refused was issued"

            young = await _issue(client, card(BORN_1999))
            assert young.status_code == 201 and young.json()["priority"] == "normal"
            elderly = await _issue(client, card(BORN_1940))
            assert elderly.json()["priority"] == "green" and elderly.json()["green_reason"] == "elderly"
            for vector in vector_cards():
                assert (await _issue(client, vector)).status_code == 201, vector["id_number"][:4]

            headers = await clerk(client, "1")
            walk_in = {"service": "A", "id_card": card(wrong_check_char(BORN_1940))}
            quick = await client.post("/halls/demo/windows/1/quick-serve", json=walk_in, headers=headers)
            assert quick.status_code == 422 and "校验" in quick.json()["detail"]

            submission = {"item": "realestate-transfer", "id_card": card(BORN_1999, birth="19400101"), "phone": ""}
            case = await client.post("/halls/demo/submissions", json=submission, headers=DEMO)
            assert case.status_code == 422 and "不符" in case.json()["detail"], case.text

    asyncio.run(main())
