"""预约 check-in at the kiosk under Xvfb: a booking's QR scanned at the real kiosk app against the real
dispatcher (`hallq server --demo`, open around the clock) becomes a printed `appointment` ticket; a
booking scanned too early is refused with the time to come back. Screens: artifacts/screens/kiosk-appt-*.png."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from kiosk.api import parse_booking_url
from tests.appointments.conftest import id_number
from tests.kiosk.test_ui import dispatcher, kiosk, shot, ui, wait_ticket_done  # noqa: F401  (the shared fixtures)

PHONE = "13712345678"


def test_a_booking_qr_is_recognised() -> None:
    assert parse_booking_url("http://hall.example/a/demo/b/0123abcd?k=xyz") == ("0123abcd", "xyz")
    assert parse_booking_url("http://hall.example/t/demo/0123abcd?k=xyz") is None
    assert parse_booking_url("A012") is None


def slots_from_now(d: Any) -> list[dict[str, Any]]:
    """The demo hall's 社保业务 slots (one place each) not yet started, today's then tomorrow's."""
    today = httpx.get(f"{d.api}/halls/demo/appointments/options").json()["today"]
    days = [today, (dt.date.fromisoformat(today) + dt.timedelta(days=1)).isoformat()]
    found: list[dict[str, Any]] = []
    for day in days:
        answer = httpx.get(f"{d.api}/halls/demo/services/A/slots", params={"date": day})
        assert answer.status_code == 200, answer.text
        found += answer.json()
    return found


def book(d: Any, slot: dict[str, Any], seq: int) -> dict[str, Any]:
    body = {"service": "A", "start": slot["start"], "id_number": id_number(seq), "phone": PHONE}
    answer = httpx.post(f"{d.api}/halls/demo/appointments", json=body, headers=d.headers)
    assert answer.status_code == 201, answer.text
    booking: dict[str, Any] = answer.json()
    return booking


@pytest.mark.parametrize("orientation", ["portrait"])
def test_scanning_a_booking_checks_in_and_prints_a_priority_ticket(orientation: str, ui: Any) -> None:  # noqa: F811
    slots = slots_from_now(ui.dispatcher)
    booking = book(ui.dispatcher, slots[0], 31)  # the next slot starts within 30 minutes: on time
    jobs_before = len(ui.printer_sim.jobs)
    ui.runtime.demo_scan(booking["status_url"])
    screen = wait_ticket_done(ui)
    assert screen.priority_label == "预约优先" and screen.printed and screen.number.startswith("A")
    assert ui.text_shown("预约优先") and len(ui.printer_sim.jobs) == jobs_before + 1
    ticket = ui.runtime.client.ticket(screen.ticket_id)
    assert ticket.priority == "appointment" and ticket.channel == "appointment"
    shot(ui, "appt-checked-in")
    ui.tap("完成")
    ui.wait_for(lambda: ui.screen == "home")
    ui.runtime.demo_scan(booking["status_url"])  # the same booking again: once only
    ui.wait_for(lambda: ui.screen == "message", what="the refusal")
    assert ui.text_shown("预约签到未成功") and ui.text_shown("已签到取号")


@pytest.mark.parametrize("orientation", ["portrait"])
def test_a_booking_scanned_too_early_says_when_to_come_back(orientation: str, ui: Any) -> None:  # noqa: F811
    slots = slots_from_now(ui.dispatcher)
    later = slots[2]  # starts more than an hour from now: check-in opens 30 minutes before it
    booking = book(ui.dispatcher, later, 32)
    ui.runtime.demo_scan(booking["status_url"])
    ui.wait_for(lambda: ui.screen == "message", what="the refusal")
    opens = (dt.datetime.fromisoformat(later["start"]) - dt.timedelta(minutes=30)).strftime("%H:%M")
    assert ui.text_shown("签到时间未到") and ui.text_shown(f"{opens} 后再来签到")
    shot(ui, "appt-too-early")


@pytest.mark.parametrize("orientation", ["landscape"])
def test_a_card_at_the_status_screen_finds_the_holders_booking(orientation: str, ui: Any) -> None:  # noqa: F811
    """预约签到 by ID card: at 查询号码 the card's holder is matched to their booking (by the number's HMAC
    at the dispatcher); this one opens later, so the kiosk says when to come back."""
    from hardware.idcard import IdCard

    today = httpx.get(f"{ui.dispatcher.api}/halls/demo/appointments/options").json()["today"]
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=45)  # check-in opens 30 minutes before the start
    free_later_today = [
        s
        for s in slots_from_now(ui.dispatcher)
        if s["start"][:10] == today and dt.datetime.fromisoformat(s["start"]) > soon and s["booked"] < s["capacity"]
    ]
    if not free_later_today:
        pytest.skip("no free slot later today at this hour: a card finds only today's booking")
    later = free_later_today[-1]  # the last: the module's other tests book the next few slots
    book(ui.dispatcher, later, 34)
    born = dt.date(1980, 1, 1)
    card = IdCard(
        name="周敏",
        sex="2",
        nation="01",
        birth=born,
        address="江苏省句容市华阳镇人民路1号",
        id_number=id_number(34),
        issuer="句容市公安局",
        valid_from=dt.date(2020, 1, 1),
        valid_to=None,
    )
    ui.tap("查询号码")
    ui.wait_for(lambda: ui.screen == "status")
    ui.card_sim.present(card)
    ui.wait_for(lambda: ui.screen == "message", what="the card's booking")
    opens = (dt.datetime.fromisoformat(later["start"]) - dt.timedelta(minutes=30)).strftime("%H:%M")
    assert ui.text_shown("签到时间未到") and ui.text_shown(f"{opens} 后再来签到")
    assert ui.presenter.citizen is None and not ui.text_shown(card.name)
    shot(ui, "appt-card-too-early")
    ui.card_sim.remove()
