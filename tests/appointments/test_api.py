"""预约 over HTTP on SQLite and PostgreSQL (DESIGN.md §13): slots, a phone's booking and its page's
reads, the race for the last place, the rate limits, check-in into the real queue (an `appointment`
ticket called before older normal ones, within the anti-starvation bound), late and early check-ins."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from hallq.config import HallConfig
from server.appointments import usecases
from server.appointments.slots import national_day_kind
from tests.appointments.conftest import PHONE, ZONE, id_number
from tests.server.conftest import DEMO, make_settings, running_app
from tests.server.test_api import clerk
from tests.server.test_permissions import hall_with_devices, token_of

ONE_DAY = dt.timedelta(days=1)
Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


class Clock:
    """The bookings' clock: today (the engine's day, as the demo hall is open around the clock) at 10:00."""

    def __init__(self) -> None:
        today = dt.datetime.now(ZONE).date()
        self.now = dt.datetime.combine(today, dt.time(10, 0), ZONE)

    def at(self, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.now.date(), dt.time(hour, minute), ZONE)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(usecases, "utcnow", lambda: clock.now)
    return clock


def config(**appointments: Any) -> HallConfig:
    data = hall_with_devices().model_dump()
    data["appointments"].update(appointments)
    return HallConfig.model_validate(data)


def run(database: str, scenario: Scenario, **appointments: Any) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, config(**appointments))) as (client, _app):
            await scenario(client)

    asyncio.run(main())


async def book(client: httpx.AsyncClient, start: dt.datetime, seq: int, **headers: str) -> httpx.Response:
    body = {"service": "A", "start": start.isoformat(), "id_number": id_number(seq), "phone": PHONE}
    return await client.post("/halls/demo/appointments", json=body, headers=headers)


def test_a_phone_books_reads_and_cancels_its_booking(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        slots = await client.get("/halls/demo/services/A/slots", params={"date": clock.now.date().isoformat()})
        assert slots.status_code == 200, slots.text
        listed = slots.json()
        assert listed[0]["start"] == clock.at(10, 30).isoformat()  # the next slot, in the hall's time
        assert all(s["booked"] == 0 and s["capacity"] in (1, 2) for s in listed)  # 1.125 places a slot
        made = await book(client, clock.at(11), 1)
        assert made.status_code == 201, made.text
        answer = made.json()
        assert set(answer) == {"id", "code", "service", "start", "end", "status_url"}
        assert f"/a/demo/b/{answer['id']}?k=" in answer["status_url"]
        key = answer["status_url"].split("k=")[1]
        page = await client.get(f"/halls/demo/appointments/{answer['id']}", params={"k": key})
        assert page.status_code == 200 and page.json()["masked_phone"] == "138****5678"
        for text in (made.text, page.text):
            assert id_number(1) not in text and PHONE not in text
        assert (await client.get(f"/halls/demo/appointments/{answer['id']}")).status_code == 404
        assert (await client.get(f"/halls/demo/appointments/{answer['id']}", params={"k": "x"})).status_code == 404
        full = (await client.get("/halls/demo/services/A/slots", params={"date": clock.now.date().isoformat()})).json()
        assert next(s for s in full if s["start"] == answer["start"])["booked"] == 1
        cancelled = await client.post(f"/halls/demo/appointments/{answer['id']}/cancel", params={"k": key})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    run(database, scenario)


def test_bad_requests_get_a_sentence(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        wrong = id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1")
        body = {"service": "A", "start": clock.at(11).isoformat(), "id_number": wrong, "phone": PHONE}
        refused = await client.post("/halls/demo/appointments", json=body)
        assert refused.status_code == 422 and "校验位" in refused.json()["detail"]
        assert wrong not in refused.text
        both = {**body, "id_number": id_number(1), "id_card": {"id_number": id_number(1), "name": "张三",
                                                               "birth": "19800101"}}  # fmt: skip
        assert (await client.post("/halls/demo/appointments", json=both)).status_code == 422
        unknown = await client.get("/halls/demo/services/Z/slots", params={"date": clock.now.date().isoformat()})
        assert unknown.status_code == 404 and "Z" in unknown.json()["detail"]
        far = (clock.now + dt.timedelta(days=60)).date().isoformat()
        assert "只能预约" in (await client.get("/halls/demo/services/A/slots", params={"date": far})).json()["detail"]
        board = await book(client, clock.at(11), 1, **token_of("board-1"))
        assert board.status_code == 403

    run(database, scenario)


def test_two_phones_racing_for_the_last_place_one_wins(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        first, second = await asyncio.gather(book(client, clock.at(11), 1), book(client, clock.at(11), 2))
        codes = sorted([first.status_code, second.status_code])
        assert codes == [201, 409], (first.text, second.text)
        loser = first if first.status_code == 409 else second
        assert "名额已满" in loser.json()["detail"]

    run(database, scenario)


def test_phones_are_rate_limited_per_address_and_kiosks_are_not(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        for seq in (1, 2):
            assert (await book(client, clock.at(11 + seq), seq)).status_code == 201
        third = await book(client, clock.at(15), 3)
        assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
        assert "频繁" in third.json()["detail"]
        assert (await book(client, clock.at(15), 3, **token_of("kiosk-1"))).status_code == 201

    run(database, scenario, per_address_per_hour=2)


async def check_in(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.post(f"/halls/demo/appointments/{code}/check-in", json={}, headers=token_of("kiosk-1"))


def test_check_in_on_time_early_and_late(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        on_time, early, late = [(await book(client, clock.at(11 + i), 1 + i)).json() for i in range(3)]
        clock.now = clock.at(10, 29)
        refused = await check_in(client, early["code"])  # the 12:00 slot: from 11:30
        assert refused.status_code == 409 and "11:30 后再来签到" in refused.json()["detail"]
        clock.now = clock.at(10, 31)
        done = await check_in(client, on_time["code"])
        assert done.status_code == 201, done.text
        answer = done.json()
        assert answer["on_time"] and answer["ticket"]["priority"] == "appointment"
        assert answer["ticket"]["channel"] == "appointment" and answer["ticket"]["number"] in answer["message"]
        assert (await check_in(client, on_time["code"])).status_code == 409  # once
        clock.now = clock.at(13, 16)  # the 13:00 slot started 16 minutes ago
        late_answer = (await check_in(client, late["code"])).json()
        assert not late_answer["on_time"] and late_answer["ticket"]["priority"] == "normal"
        assert "普通号" in late_answer["message"]
        clock.now = clock.at(12, 46)  # the 12:00 slot ended at 12:30: + 15 min, a no-show
        gone = await check_in(client, early["code"])
        assert gone.status_code == 409 and "爽约" in gone.json()["detail"]
        key = on_time["status_url"].split("k=")[1]
        view = (await client.get(f"/halls/demo/appointments/{on_time['id']}", params={"k": key})).json()
        assert view["status"] == "checked_in" and view["ticket_id"] == answer["ticket"]["id"]

    run(database, scenario)


def test_check_in_by_id_card_finds_todays_booking(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        await book(client, clock.at(11), 4, **token_of("kiosk-1"))
        clock.now = clock.at(10, 45)
        card = {"id_number": id_number(4), "name": "张三", "birth": "19800101"}
        done = await client.post("/halls/demo/appointments/check-in", json={"id_card": card}, headers=DEMO)
        assert done.status_code == 201 and done.json()["ticket"]["priority"] == "appointment", done.text
        assert "张三" not in done.text and id_number(4) not in done.text
        other = {**card, "id_number": id_number(5)}
        none = await client.post("/halls/demo/appointments/check-in", json={"id_card": other}, headers=DEMO)
        assert none.status_code == 404 and "未找到" in none.json()["detail"]

    run(database, scenario)


def test_appointment_tickets_are_called_first_within_the_anti_starvation_bound(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        normal = []
        for _ in range(3):
            issued = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=token_of("kiosk-1"))
            normal.append(issued.json()["number"])
        bookings = [(await book(client, clock.at(11), 10 + i, **token_of("kiosk-1"))).json() for i in range(3)]
        clock.now = clock.at(10, 40)
        booked = [(await check_in(client, b["code"])).json()["ticket"]["number"] for b in bookings]
        headers = await clerk(client, "1")
        called = []
        for _ in range(6):
            response = await client.post("/halls/demo/windows/1/call-next", headers=headers)
            assert response.status_code == 200, response.text
            called.append(response.json()["ticket"]["number"])
        # max_consecutive_priority 2: two appointments, then the longest-waiting normal ticket, and so on
        assert called == [booked[0], booked[1], normal[0], booked[2], normal[1], normal[2]]

    run(database, scenario, share=1.0)


def test_reschedule_by_key_and_a_staff_cancel_is_audited(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        first = (await book(client, clock.at(11), 1)).json()
        key = first["status_url"].split("k=")[1]
        moved = await client.post(
            f"/halls/demo/appointments/{first['id']}/reschedule", params={"k": key},
            json={"start": clock.at(12).isoformat()},
        )  # fmt: skip
        assert moved.status_code == 201, moved.text
        assert moved.json()["start"] == clock.at(12).isoformat() and moved.json()["code"] != first["code"]
        old = (await client.get(f"/halls/demo/appointments/{first['id']}", params={"k": key})).json()
        assert old["status"] == "cancelled"
        supervisor = await clerk(client, "5", username="supervisor")
        cancelled = await client.post(f"/halls/demo/appointments/{moved.json()['id']}/cancel", headers=supervisor)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        audit = (await client.get("/halls/demo/audit", headers=supervisor)).json()
        assert any(e["action"] == "appointment.cancel" and e["target"] == moved.json()["id"] for e in audit)
        listed = await client.get("/halls/demo/appointments", params={"date": clock.now.date().isoformat()},
                                  headers=supervisor)  # fmt: skip
        assert [a["status"] for a in listed.json()] == ["cancelled", "cancelled"]
        assert (await client.get("/halls/demo/appointments", params={"date": "2026-12-07"})).status_code == 401

    run(database, scenario)


def test_a_departments_login_neither_sees_nor_handles_bookings(database: str, clock: Clock) -> None:
    """Bookings are the front desk's: 卫健's back-office staff get 403 with a sentence, a clerk does not."""

    async def scenario(client: httpx.AsyncClient) -> None:
        booked = (await book(client, clock.at(11), 1)).json()
        login = await client.post("/auth/login", json={"username": "wj1", "password": "demo"})
        assert login.status_code == 200, login.text
        department = {"Authorization": f"Bearer {login.json()['access_token']}"}
        day = {"date": clock.now.date().isoformat()}
        refused = [
            await client.get("/halls/demo/appointments", params=day, headers=department),
            await client.get(f"/halls/demo/appointments/{booked['id']}", headers=department),
            await client.post(f"/halls/demo/appointments/{booked['id']}/cancel", headers=department),
            await book(client, clock.at(12), 2, **department),
            await client.post(f"/halls/demo/appointments/{booked['code']}/check-in", json={}, headers=department),
        ]
        for answer in refused:
            assert answer.status_code == 403 and "部门后台账号" in answer.json()["detail"], answer.text
        front_desk = await clerk(client, "1")
        listed = await client.get("/halls/demo/appointments", params=day, headers=front_desk)
        assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [booked["id"]]

    run(database, scenario)


def test_a_check_in_cut_short_before_its_ticket_is_resumed_with_one_ticket(database: str, clock: Clock) -> None:
    async def main() -> None:
        async with running_app(make_settings(database, config())) as (client, app):
            booking = (await book(client, clock.at(11), 6)).json()
            clock.now = clock.at(10, 40)
            service = usecases.service_for(app.state.dispatcher, "demo")
            await asyncio.to_thread(service.claim, booking["id"], clock.now)  # the dispatcher stopped here
            both = await asyncio.gather(check_in(client, booking["code"]), check_in(client, booking["code"]))
            # two kiosks taking it up at once: both answer the one ticket, or the later one finds it tied (409)
            issued = {r.json()["ticket"]["id"] for r in both if r.status_code == 201}
            assert len(issued) == 1 and {r.status_code for r in both} <= {201, 409}, [r.text for r in both]
            again = await check_in(client, booking["code"])
            assert again.status_code == 409 and "已签到" in again.json()["detail"]
            waiting = (await client.get("/halls/demo/board")).json()["waiting"]["A"]["count"]
            assert waiting == 1

    asyncio.run(main())


def test_a_closed_day_has_no_slots(database: str) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        today = dt.datetime.now(ZONE).date()
        sunday = today + dt.timedelta(days=(6 - today.weekday()) % 7)  # the demo hall is closed on Sundays
        hall = config().hall
        if any(d in hall.holidays or d in hall.workdays or national_day_kind(d) for d in (sunday, sunday + ONE_DAY)):
            pytest.skip(f"{sunday} or the Monday after is a holiday or a make-up working day")
        closed = await client.get("/halls/demo/services/A/slots", params={"date": sunday.isoformat()})
        assert closed.status_code == 200 and closed.json() == []
        monday = sunday + ONE_DAY
        opened = (await client.get("/halls/demo/services/A/slots", params={"date": monday.isoformat()})).json()
        assert opened and opened[0]["start"].startswith(f"{monday.isoformat()}T08:30")

    async def main() -> None:
        data = config().model_dump()
        data["hall"]["around_the_clock"] = False
        async with running_app(make_settings(database, HallConfig.model_validate(data))) as (client, _app):
            await scenario(client)

    asyncio.run(main())


def test_a_retried_booking_with_its_idempotency_key_gets_the_same_booking(database: str, clock: Clock) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        body = {"service": "A", "start": clock.at(11).isoformat(), "id_number": id_number(1), "phone": PHONE}
        headers = {"Idempotency-Key": "phone-retry-1"}
        first, again = [await client.post("/halls/demo/appointments", json=body, headers=headers) for _ in range(2)]
        assert first.status_code == again.status_code == 201, again.text
        assert first.json() == again.json()
        bad = await client.post("/halls/demo/appointments", json=body, headers={"Idempotency-Key": "no spaces"})
        assert bad.status_code == 422 and "Idempotency-Key" in bad.json()["detail"]

    run(database, scenario)
