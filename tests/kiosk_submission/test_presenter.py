"""The submission flow's presenter without a window, against the REAL dispatcher (`hallq server --demo`)
and the hardware/ printer and locker simulators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from kiosk.submission.presenter import SubmissionPresenter, parse_case_url, polite
from kiosk.submission.views import (
    CardView,
    ConfirmView,
    HandbookView,
    ItemView,
    LockerView,
    MaterialView,
    PhoneView,
    ReceiptView,
    SignView,
    SubMessageView,
)
from kiosk.views import BusyView
from tests.kiosk_submission.conftest import CLERK_WINDOW, Harness, citizen

SIGNATURE = [[(10.0 + i * 6, 40.0 + (i % 5) * 8) for i in range(40)]]
ITEM = "realestate-transfer"  # 5 materials, the last (完税凭证) may be deferred (容缺)


def to_materials(h: Harness, item: str = ITEM, phone: str = "13812345678") -> None:
    """Handbook → item → card → phone: the draft exists and the first material is on screen."""
    p = h.presenter
    p.open_handbook()
    assert isinstance(h.view, HandbookView)
    assert any(e.code == item for g in h.view.groups for e in g.items)
    p.choose_item(item)
    assert isinstance(h.view, ItemView) and h.view.code == item
    p.begin()
    assert isinstance(h.view, CardView)
    p.card_read(citizen())
    assert isinstance(h.view, PhoneView) and h.view.masked_name == "欧**明"
    for key in phone:
        p.phone_key(key)
    p.phone_done()
    assert isinstance(h.view, MaterialView), h.view


def test_night_submission_with_a_deferred_material_prints_the_receipt(harness: Harness) -> None:
    h, p = harness, harness.presenter
    p.open_handbook()
    p.choose_item(ITEM)
    item: ItemView = h.view
    assert item.kind_label == "承诺件" and "5" in item.promise and item.fee.startswith("登记费")
    assert [m.name for m in item.materials if m.deferrable] == ["完税凭证"] and item.legal_basis
    p.begin()
    p.card_read(citizen())
    for key in "1381234":
        p.phone_key(key)
    p.phone_done()
    assert isinstance(h.view, PhoneView) and "11位手机号码" in h.view.error  # refused before any request
    for key in "5678":
        p.phone_key(key)
    p.phone_done()
    draft = h.drafts.load()
    assert draft is not None and isinstance(h.view, MaterialView) and h.view.count == 5
    assert p.citizen is None  # the card data is forgotten once the draft exists
    p.next_material()
    assert "请先扫描" in h.view.error
    p.scan_page()
    assert h.view.preview.startswith(b"\xff\xd8") and not h.view.preview_pdf  # the page, to check it
    p.scan_page()
    assert h.view.pages == 2 and h.view.status == "provided" and h.view.preview_pdf and not h.view.preview
    for _ in range(3):
        p.next_material()
        p.scan_page()
    p.next_material()
    assert isinstance(h.view, MaterialView) and h.view.name == "完税凭证" and h.view.deferrable
    p.defer_material()
    assert isinstance(h.view, SignView) and "完税凭证" in h.view.promise and "个工作日内补交" in h.view.promise
    p.sign_done([[(5.0, 5.0), (8.0, 6.0)]], (600, 300))
    assert "签上您的姓名" in h.view.error  # a dot is not a signature
    p.sign_done(SIGNATURE, (600, 300))
    assert isinstance(h.view, LockerView) and h.view.state == "offer"
    p.use_locker()
    assert isinstance(h.view, LockerView) and h.view.state == "open"
    slot = int(h.view.slot)
    h.tasks.fire()  # the door is still open: polled again
    assert isinstance(h.view, LockerView) and h.view.state == "open"
    p.demo_close_locker()
    h.tasks.fire()
    assert isinstance(h.view, ConfirmView) and h.view.locker == str(slot)
    assert [line.state for line in h.view.lines] == ["已扫描 2 页"] + ["已扫描 1 页"] * 3 + ["容缺（已签署承诺）"]
    jobs = len(h.printer_sim.jobs)
    p.confirm()
    receipt = h.view
    assert isinstance(receipt, ReceiptView) and receipt.receipt_no.startswith("SJ") and receipt.printed
    assert receipt.deferred == ("完税凭证",) and any("补交期限" in d for d in receipt.deadlines)
    assert parse_case_url(receipt.qr) == (draft.case_id, draft.access)
    printed = h.printer_sim.jobs[jobs:]
    assert len(printed) == 1 and receipt.receipt_no.encode("gb18030") in printed[0]
    assert "完税凭证".encode("gb18030") in printed[0]
    assert h.drafts.load() is None  # received: nothing left to resume
    case = h.server_case(draft.case_id)
    assert case["status"] == "received" and case["locker_slot"] == str(slot) and case["phone"] == "13812345678"
    assert [m["status"] for m in case["materials"]] == ["provided"] * 4 + ["deferred"]
    assert case["materials"][4]["signed"] and len(case["materials"][0]["files"]) == 2
    assert all("欧阳小明" not in repr(v) for v in h.host.shown)
    p.done()
    assert not p.owns(h.view)


def test_a_correction_is_answered_at_the_kiosk(harness: Harness) -> None:
    h, p = harness, harness.presenter
    to_materials(h)
    for _ in range(4):
        p.scan_page()
        p.next_material()
    p.defer_material()
    p.sign_done(SIGNATURE, (600, 300))
    p.skip_locker()
    p.confirm()
    receipt = h.view
    case_id = parse_case_url(receipt.qr)[0]  # type: ignore[index]
    p.done()
    clerk = {"Authorization": f"Bearer {h.dispatcher.login('clerk1', window=CLERK_WINDOW)}"}
    corrected = httpx.post(
        f"{h.dispatcher.api}/halls/demo/cases/{case_id}/actions/correct",
        headers=clerk,
        json={"materials": [2], "note": "证书页不清晰"},
    )
    assert corrected.status_code == 200, corrected.text

    assert p.scanned(receipt.qr)
    notice = h.view
    assert isinstance(notice, SubMessageView) and notice.title == "补齐补正告知"
    assert "不动产权证书" in notice.text and "证书页不清晰" in notice.text
    p.action("correct")
    assert isinstance(h.view, MaterialView) and h.view.correction and h.view.count == 1
    assert h.view.name == "不动产权证书" and not h.view.deferrable
    p.scan_page()
    p.next_material()
    assert isinstance(h.view, ConfirmView) and h.view.correction
    h.printer_sim.set_paper("out")  # the receipt cannot be printed: shown for a photo, the case is kept
    p.confirm()
    assert isinstance(h.view, ReceiptView) and h.view.title == "补正材料已提交"
    assert not h.view.printed and "打印机缺纸" in h.view.print_message and "拍下" in h.view.print_message
    h.printer_sim.set_paper("ok")
    assert h.view.receipt_no == receipt.receipt_no and h.drafts.load() is None
    assert h.server_case(case_id)["status"] == "received"
    assert p.scanned(receipt.qr)  # answered: nothing more to correct, said politely
    assert isinstance(h.view, SubMessageView) and "不需要补正" in h.view.text
    assert not p.scanned("http://127.0.0.1:8000/t/demo/abc?k=1")  # a ticket QR is the main presenter's


def test_a_restarted_kiosk_offers_to_resume_then_abandons_on_request(
    harness: Harness, dispatcher: Any, tmp_path: Path
) -> None:
    to_materials(harness)
    harness.presenter.scan_page()
    case_id = harness.drafts.load().case_id  # type: ignore[union-attr]
    # the kiosk stops here; a new process with the same state file starts
    again = Harness(dispatcher, harness.drafts.path, name="sub-restart")
    again.presenter.start()
    offer = again.view
    assert isinstance(offer, SubMessageView) and "未完成的申报" in offer.title and "1 / 5" in offer.text
    again.presenter.action("resume")
    assert isinstance(again.view, MaterialView) and again.view.index == 1  # the first material not yet given
    again.presenter.previous_material()
    assert again.view.pages == 1  # the page scanned before the restart is there
    again.presenter.action("home")
    assert isinstance(again.view, SubMessageView) and "放弃" in again.view.text
    again.presenter.action("continue")
    assert isinstance(again.view, MaterialView)
    again.presenter.action("home")
    again.presenter.action("abandon")
    assert again.drafts.load() is None and not again.presenter.owns(again.view)
    gone = httpx.get(
        f"{dispatcher.api}/halls/demo/submissions/{case_id}",
        params={"k": harness.presenter.draft.access},  # type: ignore[union-attr]
        headers=dispatcher.headers,
    )
    assert gone.json()["status"] == "abandoned"


def test_idle_asks_still_there_before_abandoning(harness: Harness) -> None:
    h, p = harness, harness.presenter
    to_materials(h)
    draft = h.drafts.load()
    assert draft is not None
    h.clock += 61
    p.tick()
    assert isinstance(h.view, SubMessageView) and h.view.title == "您还在吗？"
    p.action("continue")
    assert isinstance(h.view, MaterialView) and h.view.index == 0
    h.clock += 61
    p.tick()
    h.clock += 31
    p.tick()
    assert not p.owns(h.view) and h.drafts.load() is None
    status = httpx.get(
        f"{h.dispatcher.api}/halls/demo/submissions/{draft.case_id}",
        params={"k": draft.access},
        headers=h.dispatcher.headers,
    ).json()["status"]
    assert status == "abandoned"


def test_refusals_and_outages_are_polite_sentences(harness: Harness, dispatcher: Any, tmp_path: Path) -> None:
    h, p = harness, harness.presenter
    to_materials(h)
    p.confirm()  # nothing scanned yet: the dispatcher refuses and names what is missing
    assert isinstance(h.view, SubMessageView) and h.view.title == "暂时不能提交"
    assert h.view.text.startswith("还缺少材料：不动产登记申请书") and " — " not in h.view.text
    p.action("edit")
    from kiosk.submission.documents import Page

    p.page_arrived(Page(b"MZ\x90\x00 not a scan", "application/pdf"))
    assert isinstance(h.view, MaterialView) and "只接受 JPG、PNG 图片或 PDF 文件" in h.view.error
    assert polite("办件状态为「已收件」，不能再提交材料 — x") == "办件状态为「已收件」，不能再提交材料。"

    from tests.support.ports import free_port

    offline = Harness(
        dispatcher, tmp_path / "offline.json", server=f"http://127.0.0.1:{free_port()}", name="sub-offline"
    )
    offline.presenter.open_handbook()
    assert isinstance(offline.view, SubMessageView) and offline.view.title == "网络连接中断"
    assert len(offline.tasks.timers) == 1  # retried by itself
    offline.tasks.fire()
    assert "已重试2次" in offline.view.text
    offline.presenter.action("cancel_retry")
    assert offline.tasks.timers == [] and not isinstance(offline.view, BusyView)
    assert isinstance(p, SubmissionPresenter)
