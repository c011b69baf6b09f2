"""The office page behind the window, driven by clicks in headless Chromium against a real dispatcher
whose window 4 prints to a file: a window clerk receives a 公共场所卫生许可 (materials checked off, the
收件通知书 printed), hands its paper to 卫健 on a 《材料交接表》; 卫健's staff sign for it, accept,
approve and hand the result over; the output window refuses it once, then hands it out. Screenshots
go to artifacts/screens/web-back-office-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hallq.config import example_config_path
from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.conftest import CHROMIUM

playwright_api = pytest.importorskip("playwright.sync_api")

SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")


@pytest.fixture(scope="module")
def printer_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("printer") / "window4.bin"


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory, printer_file: Path) -> Iterator[Dispatcher]:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    next(w for w in data["windows"] if w["id"] == "4")["printer"] = f"file://{printer_file}"
    workdir = tmp_path_factory.mktemp("web-back-office")
    config = workdir / "hall.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    server = start_dispatcher(workdir, extra_args=["--config", str(config)])
    yield server
    server.terminate()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"web-back-office-{name}.png"), full_page=True)


def log_in(page: Any, d: Dispatcher, username: str) -> None:
    page.goto(f"{d.url}/office")
    page.evaluate("sessionStorage.clear()")
    page.goto(f"{d.url}/office")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("#login-button")
    page.wait_for_selector("#desk:not([hidden])")


def tab(page: Any, key: str) -> None:
    page.click(f"#tabs button[data-tab='{key}']")


def open_case(page: Any, status: str, receipt: str) -> None:
    tab(page, status)
    try:
        page.click(f"#list tr.case:has-text('{receipt}')", timeout=5000)
    except Exception:
        shot(page, "failure")  # what the page showed instead
        raise
    page.wait_for_selector(f"#detail h3:has-text('{receipt}')")


def step(page: Any, action: str, note: str = "") -> None:
    if note:
        page.fill("#note", note)
    page.click(f"#detail button[data-action='{action}']")
    page.wait_for_selector("#action-msg:not(:empty)")


def test_window_department_and_output_window_each_take_their_steps(
    dispatcher: Dispatcher, page: Any, printer_file: Path
) -> None:
    # the comprehensive window receives: every material checked off, the 收件通知书 printed at window 4
    log_in(page, dispatcher, "clerk4")
    page.wait_for_selector("#appointments-tab button")  # the front desk's bookings
    tab(page, "intake")
    page.select_option("#intake-window", "4")
    page.select_option("#intake-item", "hygiene-permit")
    page.fill("#intake-id", "321183195003120011")
    page.fill("#intake-name", "张三")
    page.fill("#intake-birth", "19500312")
    page.fill("#intake-phone", "13812345678")
    page.click("#intake-submit")
    assert "「卫生许可申请表」未收" in page.wait_for_selector("#intake-msg.error").inner_text()  # nothing ticked
    materials = page.locator("#intake-materials .material")
    materials.nth(0).locator(".m-received").check()
    materials.nth(0).locator(".m-seen").check()
    materials.nth(1).locator(".m-received").check()
    materials.nth(2).locator(".m-deferred").check()
    shot(page, "intake-form")
    page.click("#intake-submit")
    message = page.wait_for_selector("#intake-msg.ok").inner_text()
    receipt = message.split("：", 1)[1].split("。", 1)[0]
    assert receipt.startswith("SJ") and "已在4号窗口打印" in message
    slip = page.inner_text("#intake-slip")
    assert f"收件编号：{receipt}" in slip and "申请人：张*" in slip and "张三" not in slip
    assert "卫生检测报告" in slip and printer_file.read_bytes().startswith(b"\x1b\x40\x1c\x26")
    shot(page, "intake-printed")

    # the window cannot accept for 卫健; it hands the paper over on a 《材料交接表》
    open_case(page, "received", receipt)
    assert page.locator("#detail button[data-action='accept']").count() == 0
    assert "业务部门" in page.inner_text("#detail") and "待交接" in page.inner_text("#detail")
    tab(page, "handover")
    page.select_option("#handover-department", "卫健")
    page.select_option("#handover-window", "4")
    page.click("#handover-create")
    sheet = page.wait_for_selector("#handover-msg.ok").inner_text()
    assert "材料交接表" in sheet and "共 1 件" in sheet
    assert "材料交接表" in printer_file.read_bytes().decode("gb18030", errors="replace")
    assert page.locator(".sheet button.sign").count() == 0  # the window does not sign for its own paper
    shot(page, "handover-window")

    # 卫健 signs for the paper, accepts, approves and hands the result over
    log_in(page, dispatcher, "wj1")
    assert page.locator("#tabs button[data-tab='intake']").count() == 0
    assert page.locator("#appointments-tab").count() == 0, "a department sees no bookings"
    tab(page, "handover")
    page.click(".sheet button.sign")
    assert "已签收" in page.wait_for_selector("#handover-msg:not(:empty)").inner_text()
    page.wait_for_selector(".sheet h4:has-text('由 wj1 签收')")
    assert page.locator(".sheet button.sign").count() == 0
    shot(page, "department-signed")
    open_case(page, "received", receipt)
    assert "部门已签收" in page.inner_text("#detail")
    step(page, "accept")
    open_case(page, "accepted", receipt)
    step(page, "approve", "符合卫生许可条件")
    tab(page, "handover")
    page.check(f"label:has-text('{receipt}') .result-case")
    page.click("#results-create")
    page.wait_for_selector(".sheet h4:has-text('办理结果交接表')")
    shot(page, "department-results")

    # another department sees none of it
    log_in(page, dispatcher, "scjg1")
    tab(page, "received")
    page.wait_for_selector("#list-msg:has-text('没有办件')")

    # the output window finds the result wrong and refuses it; 卫健 corrects it; the output window hands it out
    log_in(page, dispatcher, "clerk12")
    open_case(page, "result_sent", receipt)
    step(page, "refuse_result", "许可证单位名称与营业执照不符")
    assert "结果被退回" in page.inner_text("#detail")
    shot(page, "output-refused")
    department = _login_api(dispatcher, "wj1")
    refused = httpx.get(f"{dispatcher.api}/halls/demo/cases?status=result_refused", headers=department).json()
    case_id = next(c["id"] for c in refused["cases"] if c["receipt_no"] == receipt)
    resent = httpx.post(f"{dispatcher.api}/halls/demo/cases/{case_id}/actions/send_result", headers=department, json={})
    assert resent.status_code == 200, resent.text
    open_case(page, "result_sent", receipt)
    step(page, "ready")
    open_case(page, "ready", receipt)
    step(page, "deliver")
    open_case(page, "delivered", receipt)
    step(page, "return_receipt")
    history = page.inner_text("#detail ol.timeline")
    for line in ("收件 — user:clerk4", "材料交接签收 — user:wj1", "受理 — user:wj1", "退回结果 — user:clerk12"):
        assert line in history
    shot(page, "output-receipt-returned")


def _login_api(d: Dispatcher, username: str) -> dict[str, str]:
    reply = httpx.post(f"{d.api}/auth/login", json={"username": username, "password": "demo"})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def test_a_bundle_received_at_the_window_handed_out_as_one_and_followed_on_the_phone(
    dispatcher: Dispatcher, page: Any, phone_page: Any, printer_file: Path
) -> None:
    log_in(page, dispatcher, "clerk4")
    tab(page, "intake")
    page.select_option("#intake-window", "4")
    page.select_option("#intake-item", "bundle:restaurant-open")
    page.fill("#intake-id", "321183195003120011")
    page.fill("#intake-name", "张三")
    page.fill("#intake-birth", "19500312")
    page.fill(".bundle-field[name='company_name']", "句容市华阳美食有限公司")
    page.fill(".bundle-field[name='premises']", "华阳镇人民路8号")
    for part in page.locator("#intake-materials .part").all():
        for line in part.locator(".material").all():
            deferred = line.locator(".m-deferred")
            if deferred.count():
                deferred.check()
                continue
            line.locator(".m-received").check()
            if line.locator(".m-seen").count():
                line.locator(".m-seen").check()
    assert "在企业设立登记办结后办理" in page.inner_text("#intake-materials")
    shot(page, "bundle-intake")
    page.click("#intake-submit")
    message = page.wait_for_selector("#intake-msg.ok").inner_text()
    receipt = message.split("：", 1)[1].split("。", 1)[0]
    assert receipt.startswith("YJ") and "办理事项：开办餐饮店（一件事" in page.inner_text("#intake-slip")
    # what the citizen will scan: the QR printed on the 收件通知书 at window 4
    printed_qr = re.search(rb"https?://[\x21-\x7e]+/y/demo/[0-9a-f]+\?k=[A-Za-z0-9_-]+", printer_file.read_bytes())
    assert printed_qr is not None
    qr = printed_qr.group().decode()

    # the departments take their steps (over the API here: the desk's clicks are the test above)
    supervisor = _login_api(dispatcher, "supervisor")
    api = f"{dispatcher.api}/halls/demo"
    bundle = _bundle_by_receipt(dispatcher, supervisor, receipt)
    for department in ("市场监管", "卫健", "税务"):
        body = {"kind": "materials", "department": department, "window": "4"}
        sheet = httpx.post(f"{api}/handovers", headers=supervisor, json=body).json()
        assert httpx.post(f"{api}/handovers/{sheet['id']}/sign", headers=supervisor).status_code == 200
    for item in ("company-reg", "hygiene-permit", "invoice-collect"):
        case_id = next(p["case_id"] for p in bundle["parts"] if p["item"] == item)
        for action in ("accept", "approve", "send_result"):
            done = httpx.post(f"{api}/cases/{case_id}/actions/{action}", headers=supervisor, json={})
            assert done.status_code == 200, done.text

    log_in(page, dispatcher, "clerk12")
    tab(page, "result_sent")
    page.click("#list tr.case >> nth=0")
    button = page.wait_for_selector("#bundle button[data-bundle-action='ready']")
    assert page.locator("#detail button[data-action='ready']").count() == 0  # not one part alone
    shot(page, "bundle-output")
    button.click()
    page.wait_for_selector("#bundle button[data-bundle-action='deliver']")
    assert page.locator("#bundle .row:has-text('可领取')").count() == 3

    phone_page.goto(dispatcher.url + qr[qr.index("/y/") :])
    phone_page.wait_for_selector("#parts .part >> nth=2")
    text = phone_page.inner_text("main")
    assert (
        "已办结，请到综合出件窗口领取" in text and "发票领用（税务）" in text and "在「企业设立登记」办结后办理" in text
    )
    assert "张三" not in text and "华阳美食" not in text
    shot(phone_page, "bundle-phone")


def _bundle_by_receipt(d: Dispatcher, headers: dict[str, str], receipt: str) -> dict[str, Any]:
    cases = httpx.get(f"{d.api}/halls/demo/cases?status=received", headers=headers).json()["cases"]
    bundle_id = next(c["bundle_id"] for c in cases if c["bundle_id"])
    bundle = httpx.get(f"{d.api}/halls/demo/bundles/{bundle_id}", headers=headers).json()
    assert bundle["receipt_no"] == receipt
    return dict(bundle)


def test_a_pre_review_sent_from_the_phone_and_received_at_the_window_by_its_qr(
    dispatcher: Dispatcher, page: Any, phone_page: Any, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    phone_page.goto(f"{dispatcher.url}/p/demo")
    phone_page.wait_for_selector("#item option[value='hygiene-permit']", state="attached")
    phone_page.select_option("#item", "hygiene-permit")
    phone_page.fill("#id-number", "321183195003120011")
    phone_page.fill("#name", "张三")
    phone_page.fill("#phone", "13812345678")
    phone_page.click("#begin")
    for _ in range(3):  # each upload redraws the list: the next material's input is the first left
        phone_page.locator("#materials input.upload").first.set_input_files(str(scan))
        phone_page.wait_for_function(
            "n => document.querySelectorAll('#materials input.upload').length === n", arg=2 - _
        )
    phone_page.click("#send")
    phone_page.wait_for_selector("#case-msg.ok")
    assert phone_page.inner_text("#case-status") == "网上预审中"
    phone_page.wait_for_function("document.getElementById('qr').naturalWidth > 0")  # the QR to show at the window
    shot(phone_page, "prereview-phone")
    qr = phone_page.get_attribute("#progress", "href") or ""

    log_in(page, dispatcher, "wj1")
    tab(page, "prereview")
    page.click("#list tr.case >> nth=0")
    page.wait_for_selector("#detail button[data-action='pass_prereview']")
    assert "预审期限" in page.inner_text("#detail")
    step(page, "pass_prereview")
    assert "预审通过" in page.inner_text("#detail")

    log_in(page, dispatcher, "clerk4")
    tab(page, "intake")
    page.select_option("#intake-window", "4")
    page.fill("#scan", dispatcher.url + qr)
    page.click("#scan-open")
    materials = page.locator("#scan-case .material")
    materials.nth(0).locator(".m-received").check()
    materials.nth(0).locator(".m-seen").check()
    materials.nth(1).locator(".m-received").check()
    materials.nth(2).locator(".m-received").check()
    materials.nth(2).locator(".m-seen").check()
    shot(page, "prereview-window")
    page.click("#scan-receive")
    message = page.wait_for_selector("#intake-msg.ok").inner_text()
    assert message.startswith("已收件：SJ") and "已在4号窗口打印" in message


def test_the_stats_page_shows_each_department_behind_the_window(dispatcher: Dispatcher, page: Any) -> None:
    """After the tests above (this module's hall): 卫健 signed for paper and passed a pre-review today."""
    page.goto(f"{dispatcher.url}/office/stats")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#username", "supervisor")
    page.fill("#password", "demo")
    page.click("#login-button")
    page.wait_for_selector("body[data-loaded]")
    row = page.wait_for_selector("#departments-card:not([hidden]) #table-departments tr[data-key='卫健']")
    cells = [c.inner_text() for c in row.query_selector_all("td")]
    headers = [h.inner_text() for h in page.query_selector_all("#table-departments th")]
    numbers = dict(zip(headers, cells, strict=True))
    assert int(numbers["材料交接"]) >= 2 and int(numbers["预审通过"]) == 1 and numbers["预审一次通过率"] == "100.0%"
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.locator("#departments-card").screenshot(path=str(SCREENS / "web-back-office-stats-departments.png"))
