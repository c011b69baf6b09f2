"""The monthly export for the provincial platform, checked field by field (JSON lines and XLSX)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

from hallq.config import HallConfig
from server.evaluations import tables as et
from server.evaluations.export import PLATFORM_FIELDS, month_bounds
from server.evaluations.service import BadRating
from tests.evaluations.test_api import PHONE, bad_rating, staff, step
from tests.server.conftest import make_settings, running_app
from tests.server.test_permissions import hall_with_devices, served_at_window_1, token_of

ZONE = ZoneInfo("Asia/Shanghai")


def test_month_bounds_are_the_hall_s_local_month() -> None:
    start, end = month_bounds("2026-12", ZONE)
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00")
    for bad in ("2026-13", "2026-1", "26-01"):
        with pytest.raises(BadRating):
            month_bounds(bad, ZONE)


def hall_with_codes() -> HallConfig:
    data = hall_with_devices().model_dump()
    data["evaluation"].update({"area_code": "320100", "department_code": "11320100MB0000000X"})
    return HallConfig.model_validate(data)


def test_the_month_s_ratings_are_exported_in_the_platform_s_fields(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        served_id, _ = await served_at_window_1(client, who["clerk1"])
        good = await client.post("/halls/demo/evaluations", json={"ticket_id": served_id, "score": 4,
                                 "reasons": ["efficiency", "skill"]}, headers=token_of("evaluator-1"))  # fmt: skip
        assert good.status_code == 201, good.text
        bad = await bad_rating(client, who["clerk1"], contact_phone=PHONE)
        oid = bad["rectification"]["id"]
        await step(client, oid, "verify", who["supervisor"], facts="属实")
        await step(client, oid, "rectify", who["clerk1"], measures="已培训")
        await step(client, oid, "call-back", who["supervisor"], satisfied=True)
        old = await bad_rating(client, who["clerk1"])
        last_month = dt.datetime.now(ZONE).replace(day=1) - dt.timedelta(days=2)
        with app.state.dispatcher.store.engine.begin() as conn:
            conn.execute(et.ratings.update().where(et.ratings.c.id == old["id"]).values(rated_at=last_month))
        month = dt.datetime.now(ZONE).strftime("%Y-%m")

        refused = await client.get("/halls/demo/evaluations/export", params={"month": month}, headers=who["clerk1"])
        assert refused.status_code == 403
        reply = await client.get("/halls/demo/evaluations/export", params={"month": month}, headers=who["admin"])
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in reply.text.splitlines()]
        assert [r["satisfaction"] for r in lines] == [4, 2], "last month's rating is not in this month's file"
        rated_at = dt.datetime.fromisoformat(bad["rectification"]["evaluation"]["rated_at"]).astimezone(ZONE)
        assert lines[1] == {
            "projectno": bad["rectification"]["evaluation"]["number"],
            "taskcode": "A",
            "taskname": "社保业务",
            "pf": 3,
            "satisfaction": 2,
            "satisfactionname": "不满意",
            "reasons": ["attitude"],
            "comment": "态度不好",
            "assesstime": rated_at.strftime("%Y-%m-%d %H:%M:%S"),
            "areacode": "320100",
            "deptcode": "11320100MB0000000X",
            "window": "1",
            "staffid": "clerk1",
            "realname": 1,
            "valid": 1,
            "verification": "属实",
            "rectification": "已培训",
            "rectifyresult": "已办结",
            "callbackresult": "满意",
            "followup": 0,
        }
        assert (lines[0]["pf"], lines[0]["reasons"], lines[0]["realname"], lines[0]["rectification"]) == (
            4, ["efficiency", "skill"], 0, "",
        )  # fmt: skip
        assert PHONE not in reply.text and "5678" not in reply.text, "not even the masked phone"

        sheet_reply = await client.get("/halls/demo/evaluations/export", params={"month": month, "format": "xlsx"},
                                       headers=who["supervisor"])  # fmt: skip
        assert sheet_reply.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(sheet_reply.content)).active
        assert sheet is not None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows[0] == [f for f, _ in PLATFORM_FIELDS] and rows[1][0] == "办件编号"
        for line, row in zip(lines, rows[2:], strict=True):
            expected = [",".join(line[f]) if f == "reasons" else line[f] for f, _ in PLATFORM_FIELDS]
            assert [("" if v is None else v) for v in row] == expected

    async def main() -> None:
        async with running_app(make_settings(database, hall_with_codes())) as (client, app):
            await scenario(client, app)

    asyncio.run(main())
