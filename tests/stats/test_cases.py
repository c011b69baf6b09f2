"""The cases' numbers (tests/stats/cases_scenario.py, worked out by hand) through `GET …/stats` and the
exports, on SQLite and PostgreSQL: every number exact; the overdue list; a clerk sees no cases."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from server.cases.service import CaseService
from server.cases.uploads import FileStore
from server.stats.cases import OverdueCase, case_stats
from tests.server.conftest import demo_config, make_settings, running_app
from tests.stats.cases_scenario import the_cases
from tests.stats.scenario import login

RANGE = {"from": "2026-11-02", "to": "2026-11-13"}


def tally(**counts: int) -> dict[str, Any]:
    """A `cases` object: the counts given, zero elsewhere, and the shares worked out from them."""
    c = {name: counts.get(name, 0) for name in ("received", "instant", "deferred", "accepted", "accepted_in_time",
                                               "decided", "decided_in_time", "overdue")}  # fmt: skip

    def pct(part: str, whole: str) -> float | None:
        return round(100 * c[part] / c[whole], 1) if c[whole] else None

    return {**c, "instant_pct": pct("instant", "received"), "accepted_in_time_pct": pct("accepted_in_time", "accepted"),
            "on_time_pct": pct("decided_in_time", "decided")}  # fmt: skip


TOTAL = tally(received=6, instant=1, deferred=2, accepted=5, accepted_in_time=3, decided=4, decided_in_time=3,
              overdue=4)  # fmt: skip
BY_DAY = {
    "2026-11-02": tally(received=2, deferred=1),  # c1 (容缺), c2
    "2026-11-03": tally(accepted=1, accepted_in_time=1, overdue=1),  # c1 accepted; c7's 受理 due
    "2026-11-04": tally(received=1, deferred=1, accepted=1, overdue=1),  # c3 (容缺); c7 accepted late; c2's 受理 due
    "2026-11-05": tally(received=1, instant=1, accepted=2, accepted_in_time=1, decided=1, decided_in_time=1),
    "2026-11-06": tally(received=1, overdue=1),  # c5; c3's 受理 due
    "2026-11-09": tally(received=1, decided=1, decided_in_time=1),  # c6; c1 approved
    "2026-11-10": tally(decided=1, decided_in_time=1),  # c7 approved
    "2026-11-11": tally(accepted=1, accepted_in_time=1),  # c6 accepted on its due day
    "2026-11-12": tally(overdue=1),  # c2's 办结 due
    "2026-11-13": tally(decided=1),  # c2 rejected, late
}
BY_SERVICE = {
    "A": tally(received=1, instant=1, accepted=1, accepted_in_time=1, decided=1, decided_in_time=1),
    "C": tally(received=3, deferred=1, accepted=3, accepted_in_time=1, decided=3, decided_in_time=2, overdue=3),
    "E": tally(received=2, deferred=1, accepted=1, accepted_in_time=1, overdue=1),
}
D = dt.date
OVERDUE = [
    ("SJ202610300001", "accept", D(2026, 11, 3), D(2026, 11, 4), 1),
    ("SJ202611020002", "accept", D(2026, 11, 4), D(2026, 11, 5), 1),
    ("SJ202611040001", "accept", D(2026, 11, 6), None, 7),
    ("SJ202611020002", "decide", D(2026, 11, 12), D(2026, 11, 13), 1),
]


def _one(case: OverdueCase) -> tuple[Any, ...]:
    return (case.receipt_no, case.step, case.due, case.done, case.days_over)


def test_the_cases_numbers_are_exact(database: str, tmp_path: Path) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, demo_config())) as (client, app):
            store = app.state.dispatcher.store
            config = app.state.dispatcher.runtime("demo").config
            cases = CaseService(store.engine, config, FileStore(tmp_path / "files"), b"k" * 32)
            await asyncio.to_thread(the_cases, cases)
            supervisor = await login(client, "supervisor")

            days = (await client.get("/halls/demo/stats", params={**RANGE, "by": "day"}, headers=supervisor)).json()
            assert {r["key"]: r["cases"] for r in days["rows"]} == {
                (D(2026, 11, 2) + dt.timedelta(days=n)).isoformat(): BY_DAY.get(
                    (D(2026, 11, 2) + dt.timedelta(days=n)).isoformat(), tally()
                )
                for n in range(12)
            }
            assert days["total"]["cases"] == TOTAL
            services = await client.get("/halls/demo/stats", params={**RANGE, "by": "service"}, headers=supervisor)
            body = services.json()
            assert [(r["key"], r["label"]) for r in body["rows"]] == [("A", "社保业务"), ("C", "不动产登记"),
                                                                     ("E", "户籍业务")]  # fmt: skip
            assert {r["key"]: r["cases"] for r in body["rows"]} == BY_SERVICE and body["total"]["cases"] == TOTAL
            hours = (await client.get("/halls/demo/stats", params={**RANGE, "by": "hour"}, headers=supervisor)).json()
            assert hours["total"]["cases"] == TOTAL and all(r["cases"] is None for r in hours["rows"])

            csv = await client.get("/halls/demo/stats", params={**RANGE, "by": "service", "format": "csv"},
                                   headers=supervisor)  # fmt: skip
            lines = csv.content.decode("utf-8-sig").splitlines()
            header = lines[0].split(",")
            assert header[-11:] == ["收件数", "即办件数", "即办件占比(%)", "容缺受理数", "受理数", "按期受理数",
                                    "按期受理率(%)", "办件办结数", "按时办结数", "按时办结率(%)", "逾期数"]  # fmt: skip
            assert lines[-1].split(",")[-11:] == ["6", "1", "16.7", "2", "5", "3", "60.0", "4", "3", "75.0", "4"]
            xlsx = await client.get("/halls/demo/stats", params={**RANGE, "by": "day", "format": "xlsx"},
                                    headers=supervisor)  # fmt: skip
            sheet = load_workbook(io.BytesIO(xlsx.content)).active
            assert sheet is not None
            cells = [[c.value for c in line] for line in sheet.iter_rows()]
            assert cells[-1][-11:] == [6, 1, 16.7, 2, 5, 3, 60.0, 4, 3, 75.0, 4]

            clerk = await login(client, "clerk1", window="1")
            own = (await client.get("/halls/demo/stats", params={**RANGE, "by": "day"}, headers=clerk)).json()
            assert own["total"]["cases"] is None and all(r["cases"] is None for r in own["rows"])

            stats = await asyncio.to_thread(case_stats, store.engine, config, D(2026, 11, 2), D(2026, 11, 13),
                                            D(2026, 12, 1))  # fmt: skip
            assert [_one(c) for c in stats.overdue] == OVERDUE
            assert {c.item_name for c in stats.overdue} == {"不动产转移登记（二手房买卖）", "户口迁移（迁入）"}
            # judged on 11-09 instead: c3 is 3 days over, c2's 办结 (due 11-12) is not overdue yet
            early = await asyncio.to_thread(case_stats, store.engine, config, D(2026, 11, 2), D(2026, 11, 13),
                                            D(2026, 11, 9))  # fmt: skip
            assert [(c.receipt_no, c.step, c.days_over) for c in early.overdue][2:] == [("SJ202611040001", "accept", 3)]

    asyncio.run(main())
