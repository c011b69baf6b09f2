"""好差评 over HTTP on SQLite and PostgreSQL (DESIGN.md §11): a 差评's whole loop, the reopened and
escalated order, appeals upheld and rejected, deadlines across a holiday and a make-up day, overdue
flags, 一次一评, and who may rate and act."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

from hallq.config import HallConfig
from server.evaluations import tables as et
from server.store import schema
from server.usecases import windows
from tests.server.conftest import make_settings, running_app
from tests.server.test_api import clerk
from tests.server.test_permissions import hall_with_devices, issue, served_at_window_1, token_of

PHONE = "13812345678"
ZONE = ZoneInfo("Asia/Shanghai")


def run(database: str, scenario: Any, config: HallConfig | None = None) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, config or hall_with_devices())) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


async def staff(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    return {
        "clerk1": await clerk(client, "1"),
        "clerk2": await clerk(client, "2"),
        "supervisor": await clerk(client, "5", username="supervisor"),
        "admin": await clerk(client, "6", username="admin"),
    }


async def bad_rating(client: httpx.AsyncClient, clerk1: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A ticket served at window 1 and rated 不满意 on the phone: the 201 answer."""
    ticket_id, access = await served_at_window_1(client, clerk1)
    body = {"ticket_id": ticket_id, "score": 2, "reasons": ["attitude"], "comment": "态度不好", **extra}
    rated = await client.post("/halls/demo/evaluations", params={"k": access}, json=body)
    assert rated.status_code == 201, rated.text
    answer: dict[str, Any] = rated.json()
    return answer


async def step(client: httpx.AsyncClient, order: str, action: str, headers: dict[str, str], **body: Any) -> Any:
    return await client.post(f"/halls/demo/rectifications/{order}/{action}", json=body, headers=headers)


def test_a_bad_rating_is_verified_rectified_called_back_and_closed(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        answer = await bad_rating(client, who["clerk1"], contact_phone=PHONE)
        assert answer["score"] == 2 and answer["is_bad"] is True
        order = answer["rectification"]
        assert order["status"] == "open" and order["window"] == "1"
        rating = order["evaluation"]
        assert rating["real_name"] is True and rating["masked_phone"] == "138****5678"
        assert (rating["channel"], rating["pf"], rating["clerk"], rating["service"]) == ("qr", 3, "clerk1", "A")
        assert rating["reasons"] == [{"code": "attitude", "label": "服务态度差"}] and rating["level"] == "不满意"
        oid = order["id"]

        premature = await step(client, oid, "rectify", who["supervisor"], measures="加强培训")
        assert premature.status_code == 409 and "待核实" in premature.json()["detail"]
        verified = await step(client, oid, "verify", who["supervisor"], facts="调取录像，窗口人员语气生硬")
        assert verified.status_code == 200 and verified.json()["status"] == "verified", verified.text
        rectified = await step(client, oid, "rectify", who["clerk1"], measures="窗口人员已培训并致歉")
        assert rectified.json()["status"] == "rectified" and rectified.json()["due"]["call_back"] is not None
        closed = await step(client, oid, "call-back", who["supervisor"], satisfied=True, note="群众表示满意")
        assert closed.status_code == 200
        final = closed.json()
        assert final["status"] == "closed" and final["satisfied"] is True and not final["escalated"]
        assert [h["action"] for h in final["history"]] == ["open", "verify", "rectify", "satisfied"]
        assert [h["actor"] for h in final["history"][1:]] == ["user:supervisor", "user:clerk1", "user:supervisor"]
        assert final["history"][1]["note"] == "调取录像，窗口人员语气生硬"
        got = await client.get(f"/halls/demo/rectifications/{oid}", headers=who["supervisor"])
        assert got.json() == final, "each action answers the order as GET shows it"

        engine = app.state.dispatcher.store.engine
        with engine.connect() as conn:
            audit = conn.execute(
                sa.select(schema.audit_log).where(schema.audit_log.c.target == oid).order_by(schema.audit_log.c.id)
            ).all()
            stored = conn.execute(sa.select(et.ratings)).one()
        assert [a.action for a in audit] == [
            "rectification.open", "rectification.verify", "rectification.rectify", "rectification.satisfied",
        ]  # fmt: skip
        assert audit[2].actor == "user:clerk1" and audit[2].detail["note"] == "窗口人员已培训并致歉"
        assert PHONE not in repr(stored._mapping) and PHONE not in repr([a._mapping for a in audit])
        assert stored.phone_hmac and len(stored.phone_hmac) == 64
        listed = await client.get("/halls/demo/evaluations", headers=who["supervisor"])
        assert PHONE not in listed.text and [r["id"] for r in listed.json()] == [answer["id"]]

    run(database, scenario)


def test_an_unsatisfied_call_back_reopens_once_then_escalates_to_the_head(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, _app: Any) -> None:
        who = await staff(client)
        oid = (await bad_rating(client, who["clerk1"]))["rectification"]["id"]
        assert (await step(client, oid, "verify", who["supervisor"], facts="属实")).status_code == 200
        assert (await step(client, oid, "rectify", who["supervisor"], measures="第一次整改")).status_code == 200
        reopened = await step(client, oid, "call-back", who["supervisor"], satisfied=False, note="仍不满意")
        assert reopened.json()["status"] == "verified" and reopened.json()["reopened"] == 1
        assert (await step(client, oid, "rectify", who["supervisor"], measures="第二次整改")).status_code == 200
        escalated = await step(client, oid, "call-back", who["supervisor"], satisfied=False, note="还是不满意")
        assert escalated.json()["status"] == "escalated" and escalated.json()["escalated"] is True
        listed = await client.get("/halls/demo/rectifications", params={"status": "escalated"},
                                  headers=who["supervisor"])  # fmt: skip
        assert [o["id"] for o in listed.json()] == [oid]
        by_supervisor = await step(client, oid, "close", who["supervisor"], note="结案")
        assert by_supervisor.status_code == 403, "the hall's head (admin) closes an escalated order"
        closed = await step(client, oid, "close", who["admin"], note="中心负责人约谈并结案")
        assert closed.json()["status"] == "closed" and closed.json()["escalated"] is True
        assert [h["action"] for h in closed.json()["history"]] == [
            "open", "verify", "rectify", "unsatisfied", "rectify", "unsatisfied_again", "close",
        ]  # fmt: skip

    run(database, scenario)


def test_an_appeal_upheld_stops_the_rating_counting_and_a_rejected_one_reopens(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, _app: Any) -> None:
        who = await staff(client)
        upheld_id = (await bad_rating(client, who["clerk1"]))["rectification"]["id"]
        elsewhere = await step(client, upheld_id, "appeal", who["clerk2"], reason="不是本窗口")
        assert elsewhere.status_code == 403, "a clerk appeals for their own window only"
        appealed = await step(client, upheld_id, "appeal", who["clerk1"], reason="群众误评：业务本身不符合条件")
        assert appealed.json()["status"] == "appealed"
        by_clerk = await step(client, upheld_id, "uphold", who["clerk1"], reason="成立")
        assert by_clerk.status_code == 403
        upheld = await step(client, upheld_id, "uphold", who["supervisor"], reason="核查录像，属误评")
        assert upheld.json()["status"] == "upheld"
        assert upheld.json()["evaluation"]["counts"] is False
        assert upheld.json()["evaluation"]["void_reason"] == "核查录像，属误评"
        after = await step(client, upheld_id, "verify", who["supervisor"], facts="x" * 3)
        assert after.status_code == 409 and "申诉成立" in after.json()["detail"]

        rejected_id = (await bad_rating(client, who["clerk1"]))["rectification"]["id"]
        assert (await step(client, rejected_id, "appeal", who["supervisor"], reason="疑似恶意")).status_code == 200
        own = await step(client, rejected_id, "reject", who["supervisor"], reason="自己驳回")
        assert own.status_code == 403, "the one who appealed does not decide the appeal"
        rejected = await step(client, rejected_id, "reject", who["admin"], reason="评价属实，驳回")
        assert rejected.json()["status"] == "open" and rejected.json()["evaluation"]["counts"] is True
        assert rejected.json()["decision"] == "评价属实，驳回"

    run(database, scenario)


def hall_with_days_off(today: dt.date) -> HallConfig:
    """Tomorrow and days 3-9 off, day 2 and days 10-11 make-up working days, whatever weekday today is."""
    data = hall_with_devices().model_dump()
    data["hall"]["holidays"] = [today + dt.timedelta(days=n) for n in (1, *range(3, 10))]
    data["hall"]["workdays"] = [today + dt.timedelta(days=n) for n in (2, 10, 11)]
    return HallConfig.model_validate(data)


def test_deadlines_cross_a_holiday_and_a_make_up_day_and_overdue_orders_are_flagged(database: str) -> None:
    today = dt.datetime.now(ZONE).date()

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        order = (await bad_rating(client, who["clerk1"]))["rectification"]
        opened = dt.datetime.fromisoformat(order["evaluation"]["rated_at"]).astimezone(ZONE).date()
        assert opened == today, "the test ran across midnight; run it again"
        assert order["due"]["verify"] == (today + dt.timedelta(days=2)).isoformat(), "the holiday is skipped"
        assert order["overdue"] == [] and order["due_soon"] is True
        assert (await step(client, order["id"], "verify", who["supervisor"], facts="属实")).status_code == 200
        rectified = (await step(client, order["id"], "rectify", who["supervisor"], measures="已整改")).json()
        assert rectified["due"]["call_back"] == (today + dt.timedelta(days=11)).isoformat()

        late = (await bad_rating(client, who["clerk1"]))["rectification"]["id"]
        with app.state.dispatcher.store.engine.begin() as conn:  # an order opened five days ago
            conn.execute(
                et.rectifications.update()
                .where(et.rectifications.c.id == late)
                .values(opened_on=today - dt.timedelta(days=5))
            )
        overdue = await client.get("/halls/demo/rectifications", params={"flag": "overdue"}, headers=who["supervisor"])
        assert [(o["id"], o["overdue"]) for o in overdue.json()] == [(late, ["verify"])]
        soon = await client.get("/halls/demo/rectifications", params={"flag": "due_soon"}, headers=who["supervisor"])
        assert [o["id"] for o in soon.json()] == [], "the rectified order is due in 11 days, the late one overdue"

    run(database, scenario, hall_with_days_off(today))


def test_a_second_rating_is_refused_on_either_route_and_the_old_answer_holds(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        ticket_id, access = await served_at_window_1(client, who["clerk1"])
        old = await client.post(f"/halls/demo/tickets/{ticket_id}/evaluation", params={"k": access},
                                json={"score": 1})  # fmt: skip
        assert old.status_code == 200 and old.json()["id"] == ticket_id, "the original route answers the ticket"
        again = await client.post(f"/halls/demo/tickets/{ticket_id}/evaluation", params={"k": access},
                                  json={"score": 5})  # fmt: skip
        assert again.status_code == 409 and "一次一评" in again.json()["detail"]
        new = await client.post("/halls/demo/evaluations", params={"k": access},
                                json={"ticket_id": ticket_id, "score": 5})  # fmt: skip
        assert new.status_code == 409 and "评价" in new.json()["detail"]
        orders = await client.get("/halls/demo/rectifications", headers=who["supervisor"])
        assert len(orders.json()) == 1, "the old route's 差评 opened its order too"
        with app.state.dispatcher.store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(et.ratings)).scalar_one() == 1
            assert conn.execute(sa.select(schema.evaluations.c.score)).scalar_one() == 1

    run(database, scenario)


def test_a_clerk_or_a_board_may_not_rate_and_a_phone_may_not_pose_as_a_device(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        ticket_id, access = await served_at_window_1(client, who["clerk1"])
        body = {"ticket_id": ticket_id, "score": 1}
        for headers in (who["clerk1"], who["supervisor"], token_of("board-1"), token_of("evaluator-2")):
            refused = await client.post("/halls/demo/evaluations", json=body, headers=headers)
            assert refused.status_code == 403, refused.text
        posing = await client.post(
            "/halls/demo/evaluations", params={"k": access}, json={**body, "channel": "evaluator"}
        )
        assert posing.status_code == 422 and "evaluator" in posing.json()["detail"]
        unknown = await client.post("/halls/demo/evaluations", params={"k": access}, json={**body, "reasons": ["nope"]})
        assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]
        with app.state.dispatcher.store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(et.ratings)).scalar_one() == 0
        good = await client.post("/halls/demo/evaluations", json={**body, "score": 5, "reasons": ["efficiency"]},
                                 headers=token_of("evaluator-1"))  # fmt: skip
        assert good.status_code == 201 and good.json() == {
            "id": good.json()["id"], "score": 5, "is_bad": False, "rectification": None,
        }  # fmt: skip
        listed = (await client.get("/halls/demo/evaluations", params={"score": 5}, headers=who["supervisor"])).json()
        assert [(r["channel"], r["pf"], r["real_name"]) for r in listed] == [("evaluator", 4, False)]

    run(database, scenario)


def test_a_clerk_sees_and_handles_only_their_window_s_orders(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, _app: Any) -> None:
        who = await staff(client)
        oid = (await bad_rating(client, who["clerk1"]))["rectification"]["id"]
        assert (await client.get(f"/halls/demo/rectifications/{oid}", headers=who["clerk2"])).status_code == 403
        assert (await client.get("/halls/demo/rectifications", headers=who["clerk2"])).json() == []
        assert len((await client.get("/halls/demo/rectifications", headers=who["clerk1"])).json()) == 1
        assert (await step(client, oid, "verify", who["clerk1"], facts="我核实自己")).status_code == 403
        elsewhere = await client.get("/halls/demo/evaluations", params={"window": "1"}, headers=who["clerk2"])
        assert elsewhere.status_code == 200 and elsewhere.json() == [], "another window's ratings stay unseen"
        device = await client.get("/halls/demo/rectifications", headers=token_of("kiosk-1"))
        assert device.status_code == 403
        options = (await client.get("/halls/demo/evaluations/options")).json()
        assert [level["score"] for level in options["levels"]] == [5, 4, 3, 2, 1] and options["window_days"] == 7

    run(database, scenario)


async def bad_rating_at(client: httpx.AsyncClient, window: str, at_window: dict[str, str]) -> dict[str, Any]:
    """A ticket served at `window` by the clerk logged in there and rated 不满意: the 201 answer."""
    ticket_id, access = await issue(client)
    assert (await client.post(f"/halls/demo/windows/{window}/call-next", headers=at_window)).status_code == 200
    assert (await client.post(f"/halls/demo/windows/{window}/finish", headers=at_window)).status_code == 200
    body = {"ticket_id": ticket_id, "score": 1, "reasons": ["efficiency"]}
    rated = await client.post("/halls/demo/evaluations", params={"k": access}, json=body)
    assert rated.status_code == 201, rated.text
    answer: dict[str, Any] = rated.json()
    return answer


async def office_login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """A staff login without a window (the back office): it opens, closes and takes no window."""
    response = await client.post("/auth/login", json={"username": username, "password": "demo"})
    assert response.status_code == 200 and response.json()["window"] is None, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_clerk_in_the_office_sees_their_own_orders_and_the_window_stays_theirs(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, _app: Any) -> None:
        who = await staff(client)
        mine = (await bad_rating(client, who["clerk1"]))["rectification"]["id"]
        others = (await bad_rating_at(client, "2", who["clerk2"]))["rectification"]
        assert others["evaluation"]["clerk"] == "clerk2" and others["window"] == "2"
        before = (await client.get("/halls/demo/windows/1", headers=who["clerk1"])).json()
        office = await office_login(client, "clerk1")
        after = await client.get("/halls/demo/windows/1", headers=who["clerk1"])
        assert after.status_code == 200, "the terminal's login at window 1 still holds"
        assert after.json()["state"] == before["state"] == "open"

        listed = (await client.get("/halls/demo/rectifications", headers=office)).json()
        assert [(o["id"], o["evaluation"]["clerk"]) for o in listed] == [(mine, "clerk1")]
        assert (await client.get(f"/halls/demo/rectifications/{mine}", headers=office)).status_code == 200
        unseen = await client.get(f"/halls/demo/rectifications/{others['id']}", headers=office)
        assert unseen.status_code == 403 and "本人或本窗口" in unseen.json()["detail"]
        rated = (await client.get("/halls/demo/evaluations", headers=office)).json()
        assert [(r["clerk"], r["window"]) for r in rated] == [("clerk1", "1")]
        numbers = (await client.get("/halls/demo/evaluations/summary", headers=office)).json()
        assert numbers["total"]["count"] == 1 and numbers["total"]["label"] == "clerk1"
        assert [(r["key"], r["count"]) for r in numbers["rows"]] == [("1", 1)]
        appealed = await step(client, mine, "appeal", office, reason="群众误评")
        assert appealed.status_code == 200 and appealed.json()["status"] == "appealed", appealed.text
        assert (await step(client, mine, "uphold", office, reason="成立")).status_code == 403

        someone_else = await office_login(client, "clerk3")
        assert (await client.get("/halls/demo/rectifications", headers=someone_else)).json() == []
        assert (await client.get(f"/halls/demo/rectifications/{mine}", headers=someone_else)).status_code == 403
        assert (await client.get("/halls/demo/evaluations", headers=someone_else)).json() == []
        assert (await step(client, others["id"], "appeal", someone_else, reason="不是我")).status_code == 403
        assert (await step(client, others["id"], "appeal", office, reason="不是我")).status_code == 403
        supervisor = await office_login(client, "supervisor")
        assert len((await client.get("/halls/demo/rectifications", headers=supervisor)).json()) == 2
        assert (await client.post("/auth/logout", headers=office)).status_code == 200
        still = await client.get("/halls/demo/windows/1", headers=who["clerk1"])
        assert still.status_code == 200 and still.json()["state"] == "open", "the office logout closes no window"

    run(database, scenario)


def test_the_window_s_evaluator_over_mqtt_opens_the_order_once(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        ticket_id, _ = await served_at_window_1(client, who["clerk1"])
        dispatcher = app.state.dispatcher
        args = {"score": 1, "ticket_id": ticket_id}
        first = await windows.run_mqtt_command(dispatcher, "demo", "1", "evaluate", args, "evaluator-1", "r-1")
        repeated = await windows.run_mqtt_command(dispatcher, "demo", "1", "evaluate", args, "evaluator-1", "r-1")
        assert first == repeated and first["id"] == ticket_id, "a repeated request gets the first answer"
        orders = (await client.get("/halls/demo/rectifications", headers=who["supervisor"])).json()
        assert len(orders) == 1 and orders[0]["evaluation"]["channel"] == "evaluator"
        assert orders[0]["evaluation"]["pf"] == 4

    run(database, scenario)


def test_ratings_and_order_steps_are_written_on_the_commit_thread(database: str, monkeypatch: Any) -> None:
    """Beside the group commits (Dispatcher.beside_commits): on SQLite, from any other thread, a rating's
    transaction and the group commits made each other sleep in SQLite's busy handler (issue 18)."""
    from server.evaluations.service import EvaluationService

    threads: dict[str, str] = {}
    for name in ("rate", "act"):
        original = getattr(EvaluationService, name)

        def recorded(self: EvaluationService, *args: Any, _name: str = name, _original: Any = original,
                     **kwargs: Any) -> Any:  # fmt: skip
            threads[_name] = threading.current_thread().name
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(EvaluationService, name, recorded)

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        who = await staff(client)
        order = (await bad_rating(client, who["clerk1"]))["rectification"]
        verified = await step(client, order["id"], "verify", who["supervisor"], facts="调取录像")
        assert verified.status_code == 200, verified.text

    run(database, scenario)
    assert threads.keys() == {"rate", "act"}
    assert all(name.startswith("hallq-commit") for name in threads.values()), threads
