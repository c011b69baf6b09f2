"""The kiosk under Xvfb, tapped through every flow against the REAL dispatcher (`hallq server --demo`
in a subprocess) and the simulated hardware (hardware/ printer and ID card reader simulators, the
real reader loop and ESC/POS driver in between). Every screen is saved in both orientations to
artifacts/screens/kiosk-*.png."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hallq.kivy_fit import labels_that_do_not_fit
from tests.kiosk import screen_checks

pytestmark = pytest.mark.ui

ORIENTATIONS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
SIZES = {**ORIENTATIONS, "demo": (585, 1040)}  # demo: the kiosk's window in `hallq demo` on a 1080p desktop


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.support.dispatcher import start_dispatcher

    d = start_dispatcher(tmp_path_factory.mktemp("kiosk-dispatcher"))
    yield d
    d.terminate()


@pytest.fixture(scope="module")
def kiosk(dispatcher: Any) -> Iterator[Any]:
    pytest.importorskip("kivy")
    from hallq.device import DeviceSettings
    from hardware.sim import get_simulator
    from kiosk.presenter import KioskOptions
    from kiosk.runtime import build_runtime
    from kiosk.speech import RecordingSpeaker
    from tests.kiosk.ui_driver import KioskDriver

    settings = DeviceSettings(
        kind="kiosk",
        server=dispatcher.url,
        mqtt=f"mqtt://127.0.0.1:{dispatcher.embedded_mqtt_port}",
        hall="demo",
        device="kiosk-ui",
        token="demo-device-token",
        demo=True,
        printer="sim:kiosk-ui",
        idcard="sim:kiosk-ui",
        scanner="sim:kiosk-ui",
    )
    runtime = build_runtime(settings, {"speech": False})
    runtime.speaker = RecordingSpeaker()
    runtime.options = KioskOptions(device="kiosk-ui", retry_s=1.0, refresh_s=5.0)
    driver = KioskDriver(runtime)
    driver.runtime = runtime
    driver.dispatcher = dispatcher
    driver.printer_sim = get_simulator("printer", "kiosk-ui")
    driver.card_sim = get_simulator("idcard", "kiosk-ui")
    driver.wait_for(lambda: driver.presenter.hall is not None and driver.screen == "home", what="the hall")
    yield driver
    driver.stop()


@pytest.fixture
def ui(request: pytest.FixtureRequest, kiosk: Any) -> Iterator[Any]:
    """The kiosk at home with clean simulated hardware, in the orientation the test names
    (`@pytest.mark.parametrize("orientation", ...)` or portrait). Screenshots take both."""
    orientation = getattr(request, "param", None) or request.node.funcargs.get("orientation", "portrait")
    kiosk.orientation = orientation
    kiosk.set_size(ORIENTATIONS[orientation])
    kiosk.printer_sim.clear_faults()
    kiosk.card_sim.remove()
    kiosk.card_sim.clear_faults()
    kiosk.presenter.reset()
    if kiosk.presenter.elderly_mode:
        kiosk.presenter.toggle_elderly()
    kiosk.wait_for(lambda: kiosk.screen == "home" and bool(kiosk.presenter.hall), what="home")
    yield kiosk
    kiosk.card_sim.remove()


def shot(ui: Any, name: str) -> None:
    """The screen as it is now, in both orientations and in the window `hallq demo` gives the kiosk on a
    1080p desktop (the flow goes on in its own), each checked: text fits, nothing under the header,
    button text clear of the edges, every QR on screen decodes with zbar."""
    other = "landscape" if ui.orientation == "portrait" else "portrait"
    for orientation in (ui.orientation, other, "demo"):
        if orientation != ui.orientation:
            ui.set_size(SIZES[orientation])
        path = ui.screenshot(f"{name}-{orientation}")
        assert path.stat().st_size > 10_000
        assert labels_that_do_not_fit(ui.app.root) == [], f"{name}-{orientation}: text that does not fit"
        assert screen_checks.problems(ui.app, path) == [], f"{name}-{orientation}"
    ui.set_size(ORIENTATIONS[ui.orientation])


def printed_qr_decodes(ui: Any, job: bytes, expected: str, tmp_path: Path) -> None:
    """The QR printed on the ticket, rendered from the job's ESC/POS bytes, reads back with zbar."""
    assert screen_checks.printed_qr_codes(job, tmp_path) == [expected]


def ticket_screen(ui: Any) -> Any:
    return ui.app.root.ids.sm.get_screen("ticket")


def wait_ticket_done(ui: Any) -> Any:
    ui.wait_for(lambda: ui.screen == "ticket" and not ticket_screen(ui).printing, what="the ticket")
    return ticket_screen(ui)


def present_card(ui: Any, who: str) -> Any:
    from hardware.idcard import sample_card

    card = sample_card(who)
    ui.card_sim.present(card)
    ui.wait_for(lambda: ui.presenter.citizen is not None, what="the card read")
    return card


def by_number(ui: Any, number: str) -> httpx.Response:
    return httpx.get(f"{ui.dispatcher.api}/halls/demo/tickets/by-number/{number}", headers=ui.dispatcher.headers)


def remove_card(ui: Any) -> None:
    ui.card_sim.remove()
    ui.pump(0.6)  # the reader loop sees the card gone (debounce), so the next swipe is a new one


@pytest.mark.parametrize("orientation", ["portrait"])
def test_service_ticket_is_shown_printed_and_spoken(orientation: str, ui: Any, tmp_path: Path) -> None:
    shot(ui, "home")
    assert ui.text_shown("请刷身份证") and ui.text_shown("社保业务") and ui.text_shown("等候")
    jobs_before = len(ui.printer_sim.jobs)
    ui.tap("户籍业务")
    screen = wait_ticket_done(ui)
    shot(ui, "ticket")
    assert screen.number.startswith("E") and screen.printed
    assert ui.text_shown(screen.number) and ui.text_shown("户籍业务") and ui.text_shown("请取走号票")
    assert screen.qr_texture is not None
    job = ui.printer_sim.jobs[-1]
    assert len(ui.printer_sim.jobs) == jobs_before + 1 and screen.number.encode() in job
    printed_qr_decodes(ui, job, screen_checks.shown_qr_text(screen), tmp_path)
    from kiosk.views import spoken_number

    said = [s for s in ui.runtime.speaker.said if f"您的号码是{spoken_number(screen.number)}，" in s]
    assert len(said) == 1 and said[0].endswith("人")
    ui.tap("完成")
    ui.wait_for(lambda: ui.screen == "home")


@pytest.mark.parametrize("orientation", ["landscape"])
def test_priority_button_issues_a_green_ticket(orientation: str, ui: Any) -> None:
    ui.tap("绿色通道")
    ui.wait_for(lambda: ui.screen == "priority")
    shot(ui, "priority")
    ui.tap("孕妇")
    ui.wait_for(lambda: ui.screen == "home" and ui.text_shown("绿色通道（孕妇）"))
    shot(ui, "home-green")
    ui.tap("医保业务")
    screen = wait_ticket_done(ui)
    assert screen.priority_label == "绿色通道" and ui.text_shown("绿色通道")
    ticket = by_number(ui, screen.number).json()
    assert ticket["priority"] == "green" and ticket["green_reason"] == "pregnant"
    shot(ui, "ticket-green")


@pytest.mark.parametrize("orientation", ["portrait"])
def test_id_card_of_a_76_year_old_gets_the_green_channel(orientation: str, ui: Any) -> None:
    from hardware.idcard import sample_card

    card = sample_card("elderly")
    ui.tap("刷卡·76岁")  # the demo bar puts this card on the simulated reader, then takes it back
    ui.wait_for(lambda: ui.text_shown("60岁以上老人"), what="the green offer")
    shot(ui, "card-elderly")
    texts = " ".join(ui.texts())
    assert card.masked_name in texts and card.name not in texts and card.id_number not in texts
    ui.tap("社保业务")
    screen = wait_ticket_done(ui)
    shot(ui, "ticket-card-elderly")
    assert screen.priority_label == "绿色通道"
    remove_card(ui)
    ticket = by_number(ui, screen.number).json()
    assert ticket["green_reason"] == "elderly" and ticket["masked_name"] == card.masked_name
    assert card.id_number not in json.dumps(ticket)


@pytest.mark.parametrize("orientation", ["landscape"])
def test_per_person_limit_is_a_polite_message(orientation: str, ui: Any) -> None:
    issued = 0
    for _ in range(4):  # the demo hall allows 2 or 3 tickets per person per service per day
        present_card(ui, "adult")
        ui.wait_for(lambda: ui.text_shown("身份证已读取"), what="the greeting")
        if issued == 0:
            shot(ui, "card-adult")
        ui.tap("不动产登记")
        ui.wait_for(lambda: ui.screen in ("ticket", "message") and not ticket_screen(ui).printing, what="answer")
        remove_card(ui)
        if ui.screen == "message":
            break
        issued += 1
        ui.tap("完成")
        ui.wait_for(lambda: ui.screen == "home")
    assert issued >= 1 and ui.screen == "message"
    shot(ui, "limit")
    assert ui.text_shown("抱歉") and ui.text_shown(f"您今天已在本业务取号 {issued} 次")
    ui.tap("返回首页")


@pytest.mark.parametrize("orientation", ["portrait"])
def test_card_read_error_is_explained(orientation: str, ui: Any) -> None:
    from hardware.idcard import sample_card

    ui.card_sim.inject("garbled")
    ui.card_sim.present(sample_card("young"))
    ui.wait_for(lambda: ui.screen == "message", what="the card error")
    shot(ui, "card-error")
    assert ui.text_shown("请将身份证平放在读卡区")
    ui.card_sim.remove()
    ui.card_sim.clear_faults()
    ui.tap("知道了")
    ui.wait_for(lambda: ui.screen == "home")


@pytest.mark.parametrize("orientation", ["landscape"])
def test_printer_out_of_paper_still_shows_the_ticket_and_reports_it(orientation: str, ui: Any) -> None:
    assert ui.runtime.bus.wait_connected(15)
    ui.tap("缺纸")  # the demo bar takes the paper out of the simulated printer
    jobs_before = len(ui.printer_sim.jobs)
    ui.tap("税务业务")
    screen = wait_ticket_done(ui)
    shot(ui, "ticket-paper-out")
    assert not screen.printed and ui.text_shown("打印机缺纸") and ui.text_shown("拍下")
    assert screen.qr_texture is not None and ui.text_shown(screen.number)
    assert len(ui.printer_sim.jobs) == jobs_before
    status = retained_status(ui)
    assert status["online"] is True and status["detail"]["printer"]["paper"] == "out"
    listed = by_number(ui, screen.number)
    assert listed.status_code == 200  # issued once, and kept
    ui.tap("完成")
    ui.tap("装纸")
    assert ui.printer_sim.paper == "ok"


def retained_status(ui: Any) -> dict[str, Any]:
    import paho.mqtt.client as mqtt

    from hallq.contract import Topics

    got: dict[str, Any] = {}
    arrived = threading.Event()

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        data = json.loads(message.payload)
        if data.get("detail", {}).get("printer", {}).get("paper") == "out":
            got.update(data)
            arrived.set()

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"kiosk-test-{time.monotonic_ns()}", protocol=mqtt.MQTTv311
    )
    client.on_message = on_message
    client.on_connect = lambda c, *_a: c.subscribe(Topics("demo").device_status("kiosk-ui"), qos=1)
    client.connect("127.0.0.1", ui.runtime.bus.address.port)
    client.loop_start()
    try:
        assert arrived.wait(15), "no device status with printer.paper = out on MQTT"
    finally:
        client.loop_stop()
        client.disconnect()
    return got


@pytest.mark.parametrize("orientation", ["portrait"])
def test_dispatcher_down_then_back_issues_exactly_one_ticket(orientation: str, ui: Any, dispatcher: Any) -> None:
    dispatcher.kill()
    try:
        ui.presenter.refresh()
        ui.wait_for(lambda: ui.text_shown("服务器连接中断"), what="the banner")
        shot(ui, "home-offline")
        ui.tap("婚姻登记")  # the last known services stay usable
        ui.wait_for(
            lambda: ui.screen == "message" and ui.text_shown("网络连接中断") and ui.text_shown("正在自动重试"),
            what="the offline message",
        )
        shot(ui, "offline")
        key = ui.presenter.pending.key
        ui.wait_for(lambda: ui.presenter.attempts >= 2, what="a retry")
    finally:
        dispatcher.restart()  # the other tests of this module share the dispatcher
    screen = wait_ticket_done(ui)
    assert screen.number.startswith("G")
    shot(ui, "ticket-after-outage")
    ui.tap("完成")
    ui.presenter.refresh()
    ui.wait_for(lambda: ui.screen == "home" and not ui.text_shown("服务器连接中断"), what="home, online")
    replay = httpx.post(
        f"{dispatcher.api}/halls/demo/tickets",
        json={"service": "G", "channel": "kiosk"},
        headers={**dispatcher.headers, "Idempotency-Key": key},
    )
    assert replay.json()["number"] == screen.number  # that key names that one ticket


@pytest.mark.parametrize("orientation", ["portrait"])
def test_idle_timeout_returns_home_and_forgets_the_card(orientation: str, ui: Any) -> None:
    from dataclasses import replace

    options = ui.presenter.options
    ui.presenter.options = replace(options, idle_timeout_s=2.0)
    try:
        present_card(ui, "adult")
        ui.tap("查询号码")
        ui.wait_for(lambda: ui.screen == "status")
        ui.wait_for(lambda: ui.screen == "home", timeout=8, what="the idle reset")
        shot(ui, "idle-home")
        assert ui.presenter.citizen is None and ui.text_shown("请刷身份证")
    finally:
        ui.presenter.options = options
        remove_card(ui)


@pytest.mark.parametrize("orientation", ["landscape"])
def test_status_look_up_by_keypad_and_by_qr_and_rejoin(orientation: str, ui: Any, dispatcher: Any) -> None:
    ui.tap("卫生许可")
    screen = wait_ticket_done(ui)
    number, ticket_id = screen.number, screen.ticket_id
    ui.tap("完成")
    ui.tap("查询号码")
    ui.wait_for(lambda: ui.screen == "status")
    for key in number:
        ui.tap(key) if key.isdigit() else ui.find(key) and ui.tap(key)
    ui.tap("查询")
    ui.wait_for(lambda: ui.text_shown("等候中"), what="the result")
    shot(ui, "status")
    clerk = dispatcher.clerk_headers("11")
    for path, body in (("call", {"number": number}), ("no-show", {})):
        answer = httpx.post(f"{dispatcher.api}/halls/demo/windows/11/{path}", json=body, headers=clerk)
        assert answer.status_code == 200, answer.text
    ticket = ui.runtime.client.ticket(ticket_id)
    assert ticket.status == "no_show"
    ui.presenter.go_home()
    ui.runtime.demo_scan(ticket.status_url)
    ui.wait_for(lambda: ui.screen == "status" and ui.text_shown("已过号"), what="the scanned ticket")
    shot(ui, "status-no-show")
    ui.tap("重新排队")
    ui.wait_for(lambda: ui.text_shown("等候中"), what="rejoined")
    assert ui.runtime.client.ticket(ticket_id).status == "waiting"


@pytest.mark.parametrize("orientation", ["portrait"])
def test_a_served_ticket_is_rated_at_the_kiosk_by_its_qr(orientation: str, ui: Any, dispatcher: Any) -> None:
    ui.tap("卫生许可")
    screen = wait_ticket_done(ui)
    number, ticket_id = screen.number, screen.ticket_id
    ui.tap("完成")
    clerk = dispatcher.clerk_headers("11")
    for path, body in (("call", {"number": number}), ("finish", {})):
        answer = httpx.post(f"{dispatcher.api}/halls/demo/windows/11/{path}", json=body, headers=clerk)
        assert answer.status_code == 200, answer.text
    ticket = ui.runtime.client.ticket(ticket_id)
    ui.runtime.demo_scan(ticket.status_url)
    ui.wait_for(lambda: ui.screen == "status" and ui.text_shown("评价本次服务"), what="the served ticket")
    shot(ui, "status-done")
    ui.tap("评价本次服务")
    ui.wait_for(lambda: ui.screen == "rating")
    shot(ui, "rating")
    ui.tap("非常不满意")
    ui.wait_for(lambda: ui.text_shown("办事效率低"), what="the 差评's reasons")
    ui.tap("办事效率低")
    ui.wait_for(lambda: ui.text_shown("● 办事效率低"), what="the reason ticked")
    shot(ui, "rating-bad")
    ui.tap("提交评价")
    ui.wait_for(lambda: ui.screen == "message" and ui.text_shown("感谢您的评价"), what="the thanks")
    shot(ui, "rating-thanks")
    supervisor = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    listed = httpx.get(f"{dispatcher.api}/halls/demo/evaluations", headers=supervisor, timeout=10)
    assert listed.status_code == 200, listed.text
    mine = [e for e in listed.json() if e["subject_id"] == ticket_id]
    assert len(mine) == 1 and mine[0]["score"] == 1 and mine[0]["channel"] == "kiosk"
    assert [r["code"] for r in mine[0]["reasons"]] == ["efficiency"] and mine[0]["window"] == "11"
    orders = httpx.get(f"{dispatcher.api}/halls/demo/rectifications", headers=supervisor, timeout=10).json()
    assert any(o["evaluation"]["subject_id"] == ticket_id and o["status"] == "open" for o in orders)


@pytest.mark.parametrize("orientation", ["landscape"])
def test_a_card_at_the_status_screen_rates_the_service_had_today(orientation: str, ui: Any, dispatcher: Any) -> None:
    card = present_card(ui, "young")
    ui.tap("卫生许可")
    screen = wait_ticket_done(ui)
    number, ticket_id = screen.number, screen.ticket_id
    remove_card(ui)
    ui.tap("完成")
    clerk = dispatcher.clerk_headers("11")
    for path, body in (("call", {"number": number}), ("finish", {})):
        answer = httpx.post(f"{dispatcher.api}/halls/demo/windows/11/{path}", json=body, headers=clerk)
        assert answer.status_code == 200, answer.text
    ui.tap("查询号码")
    ui.wait_for(lambda: ui.screen == "status")
    ui.card_sim.present(card)  # at 查询号码 the card finds the ticket; it does not start a new one
    ui.wait_for(lambda: ui.text_shown("评价本次服务") and ui.text_shown(number), what="the card's served ticket")
    shot(ui, "status-card")
    texts = " ".join(ui.texts())
    assert card.name not in texts and card.id_number not in texts and ui.presenter.citizen is None
    remove_card(ui)
    ui.tap("评价本次服务")
    ui.wait_for(lambda: ui.screen == "rating")
    ui.tap("满意")
    ui.tap("提交评价")
    ui.wait_for(lambda: ui.screen == "message" and ui.text_shown("感谢您的评价"), what="the thanks")
    again = httpx.post(f"{dispatcher.api}/halls/demo/tickets/{ticket_id}/evaluation", json={"score": 1},
                       headers=dispatcher.headers)  # fmt: skip
    assert again.status_code == 409, "the kiosk's rating was stored"


@pytest.mark.parametrize("orientation", ["portrait"])
def test_elderly_mode_larger_type_fewer_choices(orientation: str, ui: Any) -> None:
    ui.tap("长者模式")
    ui.wait_for(lambda: ui.presenter.elderly_mode and ui.screen == "home")
    shot(ui, "home-elderly")
    view = ui.presenter.current
    assert len(view.tiles) <= 6 and view.pages > 1 and ui.app.scale > 1
    assert ui.runtime.speaker.said[-1].startswith("请选择要办理的业务")
    ui.tap("下一页")
    ui.wait_for(lambda: ui.presenter.current.page == 1)
    tile = ui.presenter.current.tiles[0]
    ui.tap(tile.name)
    wait_ticket_done(ui)
    shot(ui, "ticket-elderly")
    ui.tap("完成")
    ui.wait_for(lambda: ui.screen == "home")
    ui.tap("退出长者模式")
    ui.wait_for(lambda: not ui.presenter.elderly_mode)


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (585, 1040), (1366, 768)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_fits_windows_big_and_small(size: tuple[int, int], ui: Any) -> None:
    """A kiosk's screen is not always 1080×1920 (and `hallq demo` shares a desktop): everything shrinks alike."""
    ui.set_size(size)
    ui.pump(0.3)
    path = ui.screenshot(f"home-{size[0]}x{size[1]}")
    assert labels_that_do_not_fit(ui.app.root) == [] and screen_checks.problems(ui.app, path) == []
    ui.tap("长者模式")
    ui.wait_for(lambda: ui.presenter.elderly_mode and ui.screen == "home")
    ui.pump(0.3)
    path = ui.screenshot(f"home-elderly-{size[0]}x{size[1]}")
    assert labels_that_do_not_fit(ui.app.root) == [], "elderly mode"
    assert screen_checks.problems(ui.app, path) == [], "elderly mode"
    ui.tap("退出长者模式")
    ui.wait_for(lambda: not ui.presenter.elderly_mode)
    ui.set_size(ORIENTATIONS[ui.orientation])
