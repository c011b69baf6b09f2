"""The kiosk's behaviour without a window: presenter + real HTTP client against a fake dispatcher."""

from __future__ import annotations

import json

from kiosk.api import parse_status_url
from kiosk.devices import PAPER_OUT
from kiosk.identity import demo_identity, mask_name
from kiosk.views import (
    BusyView,
    HomeView,
    MessageView,
    PriorityView,
    RatingView,
    StatusView,
    TicketView,
    spoken_number,
)
from tests.kiosk.conftest import TODAY, Harness


def issued_bodies(kiosk: Harness) -> list[dict]:
    return [json.loads(r.content) for r in kiosk.dispatcher.requests if r.method == "POST"]


def test_home_groups_services_by_department_with_waiting_counts(kiosk: Harness) -> None:
    kiosk.dispatcher.tickets["x"] = {"id": "x", "number": "A001", "service": "A", "status": "waiting"}
    kiosk.presenter.refresh()
    view = kiosk.view
    assert isinstance(view, HomeView)
    assert view.hall_name == "句容市政务服务中心"
    departments = [t.department for t in view.tiles]
    assert departments == sorted(departments)
    social = next(t for t in view.tiles if t.code == "A")
    assert (social.waiting, social.wait) == (1, "约8分钟")
    assert not next(t for t in view.tiles if t.code == "G").open_now


def test_service_ticket_is_shown_spoken_once_and_printed(kiosk: Harness) -> None:
    kiosk.presenter.choose_service("A")
    view = kiosk.view
    assert isinstance(view, TicketView)
    assert (view.number, view.service_name, view.printed) == ("A001", "社保业务", True)
    assert view.qr.startswith("http://127.0.0.1:8000/t/demo/")
    assert kiosk.speaker.said == ["您的号码是A零零一，前面还有0人"]
    assert kiosk.printed_numbers() == ["A001"]
    body = issued_bodies(kiosk)[0]
    assert body == {"service": "A", "priority": "normal", "channel": "kiosk", "device": "kiosk-1"}


def test_priority_button_issues_a_green_ticket_with_its_reason(kiosk: Harness) -> None:
    kiosk.presenter.open_priority()
    assert isinstance(kiosk.view, PriorityView)
    assert ("pregnant", "孕妇") in kiosk.view.reasons
    kiosk.presenter.choose_green("pregnant")
    assert "孕妇" in kiosk.view.green
    kiosk.presenter.choose_service("B")
    assert kiosk.view.priority_label == "绿色通道"
    assert issued_bodies(kiosk)[0]["green_reason"] == "pregnant"
    assert issued_bodies(kiosk)[0]["priority"] == "green"


def test_elderly_card_gets_green_channel_without_asking_and_sends_card(kiosk: Harness) -> None:
    card = demo_identity("张秀英", 76, TODAY)
    kiosk.presenter.card_read(card)
    home = kiosk.view
    assert isinstance(home, HomeView)
    assert home.citizen == "张*英，您好"
    assert "60岁以上老人" in home.green
    kiosk.presenter.choose_service("A")
    body = issued_bodies(kiosk)[0]
    assert body["priority"] == "green" and body["green_reason"] == "elderly"
    assert body["id_card"] == {"id_number": card.id_number, "name": "张秀英", "birth": card.birth.strftime("%Y%m%d")}
    assert "张秀英" not in repr(card) and card.id_number not in repr(card)


def test_younger_card_is_a_normal_ticket(kiosk: Harness) -> None:
    kiosk.presenter.card_read(demo_identity("李明", 30, TODAY))
    assert kiosk.view.green == "" and kiosk.view.citizen == "李*，您好"
    kiosk.presenter.choose_service("A")
    assert issued_bodies(kiosk)[0]["priority"] == "normal"


def test_per_person_limit_is_a_polite_message(kiosk: Harness) -> None:
    card = demo_identity("李明", 30, TODAY)
    kiosk.presenter.card_read(card)
    kiosk.presenter.choose_service("A")
    kiosk.presenter.go_home()
    kiosk.presenter.card_read(card)
    kiosk.presenter.choose_service("A")
    view = kiosk.view
    assert isinstance(view, MessageView) and view.kind == "refused"
    assert "您今天已在本业务取号 1 次" in view.text
    assert kiosk.presenter.pending is None


def test_unreachable_dispatcher_retries_with_the_same_key_and_never_issues_twice(kiosk: Harness) -> None:
    kiosk.dispatcher.down = True
    kiosk.presenter.choose_service("A")
    assert isinstance(kiosk.view, MessageView) and kiosk.view.retrying
    assert "正在自动重试" in kiosk.view.text
    kiosk.tasks.fire(lambda d: d == kiosk.presenter.options.retry_s)
    assert isinstance(kiosk.view, MessageView) and "已重试2次" in kiosk.view.text
    kiosk.dispatcher.down = False
    kiosk.dispatcher.lose_next_answer = True  # issued, answer lost: the client's own retry replays the key
    kiosk.tasks.fire(lambda d: d == kiosk.presenter.options.retry_s)
    assert isinstance(kiosk.view, TicketView) and kiosk.view.number == "A001"
    keys = {r.headers["Idempotency-Key"] for r in kiosk.dispatcher.requests if r.method == "POST"}
    assert len(keys) == 1 and len(kiosk.dispatcher.tickets) == 1
    assert kiosk.statuses[-1]["dispatcher"] == "ok"
    assert any(s["dispatcher"] == "unreachable" for s in kiosk.statuses)


def test_each_tap_is_a_new_key(kiosk: Harness) -> None:
    kiosk.presenter.choose_service("A")
    kiosk.presenter.go_home()
    kiosk.presenter.choose_service("A")
    keys = [r.headers["Idempotency-Key"] for r in kiosk.dispatcher.requests if r.method == "POST"]
    assert len(set(keys)) == 2 and kiosk.view.number == "A002"


def test_printer_out_of_paper_still_shows_the_ticket_and_reports(kiosk: Harness) -> None:
    kiosk.paper_out()
    kiosk.presenter.choose_service("C")
    view = kiosk.view
    assert isinstance(view, TicketView) and not view.printed and not view.printing
    assert "打印机缺纸" in view.print_message and "拍下" in view.print_message
    assert view.qr.startswith("http://")
    assert kiosk.statuses[-1]["printer"]["paper"] == PAPER_OUT
    assert len(kiosk.dispatcher.tickets) == 1
    assert kiosk.speaker.said[0].startswith("您的号码是C零零一")
    assert "打印机缺纸" in kiosk.speaker.said[1]


def test_printer_exception_is_not_a_lost_ticket(kiosk: Harness) -> None:
    def broken(job: object) -> None:
        raise OSError("USB device gone")

    kiosk.printer.print_ticket = broken  # type: ignore[method-assign]
    kiosk.presenter.choose_service("A")
    assert isinstance(kiosk.view, TicketView) and "打印机暂时无法出票" in kiosk.view.print_message
    assert kiosk.statuses[-1]["printer"]["paper"] == "no_answer"


def test_closed_service_is_explained(kiosk: Harness) -> None:
    kiosk.presenter.choose_service("G")
    assert isinstance(kiosk.view, MessageView) and "不在办理时间" in kiosk.view.text
    assert not issued_bodies(kiosk)


def test_idle_timeout_goes_home_and_forgets_the_citizen(kiosk: Harness) -> None:
    kiosk.presenter.card_read(demo_identity("王芳", 80, TODAY))
    kiosk.presenter.open_priority()
    kiosk.clock += 29
    kiosk.presenter.tick()
    assert isinstance(kiosk.view, PriorityView)
    kiosk.clock += 1
    kiosk.presenter.tick()
    assert isinstance(kiosk.view, HomeView) and kiosk.view.citizen == "" and kiosk.view.green == ""
    assert kiosk.presenter.citizen is None


def test_idle_timeout_does_not_cut_a_request_in_flight(kiosk: Harness) -> None:
    kiosk.presenter.current = BusyView("正在取号")
    kiosk.clock += 100
    kiosk.presenter.tick()
    assert isinstance(kiosk.presenter.current, BusyView)


def test_card_error_explains_how_to_place_the_card(kiosk: Harness) -> None:
    kiosk.presenter.card_failed("checksum error")
    assert isinstance(kiosk.view, MessageView) and "平放" in kiosk.view.text
    assert kiosk.statuses[-1]["idcard"].startswith("error")


def test_scan_a_ticket_qr_then_rejoin_after_no_show(kiosk: Harness) -> None:
    kiosk.presenter.choose_service("A")
    ticket = kiosk.presenter.last_ticket
    assert ticket is not None
    kiosk.presenter.go_home()
    kiosk.dispatcher.tickets[ticket.id]["status"] = "no_show"
    kiosk.presenter.scanned(ticket.status_url)
    view = kiosk.view
    assert isinstance(view, StatusView) and view.result is not None
    assert view.result.status_text == "已过号" and view.can_rejoin
    get = [r for r in kiosk.dispatcher.requests if r.method == "GET" and "/tickets/" in r.url.path][-1]
    assert get.url.params["k"] == f"secret{ticket.id}"
    kiosk.presenter.rejoin()
    assert kiosk.view.result.status == "waiting" and not kiosk.view.can_rejoin
    assert kiosk.speaker.said[-1].startswith("已重新排队")


def test_type_a_number_to_look_it_up(kiosk: Harness) -> None:
    kiosk.presenter.choose_service("A")
    kiosk.presenter.open_status()
    for key in "A001":
        kiosk.presenter.status_key(key)
    kiosk.presenter.look_up()
    assert kiosk.view.result.number == "A001" and kiosk.view.result.status_text == "等候中"
    kiosk.presenter.status_key("clear")
    for key in "B9":
        kiosk.presenter.status_key(key)
    kiosk.presenter.look_up()
    assert kiosk.view.result is None and "未找到该号码" in kiosk.view.error


def test_unknown_qr_is_explained(kiosk: Harness) -> None:
    kiosk.presenter.scanned("https://example.com/whatever")
    assert isinstance(kiosk.view, StatusView) and "无法识别" in kiosk.view.error


def test_elderly_mode_pages_services_and_reads_screens_aloud(kiosk: Harness) -> None:
    kiosk.presenter.toggle_elderly()
    view = kiosk.view
    assert view.elderly and len(view.tiles) == 4 and view.pages == 2
    assert kiosk.speaker.said[-1].startswith("请选择要办理的业务")
    kiosk.presenter.next_page()
    assert len(kiosk.view.tiles) == 1 and kiosk.view.page == 1
    kiosk.presenter.open_priority()
    assert kiosk.speaker.said[-1] == "绿色通道。请选择您的情况"


def test_dispatcher_down_at_start_shows_a_banner_and_recovers(kiosk: Harness) -> None:
    harness = Harness()
    harness.dispatcher.down = True
    harness.presenter.start()
    assert "正在连接" in harness.view.offline and harness.view.tiles == ()
    harness.dispatcher.down = False
    harness.tasks.fire()
    assert harness.view.offline == "" and len(harness.view.tiles) == 5


def test_helpers() -> None:
    assert mask_name("欧阳小明") == "欧**明" and mask_name("张三") == "张*"
    assert spoken_number("A012") == "A零一二"
    assert parse_status_url("http://h:8000/t/demo/abc?k=zz") == ("abc", "zz")
    assert parse_status_url("A012") is None
    card = demo_identity("赵六", 60, TODAY)
    assert card.age_on(TODAY) == 60 and len(card.id_number) == 18


def test_printer_paper_is_polled_and_reported(kiosk: Harness) -> None:
    kiosk.printer_sim.set_paper("near_end")
    kiosk.tasks.fire(lambda d: d == kiosk.presenter.options.printer_poll_s)
    assert kiosk.statuses[-1]["printer"] == {"paper": "near_end"}
    assert any(d == kiosk.presenter.options.printer_poll_s for d, _ in kiosk.tasks.timers)  # polls again


def test_card_reader_state_goes_into_the_device_status(kiosk: Harness) -> None:
    kiosk.presenter.card_reader_state("no_reader: 读卡器已断开")
    assert kiosk.statuses[-1]["idcard"] == "no_reader: 读卡器已断开"
    count = len(kiosk.statuses)
    kiosk.presenter.card_reader_state("no_reader: 读卡器已断开")
    assert len(kiosk.statuses) == count  # unchanged: not republished
    kiosk.presenter.card_reader_state("ok")
    assert kiosk.statuses[-1]["idcard"] == "ok"


def served_and_scanned(kiosk: Harness) -> str:
    kiosk.presenter.choose_service("A")
    ticket = kiosk.presenter.last_ticket
    assert ticket is not None
    kiosk.presenter.go_home()
    kiosk.dispatcher.tickets[ticket.id].update(status="done", window="3", window_name="3号窗口")
    kiosk.presenter.scanned(ticket.status_url)
    return ticket.id


def test_a_served_tickets_qr_rates_the_service_with_a_reason_after_a_bad_level(kiosk: Harness) -> None:
    ticket_id = served_and_scanned(kiosk)
    status = kiosk.view
    assert isinstance(status, StatusView) and status.can_rate and status.result is not None
    kiosk.presenter.open_rating()
    view = kiosk.view
    assert isinstance(view, RatingView) and view.score is None and view.window_name == "3号窗口"
    kiosk.presenter.rating.choose_level(1)
    assert [r.label for r in kiosk.view.reasons] == ["服务态度差", "办事效率低"] and kiosk.view.is_bad
    kiosk.presenter.rating.send()  # a 差评 without a reason is asked for one, nothing sent
    assert "至少选择一项" in kiosk.view.error and ticket_id not in kiosk.dispatcher.ratings
    kiosk.presenter.rating.toggle_reason("efficiency")
    kiosk.presenter.rating.send()
    assert kiosk.dispatcher.ratings[ticket_id] == {"score": 1, "reasons": ["efficiency"], "channel": "kiosk"}
    assert isinstance(kiosk.view, MessageView) and kiosk.view.title == "感谢您的评价" and "整改" in kiosk.view.text
    kiosk.presenter.scanned(kiosk.presenter.last_ticket.status_url)  # type: ignore[union-attr]
    assert isinstance(kiosk.view, StatusView) and not kiosk.view.can_rate  # 一次一评: no second button


def test_a_good_level_needs_no_reason_and_back_returns_to_the_status(kiosk: Harness) -> None:
    ticket_id = served_and_scanned(kiosk)
    kiosk.presenter.open_rating()
    kiosk.presenter.rating.choose_level(4)
    assert kiosk.view.reasons == () and not kiosk.view.is_bad
    kiosk.presenter.rating.back()
    assert isinstance(kiosk.view, StatusView) and kiosk.view.can_rate
    kiosk.presenter.open_rating()
    kiosk.presenter.rating.choose_level(5)
    assert [r.code for r in kiosk.view.reasons] == ["attitude"]
    kiosk.presenter.rating.send()
    assert kiosk.dispatcher.ratings[ticket_id] == {"score": 5, "reasons": [], "channel": "kiosk"}


def test_a_typed_number_is_looked_up_but_never_rated(kiosk: Harness) -> None:
    served_and_scanned(kiosk)
    kiosk.presenter.open_status()
    for key in "A001":
        kiosk.presenter.status_key(key)
    kiosk.presenter.look_up()
    assert kiosk.view.result.status == "done" and not kiosk.view.can_rate
    kiosk.presenter.open_rating()
    assert isinstance(kiosk.view, StatusView)


def test_rating_while_the_dispatcher_is_away_keeps_the_choice(kiosk: Harness) -> None:
    ticket_id = served_and_scanned(kiosk)
    kiosk.presenter.open_rating()
    kiosk.presenter.rating.choose_level(2)
    kiosk.presenter.rating.toggle_reason("efficiency")
    kiosk.dispatcher.down = True
    kiosk.presenter.rating.send()
    view = kiosk.view
    assert isinstance(view, RatingView) and "无法连接" in view.error
    assert view.score == 2 and [r.code for r in view.reasons if r.selected] == ["efficiency"]
    kiosk.dispatcher.down = False
    kiosk.presenter.rating.send()
    assert kiosk.dispatcher.ratings[ticket_id]["reasons"] == ["efficiency"]


def test_a_ticket_rated_elsewhere_is_said_plainly(kiosk: Harness) -> None:
    ticket_id = served_and_scanned(kiosk)
    kiosk.dispatcher.ratings[ticket_id] = {"score": 5}  # rated on the phone meanwhile
    kiosk.presenter.open_rating()
    kiosk.presenter.rating.choose_level(3)
    kiosk.presenter.rating.send()
    assert isinstance(kiosk.view, MessageView) and "只能评价一次" in kiosk.view.text
    kiosk.presenter.scanned(kiosk.presenter.last_ticket.status_url)  # type: ignore[union-attr]
    assert not kiosk.view.can_rate


def test_a_card_at_the_status_screen_finds_the_served_ticket_to_rate(kiosk: Harness) -> None:
    card = demo_identity("张秀英", 45, TODAY)
    kiosk.presenter.card_read(card)
    kiosk.presenter.choose_service("A")
    ticket = kiosk.presenter.last_ticket
    assert ticket is not None
    kiosk.presenter.reset()
    kiosk.presenter.open_status()
    kiosk.presenter.card_read(card)  # nothing served yet: the dispatcher's sentence, no rating
    assert isinstance(kiosk.view, StatusView) and "没有找到您已办结" in kiosk.view.error
    kiosk.dispatcher.tickets[ticket.id].update(status="done", window="3", window_name="3号窗口")
    kiosk.presenter.card_read(card)
    view = kiosk.view
    assert isinstance(view, StatusView) and view.result is not None and view.result.number == ticket.number
    assert view.can_rate and kiosk.presenter.citizen is None  # the card did not start a new ticket
    kiosk.presenter.open_rating()
    kiosk.presenter.rating.choose_level(5)
    kiosk.presenter.rating.send()
    assert kiosk.dispatcher.ratings[ticket.id]["score"] == 5
