"""The HTTP API in-process on SQLite and PostgreSQL: issue/read/call flows, idempotency, bad input,
personal data, roles and window binding."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from server.store import schema as t
from tests.server.conftest import DEMO, demo_config, make_settings, running_app, with_service

Scenario = Callable[[httpx.AsyncClient, Any], Awaitable[None]]
ID_NUMBER = "320115194501011238"  # born 1945: elderly
YOUNG_ID = "320115199001011234"


def run(database: str, scenario: Scenario, config: Any = None) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, config)) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


async def clerk(client: httpx.AsyncClient, window: str, username: str | None = None) -> dict[str, str]:
    response = await client.post(
        "/auth/login", json={"username": username or f"clerk{window}", "password": "demo", "window": window}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_issue_read_call_finish(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        issued = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        assert issued.status_code == 201, issued.text
        ticket = issued.json()
        assert ticket["number"] == "A001" and ticket["status"] == "waiting" and ticket["ahead"] == 0
        assert ticket["status_url"].endswith(f"/t/demo/{ticket['id']}?k=" + ticket["status_url"].split("k=")[1])
        second = (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).json()
        assert second["number"] == "A002" and second["ahead"] == 1

        access = ticket["status_url"].split("k=")[1]
        phone = await client.get(f"/halls/demo/tickets/{ticket['id']}", params={"k": access})
        assert phone.status_code == 200 and phone.json()["number"] == "A001"
        assert (await client.get(f"/halls/demo/tickets/{ticket['id']}")).status_code == 401
        assert (await client.get(f"/halls/demo/tickets/{ticket['id']}", params={"k": "wrong"})).status_code == 403

        headers = await clerk(client, "1")
        called = await client.post("/halls/demo/windows/1/call-next", headers=headers)
        assert called.status_code == 200, called.text
        assert called.json()["ticket"]["number"] == "A001"
        window = (await client.get("/halls/demo/windows/1", headers=headers)).json()
        assert window["state"] == "open" and window["clerk"] == "王*" and window["ticket"]["number"] == "A001"
        assert window["waiting_for_my_services"]["A"] == 1
        board = (await client.get("/halls/demo/board")).json()
        assert board["recent_calls"][0]["ticket"] == "A001"
        assert {w["window"] for w in board["windows"]} == {str(n) for n in range(1, 13)}
        assert board["waiting"]["A"]["count"] == 1 and board["seq"] > 0

        finished = await client.post("/halls/demo/windows/1/finish", headers=headers)
        assert finished.status_code == 200 and finished.json()["served_today"] == 1
        assert finished.json()["ticket"] is None, "a finished ticket is no longer the window's (as on MQTT)"
        by_number = await client.get("/halls/demo/tickets/by-number/a001", headers=DEMO)
        assert by_number.json()["status"] == "done"
        rated = await client.post(
            f"/halls/demo/tickets/{ticket['id']}/evaluation", params={"k": access}, json={"score": 5}
        )
        assert rated.status_code == 200, rated.text
        again = await client.post(
            f"/halls/demo/tickets/{ticket['id']}/evaluation", params={"k": access}, json={"score": 1}
        )
        assert again.status_code == 409 and "评价" in again.json()["detail"]
        with app.state.dispatcher.store.engine.connect() as conn:
            rating = conn.execute(sa.select(t.evaluations)).one()
        assert (rating.score, rating.window, rating.service, rating.clerk) == (5, "1", "A", "clerk1")

        assert (await client.post("/halls/demo/windows/1/call-next", headers=headers)).status_code == 200
        assert (await client.post("/halls/demo/windows/1/call-next", headers=headers)).status_code == 204

    run(database, scenario)


def test_retried_issue_and_call_next_return_the_first_answer(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        key = {"Idempotency-Key": "kiosk-1:0001", **DEMO}
        answers = [await client.post("/halls/demo/tickets", json={"service": "B"}, headers=key) for _ in range(3)]
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["id"] for a in answers}) == 1
        assert answers[1].headers.get("Idempotent-Replayed") == "true"
        hall = (await client.get("/halls/demo")).json()
        assert next(s for s in hall["services"] if s["code"] == "B")["waiting"] == 1

        # Five presses of the same retry at once: one ticket, five identical answers.
        same = {"Idempotency-Key": "kiosk-1:0002", **DEMO}
        together = await asyncio.gather(
            *(client.post("/halls/demo/tickets", json={"service": "B"}, headers=same) for _ in range(5))
        )
        assert {a.status_code for a in together} == {201} and len({a.json()["id"] for a in together}) == 1
        headers = {**(await clerk(client, "2")), "Idempotency-Key": "terminal-2:17"}
        first = await client.post("/halls/demo/windows/2/call-next", headers=headers)
        retry = await client.post("/halls/demo/windows/2/call-next", headers=headers)
        assert first.json() == retry.json() and first.json()["ticket"]["number"] == "B001"
        hall = (await client.get("/halls/demo")).json()
        assert next(s for s in hall["services"] if s["code"] == "B")["waiting"] == 1  # B002 still waits

    run(database, scenario)


def test_bad_input_gets_a_sentence_never_a_500(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        headers = await clerk(client, "1")
        cases: list[tuple[str, str, Any, int]] = [
            ("POST", "/halls/nowhere/tickets", {"service": "A"}, 404),
            ("POST", "/halls/demo/tickets", {"service": "Z"}, 404),
            ("POST", "/halls/demo/tickets", {"service": 5}, 422),
            ("POST", "/halls/demo/tickets", {"service": "A", "priority": "vip"}, 422),
            ("POST", "/halls/demo/tickets", {}, 422),
            ("POST", "/halls/demo/tickets", [1, 2], 422),
            ("POST", "/halls/demo/tickets", {"service": "A", "id_card": {"id_number": "123", "name": "x"}}, 422),
            ("POST", "/halls/demo/windows/99/call-next", None, 404),
            ("POST", "/halls/demo/windows/1/recall", None, 409),
            ("POST", "/halls/demo/windows/1/transfer", {"service": "B", "window": "2"}, 422),
            ("POST", "/halls/demo/windows/1/call", {"number": "A999"}, 404),
            ("POST", "/halls/demo/tickets/nope/cancel", None, 404),
            ("GET", "/halls/demo/windows/77", None, 404),
        ]
        for method, path, body, expected in cases:
            h = headers if "/windows/" in path or path.endswith("cancel") else DEMO
            response = await client.request(method, path, json=body, headers=h)
            assert response.status_code == expected, (path, body, response.text)
            detail = response.json()["detail"]
            assert isinstance(detail, str) and len(detail) > 5, detail
        malformed = await client.post(
            "/halls/demo/tickets", content=b'{"service": "A",', headers={**DEMO, "content-type": "application/json"}
        )
        assert malformed.status_code == 422 and "JSON" in malformed.json()["detail"]
        bad_key = await client.post(
            "/halls/demo/tickets", json={"service": "A"}, headers={**DEMO, "Idempotency-Key": "bad key!"}
        )
        assert bad_key.status_code == 422
        # An illegal transition names the state: rejoin a ticket that is still waiting.
        ticket = (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).json()
        rejoin = await client.post(f"/halls/demo/tickets/{ticket['id']}/rejoin", headers=DEMO)
        assert rejoin.status_code == 409 and ticket["number"] in rejoin.json()["detail"]
        assert (await client.post("/halls/demo/tickets", json={"service": "A"})).status_code == 401

    run(sqlite_url, scenario)


def test_closed_hall_quota_and_per_person_limit(sqlite_url: str) -> None:
    config = demo_config(around_the_clock=False, holidays=[], workdays=[])
    config = with_service(config, "B", daily_quota=2, hours=_all_day(), last_ticket=None)
    config = with_service(config, "C", per_person_daily_limit=1, hours=_all_day(), last_ticket=None)
    config = with_service(config, "D", hours={d: [] for d in WEEK})

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        for _ in range(2):
            assert (await client.post("/halls/demo/tickets", json={"service": "B"}, headers=DEMO)).status_code == 201
        over = await client.post("/halls/demo/tickets", json={"service": "B"}, headers=DEMO)
        assert over.status_code == 409 and "2" in over.json()["detail"]
        card = {"id_number": YOUNG_ID, "name": "张三", "birth": "19900101"}
        first = await client.post("/halls/demo/tickets", json={"service": "C", "id_card": card}, headers=DEMO)
        assert first.status_code == 201, first.text
        limited = await client.post("/halls/demo/tickets", json={"service": "C", "id_card": card}, headers=DEMO)
        assert limited.status_code == 409 and "您今天已在本业务取号" in limited.json()["detail"]
        closed = await client.post("/halls/demo/tickets", json={"service": "D"}, headers=DEMO)
        assert closed.status_code == 409 and "取号时间" in closed.json()["detail"]

    run(sqlite_url, scenario, config)


WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _all_day() -> dict[str, list[str]]:
    return {d: ["00:00-24:00"] for d in WEEK}


def test_id_card_is_kept_as_hmac_and_masked_name_only(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        card = {"id_number": ID_NUMBER, "name": "欧阳明", "birth": "19450101"}
        response = await client.post("/halls/demo/tickets", json={"service": "A", "id_card": card}, headers=DEMO)
        assert response.status_code == 201, response.text
        ticket = response.json()
        assert ticket["priority"] == "green" and ticket["green_reason"] == "elderly"
        assert ticket["masked_name"] == "欧*明"
        assert ID_NUMBER not in response.text and "欧阳明" not in response.text
        store = app.state.dispatcher.store
        with store.engine.connect() as conn:
            dumped = json.dumps(
                [
                    [list(map(str, row)) for row in conn.execute(sa.select(table)).all()]
                    for table in (t.tickets, t.events, t.idempotency, t.audit_log)
                ],
                ensure_ascii=False,
            )
        assert ID_NUMBER not in dumped and ID_NUMBER[:17] not in dumped and "欧阳明" not in dumped
        assert "欧*明" in dumped

    run(database, scenario)


def test_login_roles_and_window_binding(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        wrong = await client.post("/auth/login", json={"username": "clerk1", "password": "nope", "window": "1"})
        assert wrong.status_code == 401
        unknown_window = await client.post("/auth/login", json={"username": "clerk1", "password": "demo",
                                                                "window": "42"})  # fmt: skip
        assert unknown_window.status_code == 401
        login = await client.post("/auth/login", json={"username": "clerk3", "password": "demo", "window": "3"})
        body = login.json()
        assert body["token_type"] == "bearer" and body["role"] == "clerk" and body["window"] == "3"
        clerk3 = {"Authorization": f"Bearer {body['access_token']}"}
        other = await client.post("/halls/demo/windows/1/call-next", headers=clerk3)
        assert other.status_code == 403 and "3" in other.json()["detail"]
        unbound = await client.post("/auth/login", json={"username": "clerk4", "password": "demo"})
        unbound_h = {"Authorization": f"Bearer {unbound.json()['access_token']}"}
        assert (await client.post("/halls/demo/windows/4/call-next", headers=unbound_h)).status_code == 403
        assert (await client.post("/halls/demo/windows/3/call-next", headers=clerk3)).status_code == 200
        # A second clerk logging in to window 3 ends the first one's login there.
        await clerk(client, "3", "clerk5")
        assert (await client.post("/halls/demo/windows/3/finish", headers=clerk3)).status_code == 401
        # A clerk may not cancel a citizen's ticket; a supervisor may, and it is audited.
        ticket = (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).json()
        clerk1 = await clerk(client, "1")
        assert (await client.post(f"/halls/demo/tickets/{ticket['id']}/cancel", headers=clerk1)).status_code == 403
        supervisor = await client.post("/auth/login", json={"username": "supervisor", "password": "demo"})
        sup = {"Authorization": f"Bearer {supervisor.json()['access_token']}"}
        cancelled = await client.post(f"/halls/demo/tickets/{ticket['id']}/cancel", headers=sup)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        audit = (await client.get("/halls/demo/audit", headers=sup)).json()
        assert any(a["action"] == "cancel" and a["actor"] == "user:supervisor" for a in audit)
        assert (await client.get("/halls/demo/audit", headers=clerk1)).status_code == 403
        # Logging out closes the window.
        assert (await client.post("/auth/logout", headers=clerk1)).json() == {"logged_out": True}
        window = (await client.get("/halls/demo/windows/1", headers=DEMO)).json()
        assert window["state"] == "closed" and window["clerk"] is None

    run(sqlite_url, scenario)


def test_transfer_and_special_call_are_audited(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        first = (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).json()
        await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        headers = await clerk(client, "1")
        await clerk(client, "2")
        await client.post("/halls/demo/windows/1/call-next", headers=headers)
        moved = await client.post("/halls/demo/windows/1/transfer", json={"window": "2"}, headers=headers)
        assert moved.status_code == 200, moved.text
        special = await client.post("/halls/demo/windows/1/call", json={"number": "a002"}, headers=headers)
        assert special.status_code == 200 and special.json()["ticket"]["number"] == "A002"
        actions = {row["action"] for row in app.state.dispatcher.audit_log.entries("demo")}
        assert {"transfer", "call_number", "login"} <= actions
        assert first["number"] == "A001"

    run(sqlite_url, scenario)


def test_a_failed_commit_changes_nothing_and_the_hall_recovers(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        store = app.state.dispatcher.store
        assert (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).status_code == 201
        real = store.commit_batch, store.commit_batch_at_once, store.load_hall

        def broken(*_: Any, **__: Any) -> Any:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

        store.commit_batch, store.commit_batch_at_once, store.load_hall = broken, broken, broken
        failed = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        assert failed.status_code == 503 and "nothing changed" in failed.json()["detail"]
        assert (await client.get("/halls/demo/board")).status_code == 503  # no view of unstored state
        store.commit_batch, store.commit_batch_at_once, store.load_hall = real
        again = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        assert again.status_code == 201 and again.json()["number"] == "A002", "A002 was never stored"
        board = (await client.get("/halls/demo/board")).json()
        assert board["waiting"]["A"]["count"] == 2

    run(sqlite_url, scenario)


def test_day_roll_over_is_stored_and_survives_a_restart(sqlite_url: str) -> None:
    import datetime as dt

    from server.engine import commands as c
    from server.runtime import Answer
    from server.usecases.tickets import new_access, new_ticket_id

    def number(_: Any, events: list[Any]) -> Answer:
        return Answer(201, events[-1].number)

    def issue() -> Any:
        return c.IssueTicket(service="A", ticket_id=new_ticket_id(), access=new_access())

    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

    async def first_run(client: httpx.AsyncClient, app: Any) -> None:
        old = (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).json()
        assert old["number"] == "A001"
        dispatcher = app.state.dispatcher
        assert (await dispatcher.execute("demo", issue(), number, now=tomorrow)).body == "A001"
        state = await client.get(f"/halls/demo/tickets/{old['id']}", headers=DEMO)
        assert state.json()["status"] == "expired"

    async def second_run(client: httpx.AsyncClient, app: Any) -> None:
        dispatcher = app.state.dispatcher
        assert dispatcher.halls["demo"].engine.day == tomorrow.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        assert (await dispatcher.execute("demo", issue(), number, now=tomorrow)).body == "A002"
        kinds = [row.kind for row in dispatcher.store.events_since("demo", 0)]
        assert "day_reset" in kinds and "ticket_expired" in kinds

    run(sqlite_url, first_run)
    run(sqlite_url, second_run)


@pytest.mark.pg
def test_losing_the_postgresql_lock_steps_down_and_takes_the_hall_back() -> None:
    from tests.server.conftest import fresh_pg_database

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        dispatcher = app.state.dispatcher
        assert (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).status_code == 201
        lock_conn = dispatcher.locks.connection_of("demo")
        pid = lock_conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        lock_conn.commit()
        with dispatcher.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await dispatcher.check_ownership()
        assert dispatcher.halls["demo"].engine is None
        standby = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        assert standby.status_code == 503
        for _ in range(100):  # nobody else holds the hall: it is taken back within a retry or two
            if dispatcher.halls["demo"].engine is not None:
                break
            await asyncio.sleep(0.1)
        again = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        assert again.status_code == 201 and again.json()["number"] == "A002"

    with fresh_pg_database() as database:
        run(database, scenario)
