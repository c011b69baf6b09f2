"""一事一评 and 追评 over HTTP on SQLite and PostgreSQL (DESIGN.md §11): a case is rated once by the citizen
(the receipt's QR key) when it is delivered, a 差评 opens a 实名 order by the case's phone (masked), and
one 追评 follows a rectified order, linked to the first rating and counted apart."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import sqlalchemy as sa

from server.cases import tables as ct
from server.evaluations import tables as et
from tests.cases.conftest import DEMO_DEVICE, PDF, SAMPLE_CARD, png_bytes
from tests.evaluations.test_api import PHONE, ZONE, bad_rating, run, staff, step
from tests.server.test_permissions import served_at_window_1, token_of

BASE = "/halls/demo"
CASE_PHONE = "13812345678"  # the phone the submission was made with (SAMPLE_CARD's case)


async def received_case(client: httpx.AsyncClient) -> tuple[str, str]:
    """A 不动产转移登记 submitted at the kiosk and completed (收件): (case id, access key)."""
    body = {"item": "realestate-transfer", "id_card": SAMPLE_CARD, "phone": CASE_PHONE}
    started = await client.post(f"{BASE}/submissions", headers=DEMO_DEVICE, json=body)
    assert started.status_code == 201, started.text
    case_id, key = started.json()["id"], started.json()["access"]
    for idx in range(4):
        up = await client.put(f"{BASE}/submissions/{case_id}/materials/{idx}?k={key}", headers=DEMO_DEVICE,
                              content=PDF)  # fmt: skip
        assert up.status_code == 200, up.text
    signed = await client.post(f"{BASE}/submissions/{case_id}/materials/4/defer?k={key}", headers=DEMO_DEVICE,
                               content=png_bytes("black"))  # fmt: skip
    assert signed.status_code == 200, signed.text
    done = await client.post(f"{BASE}/submissions/{case_id}/complete?k={key}", headers=DEMO_DEVICE)
    assert done.status_code == 200, done.text
    return case_id, key


async def office(client: httpx.AsyncClient, case_id: str, clerk: dict[str, str], *actions: str) -> None:
    for action in actions:
        reply = await client.post(f"{BASE}/cases/{case_id}/actions/{action}", headers=clerk, json={})
        assert reply.status_code == 200, reply.text


async def rate_case(client: httpx.AsyncClient, case_id: str, key: str | None, path: str = "", **body: Any) -> Any:
    return await client.post(f"{BASE}/cases/{case_id}/evaluation{path}", params={"k": key} if key else {}, json=body)


def test_a_delivered_case_is_rated_once_and_its_bad_rating_is_followed_up_once(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        case_id, key = await received_case(client)
        early = await rate_case(client, case_id, key, score=5)
        assert early.status_code == 409 and "尚未送达" in early.json()["detail"]
        await office(client, case_id, who["clerk1"], "accept", "approve", "ready")
        assert "尚未送达" in (await rate_case(client, case_id, key, score=5)).json()["detail"]
        await office(client, case_id, who["clerk1"], "deliver")

        assert (await rate_case(client, case_id, "wrong-key", score=5)).status_code == 404
        assert (await rate_case(client, case_id, None, score=5)).status_code == 404
        staff_try = await client.post(f"{BASE}/cases/{case_id}/evaluation", params={"k": key}, json={"score": 5},
                                      headers=who["supervisor"])  # fmt: skip
        assert staff_try.status_code == 403
        bad = await rate_case(client, case_id, key, score=1, reasons=["repeat-visits"], comment="跑了三次")
        assert bad.status_code == 201, bad.text
        rating = bad.json()
        assert rating["is_bad"] and CASE_PHONE not in bad.text
        evaluation = rating["rectification"]["evaluation"]
        assert rating["rectification"]["case"] == case_id and rating["rectification"]["status"] == "open"
        assert evaluation["real_name"] and evaluation["masked_phone"] == "138****5678"  # the case's phone
        assert evaluation["number"].startswith("SJ") and evaluation["task_code"] == "realestate-transfer"
        assert (evaluation["clerk"], evaluation["channel"], evaluation["pf"]) == ("clerk1", "qr", 3)
        again = await rate_case(client, case_id, key, score=5)
        assert again.status_code == 409 and "一事一评" in again.json()["detail"]

        state = (await client.get(f"{BASE}/cases/{case_id}/evaluation", params={"k": key})).json()
        assert state["rating"]["id"] == rating["id"] and not state["follow_up_open"]
        too_soon = await rate_case(client, case_id, key, "/follow-up", score=4)
        assert too_soon.status_code == 409 and "整改完成后" in too_soon.json()["detail"]
        order = rating["rectification"]["id"]
        assert (await step(client, order, "verify", who["supervisor"], facts="材料清单未一次告知")).status_code == 200
        assert (await step(client, order, "rectify", who["supervisor"], measures="一次性告知")).status_code == 200
        state = (await client.get(f"{BASE}/cases/{case_id}/evaluation", params={"k": key})).json()
        assert state["follow_up_open"] and state["order_status"] == "rectified"

        follow = await rate_case(client, case_id, key, "/follow-up", score=4, reasons=["attitude"])
        assert follow.status_code == 201, follow.text
        assert follow.json()["follows"] == rating["id"] and follow.json()["rectification"] is None
        twice = await rate_case(client, case_id, key, "/follow-up", score=5)
        assert twice.status_code == 409 and "追评" in twice.json()["detail"]
        state = (await client.get(f"{BASE}/cases/{case_id}/evaluation", params={"k": key})).json()
        assert state["follow_up"]["round"] == 1 and not state["follow_up_open"]

        listed = (await client.get(f"{BASE}/evaluations", headers=who["supervisor"])).json()
        assert sorted((r["subject"], r["round"], r["score"]) for r in listed) == [("case", 0, 1), ("case", 1, 4)]
        month = dt.datetime.now(ZONE).strftime("%Y-%m")
        exported = await client.get(f"{BASE}/evaluations/export", params={"month": month}, headers=who["supervisor"])
        lines = [json.loads(x) for x in exported.text.splitlines()]
        assert [(x["followup"], x["satisfaction"], x["taskcode"]) for x in lines] == [
            (0, 1, "realestate-transfer"), (1, 4, "realestate-transfer")
        ]  # fmt: skip
        assert lines[0]["projectno"] == lines[1]["projectno"] == evaluation["number"]
        assert CASE_PHONE not in exported.text

    run(database, scenario)


def test_a_case_rated_after_the_window_is_refused(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        case_id, key = await received_case(client)
        await office(client, case_id, who["clerk1"], "accept", "approve", "ready", "deliver")
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
        with app.state.dispatcher.store.engine.begin() as conn:
            conn.execute(sa.update(ct.cases).where(ct.cases.c.id == case_id).values(delivered_at=long_ago))
        late = await rate_case(client, case_id, key, score=5)
        assert late.status_code == 409 and "评价期限已过" in late.json()["detail"]

    run(database, scenario)


def test_a_ticket_s_follow_up_comes_after_the_rectification_by_its_qr_key(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        bad = await bad_rating(client, who["clerk1"], contact_phone=PHONE)
        ticket_id = bad["rectification"]["ticket"]
        with app.state.dispatcher.store.engine.connect() as conn:
            rows = conn.execute(sa.select(et.ratings.c.subject_id)).all()
        assert [r.subject_id for r in rows] == [ticket_id]
        key = app.state.dispatcher.runtime("demo").live().ticket(ticket_id).access
        path = f"{BASE}/tickets/{ticket_id}/evaluation"
        assert (await client.get(path, params={"k": "nope"})).status_code == 403
        assert (await client.get(path)).status_code == 401
        early = await client.post(f"{path}/follow-up", params={"k": key}, json={"score": 3})
        assert early.status_code == 409
        order = bad["rectification"]["id"]
        await step(client, order, "verify", who["supervisor"], facts="属实")
        await step(client, order, "rectify", who["clerk1"], measures="已培训")
        await step(client, order, "call-back", who["supervisor"], satisfied=True)
        state = (await client.get(path, params={"k": key})).json()
        assert state["order_status"] == "closed" and state["follow_up_open"]
        by_clerk = await client.post(f"{path}/follow-up", params={"k": key}, json={"score": 5}, headers=who["clerk1"])
        assert by_clerk.status_code == 403
        follow = await client.post(f"{path}/follow-up", params={"k": key}, json={"score": 5, "comment": "改进了"})
        assert follow.status_code == 201 and follow.json()["follows"] == bad["id"]

        good_id, good_key = await served_at_window_1(client, who["clerk1"])
        rated = await client.post(f"{BASE}/evaluations", json={"ticket_id": good_id, "score": 5},
                                  headers=token_of("evaluator-1"))  # fmt: skip
        assert rated.status_code == 201
        no_order = await client.post(f"{BASE}/tickets/{good_id}/evaluation/follow-up", params={"k": good_key},
                                     json={"score": 4})  # fmt: skip
        assert no_order.status_code == 409 and "整改完成后" in no_order.json()["detail"]

    run(database, scenario)
