"""The submission flow tapped through in the real kiosk app under Xvfb, against the REAL dispatcher and
the hardware/ simulators (printer, ID card reader, QR scanner, locker) and the demo document source
(generated pages through the watched scanner folder). Every screen is saved in both orientations to
artifacts/screens/kiosk-sub-*.png."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hallq.kivy_fit import labels_that_do_not_fit
from tests.kiosk import screen_checks

pytestmark = pytest.mark.ui

ORIENTATIONS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
SIZES = {**ORIENTATIONS, "demo": (585, 1040)}  # and the window `hallq demo` gives the kiosk on a 1080p desktop
ITEM_NAME = "不动产转移登记"


@pytest.fixture(scope="module")
def ui(dispatcher: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("kivy")
    from hallq.device import DeviceSettings
    from hardware.sim import get_simulator
    from kiosk.presenter import KioskOptions
    from kiosk.runtime import build_runtime
    from kiosk.speech import RecordingSpeaker
    from tests.kiosk.ui_driver import KioskDriver

    data = tmp_path_factory.mktemp("kiosk-sub-data")
    settings = DeviceSettings(
        kind="kiosk",
        server=dispatcher.url,
        mqtt=f"mqtt://127.0.0.1:{dispatcher.embedded_mqtt_port}",
        hall="demo",
        device="kiosk-sub",
        token="demo-device-token",
        demo=True,
        printer="sim:kiosk-sub",
        idcard="sim:kiosk-sub",
        scanner="sim:kiosk-sub",
        locker="sim:kiosk-sub",
        extra={"documents": f"sim:{data / 'scans'}", "data_dir": str(data)},
    )
    runtime = build_runtime(settings, {"speech": False})
    runtime.speaker = RecordingSpeaker()
    runtime.options = KioskOptions(device="kiosk-sub", retry_s=1.0, refresh_s=30.0, idle_timeout_s=600.0)
    driver: Any = KioskDriver(runtime)
    driver.runtime, driver.dispatcher, driver.orientation = runtime, dispatcher, "portrait"
    driver.printer_sim = get_simulator("printer", "kiosk-sub")
    driver.card_sim = get_simulator("idcard", "kiosk-sub")
    driver.wait_for(lambda: driver.presenter.hall is not None and driver.screen == "home", what="the hall")
    yield driver
    driver.stop()


def shot(ui: Any, name: str) -> None:
    """The screen as it is now, portrait, landscape and in the demo's window (the flow goes on in
    portrait), each checked (tests/kiosk/screen_checks.py). set_size lets the layout settle."""
    for orientation, size in SIZES.items():
        if orientation != "portrait":  # the flow's own size: it is shown already
            ui.set_size(size)
        path = ui.screenshot(f"sub-{name}-{orientation}")
        assert path.stat().st_size > 10_000
        assert labels_that_do_not_fit(ui.app.root) == [], f"sub-{name}-{orientation}: text that does not fit"
        assert screen_checks.problems(ui.app, path) == [], f"sub-{name}-{orientation}"
    ui.set_size(ORIENTATIONS["portrait"])


def tags_smaller_than_names(ui: Any) -> bool:
    import re

    buttons = [w for w in ui.app.root.ids.sm.get_screen("sub_handbook").ids.groups.children if "[size=" in w.text]
    sizes = [(float(re.search(r"\[size=(\d+)\]", b.text)[1]), b.font_size) for b in buttons]  # type: ignore[index]
    return bool(sizes) and all(tag < name for tag, name in sizes)


def flow(ui: Any) -> Any:
    return ui.app.submission


def on(ui: Any, screen: str) -> None:
    ui.wait_for(lambda: ui.screen == screen and not flow(ui).busy, what=screen)


def swipe_card(ui: Any) -> None:
    from hardware.idcard import sample_card

    ui.card_sim.present(sample_card("adult"))
    on(ui, "sub_phone")
    ui.card_sim.remove()
    ui.pump(0.6)


def scan(ui: Any, pages: int = 1) -> None:
    """Tap 扫描一页: the demo scanner drops a generated page in the watched folder; wait for its upload."""
    screen = ui.app.root.ids.sm.get_screen("sub_material")
    for _ in range(pages):
        before = screen.pages_text
        ui.tap("扫描一页")
        ui.wait_for(functools.partial(page_added, screen, before), what="the page")


def page_added(screen: Any, before: str) -> bool:
    return bool(screen.pages_text != before and "正在上传" not in screen.pages_text)


def sign(ui: Any) -> None:
    from kivy.tests.common import UnitTestTouch

    pad = ui.app.root.ids.sm.get_screen("sub_sign").ids.pad
    x0, y0 = pad.to_window(pad.x, pad.y)
    touch = UnitTestTouch(x0 + pad.width * 0.15, y0 + pad.height * 0.5)
    touch.touch_down()
    for i in range(1, 30):
        touch.touch_move(x0 + pad.width * (0.15 + i * 0.022), y0 + pad.height * (0.5 + (0.18 if i % 6 < 3 else -0.18)))
    touch.touch_up()
    ui.pump(0.1)
    assert len(pad.strokes) == 1 and len(pad.strokes[0]) >= 25


def to_first_material(ui: Any) -> None:
    ui.presenter.reset()
    on(ui, "home")
    ui.tap("办事指南")
    on(ui, "sub_handbook")
    ui.tap(ITEM_NAME)
    on(ui, "sub_item")
    ui.tap("24小时自助申报")
    on(ui, "sub_card")
    swipe_card(ui)
    for key in "13812345678":
        ui.tap(key)
    ui.tap("下一步")
    on(ui, "sub_material")


def submitted_case_qr(dispatcher: Any) -> str:
    """A received 不动产转移登记 case submitted over HTTP, for when this test runs without the one before it."""
    from tests.cases.conftest import submit_realestate_transfer

    with httpx.Client(base_url=dispatcher.url, timeout=15) as client:
        case_id, key = submit_realestate_transfer(client)
        done = client.post(f"/api/v1/halls/demo/submissions/{case_id}/complete?k={key}", headers=dispatcher.headers)
    assert done.status_code == 200, done.text
    return str(done.json()["status_url"])


def test_night_submission_deferred_and_signed_prints_the_receipt(ui: Any) -> None:
    ui.presenter.reset()
    on(ui, "home")
    shot(ui, "home")
    ui.tap("办事指南")
    on(ui, "sub_handbook")
    assert ui.text_shown("办事指南") and ui.text_shown(ITEM_NAME)
    shot(ui, "handbook")
    for size in SIZES.values():  # an item's name stays bigger than its 即办件 / 承诺件 tag at every size
        ui.set_size(size)
        assert tags_smaller_than_names(ui), size
    ui.set_size(ORIENTATIONS["portrait"])
    ui.tap(ITEM_NAME)
    on(ui, "sub_item")
    assert ui.text_shown("完税凭证") and ui.text_shown("可容缺") and ui.text_shown("登记费")
    shot(ui, "item")
    ui.tap("24小时自助申报")
    on(ui, "sub_card")
    shot(ui, "card")
    swipe_card(ui)
    assert ui.text_shown("*")  # the masked name only
    for key in "13812345678":
        ui.tap(key)
    shot(ui, "phone")
    ui.tap("下一步")
    on(ui, "sub_material")
    shot(ui, "material")
    scan(ui, 2)
    assert ui.text_shown("已扫描 2 页")
    shot(ui, "material-scanned")
    for _ in range(3):
        ui.tap("下一项")
        on(ui, "sub_material")
        scan(ui)
    ui.tap("下一项")
    on(ui, "sub_material")
    assert ui.text_shown("完税凭证")
    ui.tap("签署容缺承诺")
    on(ui, "sub_sign")
    sign(ui)
    shot(ui, "sign")
    ui.tap("确认签名")
    on(ui, "sub_locker")
    shot(ui, "locker")
    ui.tap("存入文件柜")
    ui.wait_for(
        lambda: ui.screen == "sub_locker" and ui.app.root.ids.sm.get_screen("sub_locker").state == "open",
        what="the open slot",
    )
    shot(ui, "locker-open")
    ui.tap("放入并关门")
    on(ui, "sub_confirm")
    assert ui.text_shown("容缺（已签署承诺）") and ui.text_shown("号柜")
    shot(ui, "confirm")
    jobs = len(ui.printer_sim.jobs)
    ui.tap("确认提交")
    ui.wait_for(
        lambda: ui.screen == "sub_receipt" and not ui.app.root.ids.sm.get_screen("sub_receipt").printing,
        what="the printed receipt",
    )
    receipt = ui.app.root.ids.sm.get_screen("sub_receipt")
    assert receipt.printed and receipt.receipt_no.startswith("SJ")
    printed = b"".join(ui.printer_sim.jobs[jobs:])
    assert receipt.receipt_no.encode("gb18030") in printed and "完税凭证".encode("gb18030") in printed
    qr_dir = Path(ui.runtime.data_dir) / "printed"
    qr_dir.mkdir(exist_ok=True)
    assert screen_checks.printed_qr_codes(printed, qr_dir) == [flow(ui).receipt.qr]  # the paper's QR reads
    shot(ui, "receipt")
    ui.receipt_qr = flow(ui).receipt.qr
    ui.tap("完成")
    on(ui, "home")


def test_correction_answered_at_the_kiosk(ui: Any) -> None:
    from kiosk.submission.presenter import parse_case_url

    qr = getattr(ui, "receipt_qr", None) or submitted_case_qr(ui.dispatcher)
    case_id = parse_case_url(qr)[0]  # type: ignore[index]
    clerk = {"Authorization": f"Bearer {ui.dispatcher.login('clerk1', window='1')}"}
    reply = httpx.post(
        f"{ui.dispatcher.api}/halls/demo/cases/{case_id}/actions/correct",
        headers=clerk,
        json={"materials": [0], "note": "申请书缺少签字"},
    )
    assert reply.status_code == 200, reply.text
    ui.runtime.demo_scan(qr)  # the receipt's QR at the kiosk's scanner, from the home screen
    on(ui, "sub_message")
    assert ui.text_shown("补齐补正告知") and ui.text_shown("不动产登记申请书") and ui.text_shown("缺少签字")
    shot(ui, "correction-notice")
    ui.tap("开始补正")
    on(ui, "sub_material")
    assert ui.text_shown("补正材料 第 1 / 1 项") and ui.text_shown("补正说明"), ui.texts()[:12]
    scan(ui)
    shot(ui, "correction-material")
    ui.tap("下一项")
    on(ui, "sub_confirm")
    ui.tap("确认提交")
    ui.wait_for(
        lambda: ui.screen == "sub_receipt" and not ui.app.root.ids.sm.get_screen("sub_receipt").printing,
        what="the correction receipt",
    )
    assert ui.text_shown("补正材料已提交")
    status = httpx.get(f"{ui.dispatcher.api}/halls/demo/cases/{case_id}", headers=clerk).json()["status"]
    assert status == "received"
    ui.tap("完成")
    on(ui, "home")
    ui.runtime.demo_scan(qr)  # again: nothing to correct now, said in a sentence
    on(ui, "sub_message")
    assert ui.text_shown("不需要补正材料")
    shot(ui, "case-status")
    ui.tap("返回首页")
    on(ui, "home")


def test_unfinished_submission_is_resumed_after_a_restart(ui: Any) -> None:
    from kiosk.app import post
    from kiosk.submission.setup import STATE_FILE, build_submission

    to_first_material(ui)
    scan(ui)
    flow(ui)._last -= 10_000  # nobody touched the screen for a long time
    ui.wait_for(lambda: ui.screen == "sub_message", what="您还在吗")
    assert ui.text_shown("您还在吗")
    shot(ui, "still-there")
    ui.tap("继续办理")
    on(ui, "sub_material")
    state = Path(ui.runtime.data_dir) / STATE_FILE
    assert state.exists()
    # the kiosk restarts here: a new submission side, built from the runtime, reads the state file
    flow(ui).stop()
    fresh = build_submission(ui.presenter, ui.runtime, ui.app.tasks, post)
    ui.app.submission = ui.presenter.delegate = fresh
    ui.presenter.reset()
    fresh.start()
    on(ui, "sub_message")
    assert ui.text_shown("未完成的申报") and ui.text_shown("1 / 5")
    shot(ui, "resume")
    ui.tap("继续办理")
    on(ui, "sub_material")
    assert ui.text_shown("第 2 / 5 项")
    ui.tap("放弃办理")
    on(ui, "sub_message")
    ui.tap("放弃并返回首页")
    on(ui, "home")
    assert not state.exists()
