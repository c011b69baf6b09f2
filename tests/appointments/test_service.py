"""Bookings in the store on SQLite and PostgreSQL: places, the per-person rules, 爽约, cancel and 改约,
and the race for the last place."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest

from server.appointments.service import AppointmentError, AppointmentService, BadBooking, SlotFull
from server.appointments.workflow import IllegalAppointmentAction
from server.pii import InvalidIdCard
from tests.appointments.conftest import MONDAY, PHONE, id_number, local

NOW = local(MONDAY, 8, 0)
NINE = local(MONDAY, 9, 0)
Factory = Callable[..., AppointmentService]


def booked_at(service: AppointmentService, start: dt.datetime) -> int:
    slot = next(s for s in service.slots("A", start.date(), NOW) if s["start"] == start)
    return int(slot["booked"])


def test_a_booking_takes_a_place_and_keeps_only_an_hmac_and_a_masked_phone(make_service: Factory) -> None:
    service = make_service(share=1.0)
    row = service.book("A", NINE, id_number(1), PHONE, "phone", NOW)
    assert booked_at(service, NINE) == 1
    view = service.view(row["id"], NOW)
    assert view["status"] == "booked" and view["masked_phone"] == "138****5678" and len(view["code"]) == 8
    assert view["check_in_from"] == NINE - dt.timedelta(minutes=30)
    assert id_number(1) not in str(row) and PHONE not in str(row)
    with pytest.raises(AppointmentError, match="每天只能预约一次"):
        service.book("A", NINE + dt.timedelta(hours=1), id_number(1), PHONE, "phone", NOW)
    other_service = service.book("B", NINE, id_number(1), PHONE, "phone", NOW)  # another service: allowed
    assert other_service["service"] == "B"


def test_bad_input_is_refused_with_a_sentence(make_service: Factory) -> None:
    service = make_service()
    wrong_check = id_number(2)[:-1] + ("0" if id_number(2)[-1] != "0" else "1")
    with pytest.raises(InvalidIdCard, match="校验位"):
        service.book("A", NINE, wrong_check, PHONE, "phone", NOW)
    with pytest.raises(BadBooking, match="不是可预约的时段"):
        service.book("A", local(MONDAY, 9, 10), id_number(2), PHONE, "phone", NOW)
    with pytest.raises(BadBooking, match="只能预约"):
        service.book("A", NINE + dt.timedelta(days=30), id_number(2), PHONE, "phone", NOW)
    with pytest.raises(AppointmentError, match="已开始"):
        service.book("A", local(MONDAY, 8, 30), id_number(2), PHONE, "phone", local(MONDAY, 8, 40))


def test_a_full_slot_refuses_and_a_cancel_gives_the_place_back(make_service: Factory) -> None:
    service = make_service()  # share 0.3: one place per slot for A
    first = service.book("A", NINE, id_number(1), PHONE, "phone", NOW)
    with pytest.raises(SlotFull, match="名额已满"):
        service.book("A", NINE, id_number(2), PHONE, "phone", NOW)
    cancelled = service.cancel(first["id"], NOW)
    assert cancelled["status"] == "cancelled" and booked_at(service, NINE) == 0
    again = service.book("A", NINE, id_number(1), PHONE, "phone", NOW)  # the same person, rebooked
    assert again["id"] != first["id"]
    with pytest.raises(IllegalAppointmentAction, match="已取消"):
        service.cancel(first["id"], NOW)


def test_reschedule_moves_the_place_in_one_transaction(make_service: Factory) -> None:
    service = make_service()
    ten = NINE + dt.timedelta(hours=1)
    mine = service.book("A", NINE, id_number(1), PHONE, "phone", NOW)
    service.book("A", ten, id_number(2), PHONE, "phone", NOW)  # ten o'clock is full
    with pytest.raises(SlotFull):
        service.reschedule(mine["id"], ten, NOW)
    assert service.view(mine["id"], NOW)["status"] == "booked" and booked_at(service, NINE) == 1  # untouched
    moved = service.reschedule(mine["id"], ten + dt.timedelta(hours=1), NOW)
    assert service.view(mine["id"], NOW)["status"] == "cancelled" and booked_at(service, NINE) == 0
    assert booked_at(service, ten + dt.timedelta(hours=1)) == 1 and moved["code"] != mine["code"]


def test_missed_bookings_become_no_shows_and_block_further_booking(make_service: Factory) -> None:
    service = make_service(no_show_block={"missed": 2, "within_days": 90, "block_days": 30})
    days = [MONDAY, MONDAY + dt.timedelta(days=1)]
    missed = [service.book("A", local(day, 9), id_number(7), PHONE, "phone", NOW) for day in days]
    after_first = local(MONDAY, 9, 46)  # the slot's end (9:30) + the late margin (15) has passed
    assert service.view(missed[0]["id"], local(MONDAY, 9, 44))["status"] == "booked"
    assert service.view(missed[0]["id"], after_first)["status"] == "no_show"
    later = local(MONDAY + dt.timedelta(days=2), 8, 0)
    with pytest.raises(AppointmentError, match="爽约") as caught:
        service.book("A", local(MONDAY + dt.timedelta(days=3), 9), id_number(7), PHONE, "phone", later)
    assert "2027年01月07日" in str(caught.value) or "2027年01月08日" in str(caught.value)
    # someone else is not blocked, and the block ends after block_days
    service.book("A", local(MONDAY + dt.timedelta(days=3), 9), id_number(8), PHONE, "phone", later)


def test_check_in_claims_once_refuses_early_and_says_when_to_come(make_service: Factory) -> None:
    service = make_service()
    row = service.book("A", NINE, id_number(1), PHONE, "phone", NOW)
    with pytest.raises(AppointmentError, match="08:30 后再来签到"):
        service.claim(row["id"], local(MONDAY, 8, 29))
    claimed, on_time = service.claim(row["id"], local(MONDAY, 9, 15))
    assert on_time and claimed.service == "A"
    resumed, _ = service.claim(row["id"], local(MONDAY, 9, 16))  # no ticket tied to it yet: taken again
    assert resumed.id == claimed.id
    service.attach_ticket(row["id"], "t1", local(MONDAY, 9, 16))
    with pytest.raises(IllegalAppointmentAction, match="已签到取号"):
        service.claim(row["id"], local(MONDAY, 9, 17))
    late = service.book("A", NINE + dt.timedelta(hours=1), id_number(2), PHONE, "phone", NOW)
    _, on_time = service.claim(late["id"], local(MONDAY, 10, 16))
    assert not on_time


def race(count: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run `attempt(i)` in `count` threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = attempt(i)
        except Exception as exc:  # what the test counts
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("share", [0.3, 1.0])
def test_racing_phones_never_overbook_a_slot(make_service: Factory, share: float) -> None:
    service = make_service(share=share)
    capacity = next(s["capacity"] for s in service.slots("A", MONDAY, NOW) if s["start"] == NINE)
    results = race(capacity + 4, lambda i: service.book("A", NINE, id_number(10 + i), PHONE, "phone", NOW))
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, SlotFull)]
    assert len(won) == capacity and len(lost) == 4, results
    assert booked_at(service, NINE) == capacity


def test_one_person_racing_two_slots_of_a_day_keeps_one(make_service: Factory) -> None:
    service = make_service()
    starts = [NINE, NINE + dt.timedelta(hours=1)]
    results = race(2, lambda i: service.book("A", starts[i], id_number(3), PHONE, "phone", NOW))
    assert sum(isinstance(r, dict) for r in results) == 1, results
    assert sum(isinstance(r, AppointmentError) and "每天只能预约一次" in str(r) for r in results) == 1
    assert booked_at(service, NINE) + booked_at(service, starts[1]) == 1  # the loser's place went back


def test_the_same_request_again_answers_the_booking_it_made(make_service: Factory) -> None:
    service = make_service()
    first = service.book("A", NINE, id_number(9), PHONE, "phone", NOW, "key-1")
    again = service.book("A", NINE, id_number(9), PHONE, "phone", NOW, "key-1")  # the answer was lost
    assert (again["id"], again["code"], again["access"]) == (first["id"], first["code"], first["access"])
    assert again["start"] == first["start"] == NINE and booked_at(service, NINE) == 1
    with pytest.raises(SlotFull):  # another person with the same key gets nothing of the first one's
        service.book("A", NINE, id_number(10), PHONE, "phone", NOW, "key-1")
    racing = race(2, lambda _i: service.book("A", NINE + dt.timedelta(hours=1), id_number(11), PHONE, "phone",
                                             NOW, "key-2"))  # fmt: skip
    assert [type(r) for r in racing] == [dict, dict] and racing[0]["id"] == racing[1]["id"], racing
