"""预约 check-in in the kiosk's presenter (no window): a late check-in's normal ticket carries the
dispatcher's sentence on screen and in the voice; a refusal shows its Chinese half."""

from __future__ import annotations

from typing import Any

import pytest

from hallq.api_models import TicketAnswer
from hallq.appointment_models import CheckInAnswer
from hallq.client import DispatcherRefused
from kiosk.identity import demo_identity
from kiosk.presenter import chinese_part
from kiosk.views import MessageView, TicketView
from tests.kiosk.conftest import TODAY, Harness

EARLY = "签到时间未到，请于 09:30 后再来签到（预约时段 10:00 开始）。"
LATE = "您已超过预约时间（10:00）15分钟以上，已为您取普通号 A012，请按顺序等候。"


def answer(on_time: bool) -> CheckInAnswer:
    ticket = TicketAnswer.model_validate(
        {"id": "t1", "number": "A012", "service": "A", "service_name": "社保业务",
         "priority": "appointment" if on_time else "normal", "status": "waiting", "ahead": 3,
         "estimated_wait_s": 600, "issued_at": "2026-12-07T02:16:00+00:00", "channel": "appointment",
         "status_url": "http://127.0.0.1:8000/t/demo/t1?k=x"}
    )  # fmt: skip
    message = "签到成功。 Checked in." if on_time else LATE + " Checked in late: ticket A012 is a normal one."
    return CheckInAnswer(appointment="b1", on_time=on_time, message=message, ticket=ticket)


@pytest.mark.parametrize("on_time", [True, False])
def test_a_check_in_shows_prints_and_speaks_the_ticket(kiosk: Harness, monkeypatch: Any, on_time: bool) -> None:
    monkeypatch.setattr(kiosk.presenter.client, "check_in_booking", lambda _id, _device: answer(on_time))
    kiosk.presenter.scanned("http://127.0.0.1:8000/a/demo/b/b1?k=key")
    view = kiosk.view
    assert isinstance(view, TicketView) and view.number == "A012" and view.printed
    assert kiosk.printed_numbers() == ["A012"]
    if on_time:
        assert view.priority_label == "预约优先" and view.note == ""
        assert kiosk.speaker.said == ["您的号码是A零一二，前面还有3人"]
    else:
        assert view.priority_label == "" and view.note == LATE
        assert kiosk.speaker.said == [LATE + "您的号码是A零一二，前面还有3人"]


def test_a_refused_check_in_shows_the_sentence(kiosk: Harness, monkeypatch: Any) -> None:
    def refuse(_id: str, _device: str | None) -> CheckInAnswer:
        raise DispatcherRefused(409, EARLY + " Too early: check in from 09:30.")

    monkeypatch.setattr(kiosk.presenter.client, "check_in_booking", refuse)
    kiosk.presenter.scanned("http://127.0.0.1:8000/a/demo/b/b1?k=key")
    view = kiosk.view
    assert isinstance(view, MessageView) and view.title == "预约签到未成功"
    assert view.text == EARLY
    assert chinese_part("只有中文") == "只有中文"


def test_a_card_at_the_status_screen_checks_in_the_booking_due_now(kiosk: Harness, monkeypatch: Any) -> None:
    monkeypatch.setattr(kiosk.presenter.client, "check_in_by_card", lambda _card, _device: answer(True))
    kiosk.presenter.open_status()
    kiosk.presenter.card_read(demo_identity("张秀英", 45, TODAY))
    view = kiosk.view
    assert isinstance(view, TicketView) and view.number == "A012" and view.priority_label == "预约优先"
    assert kiosk.presenter.citizen is None  # the card checked in; it did not start a new ticket


def test_a_card_whose_booking_is_not_due_yet_is_told_when(kiosk: Harness, monkeypatch: Any) -> None:
    def refuse(_card: Any, _device: str | None) -> CheckInAnswer:
        raise DispatcherRefused(409, EARLY + " Too early: check in from 09:30.")

    monkeypatch.setattr(kiosk.presenter.client, "check_in_by_card", refuse)
    kiosk.presenter.open_status()
    kiosk.presenter.card_read(demo_identity("张秀英", 45, TODAY))
    view = kiosk.view
    assert isinstance(view, MessageView) and view.title == "预约签到未成功" and view.text == EARLY
