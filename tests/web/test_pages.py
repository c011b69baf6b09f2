"""The office page, the citizen's case page and the ticket page, driven by clicks in headless Chromium
against a real dispatcher. Screenshots go to artifacts/screens/web-*.png."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.cases.conftest import PDF, png_bytes
from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.conftest import CHROMIUM

playwright_api = pytest.importorskip("playwright.sync_api")

SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
CARD = {"id_number": "321183195003120011", "name": "张三", "birth": "19500312"}
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("web"))
    yield server
    server.terminate()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def received_case(d: Dispatcher) -> tuple[str, str, str]:
    api = f"{d.api}/halls/demo"
    start = httpx.post(
        f"{api}/submissions", headers=d.headers, json={"item": "hukou-move-in", "id_card": CARD, "phone": "13912345678"}
    )
    assert start.status_code == 201, start.text
    case_id, key = start.json()["id"], start.json()["access"]
    for idx in (0, 1):
        assert (
            httpx.put(
                f"{api}/submissions/{case_id}/materials/{idx}?k={key}", headers=d.headers, content=PDF
            ).status_code
            == 200
        )
    assert (
        httpx.post(
            f"{api}/submissions/{case_id}/materials/2/defer?k={key}", headers=d.headers, content=png_bytes("black")
        ).status_code
        == 200
    )
    done = httpx.post(f"{api}/submissions/{case_id}/complete?k={key}", headers=d.headers)
    assert done.status_code == 200, done.text
    return case_id, key, done.json()["receipt_no"]


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"web-{name}.png"), full_page=True)


def test_office_asks_for_a_correction_and_the_citizen_sees_it(dispatcher: Dispatcher, page: Any) -> None:
    case_id, key, receipt = received_case(dispatcher)
    page.goto(f"{dispatcher.url}/office")
    page.fill("#username", "clerk1")
    page.fill("#password", "wrong")
    page.click("#login-button")
    page.wait_for_selector("#login-msg:not(:empty)")
    assert "密码" in page.inner_text("#login-msg") or "用户" in page.inner_text("#login-msg")
    page.fill("#password", "demo")
    page.click("#login-button")
    page.wait_for_selector(f"tr.case[data-id='{case_id}']")
    shot(page, "office-inbox")
    page.click(f"tr.case[data-id='{case_id}']")
    page.wait_for_selector("button[data-action='correct']")
    assert "321183195003120011" not in page.content() and "张三" not in page.content()
    assert "3211**********0011" in page.inner_text("#detail")
    page.click("button[data-action='correct']")  # no material ticked: refused with a sentence
    page.wait_for_selector("#action-msg:not(:empty)")
    assert "勾选" in page.inner_text("#action-msg")
    page.check(".material-check[value='2']")
    page.fill("#note", "住所证明须加盖社区公章")
    page.click("button[data-action='correct']")
    page.wait_for_selector("text=需补正材料")
    shot(page, "office-correction")

    page.goto(f"{dispatcher.url}/c/demo/{case_id}?k={key}")
    page.wait_for_selector("#correction:not([hidden])")
    assert page.inner_text("#receipt") == receipt
    assert "合法稳定住所证明" in page.inner_text("#correction-list")
    assert "张*" in page.inner_text("#applicant") and "张三" not in page.content()
    shot(page, "citizen-case-correction")
    page.goto(f"{dispatcher.url}/c/demo/{case_id}?k=not-the-key")
    page.wait_for_selector("text=无法查询")


def test_office_takes_a_case_to_posting(dispatcher: Dispatcher, page: Any) -> None:
    case_id, key, _ = received_case(dispatcher)
    page.goto(f"{dispatcher.url}/office")
    page.fill("#username", "supervisor")
    page.fill("#password", "demo")
    page.click("#login-button")
    page.click(f"tr.case[data-id='{case_id}']")
    for action, offered_next in (("accept", "approve"), ("approve", "post")):
        page.click(f"button[data-action='{action}']")
        page.wait_for_selector(f"button[data-action='{offered_next}']")  # the case re-rendered in its new state
    page.fill("#tracking", "EMS1234567890")
    page.click("button[data-action='post']")
    page.wait_for_selector("text=EMS1234567890")
    shot(page, "office-posted")
    page.goto(f"{dispatcher.url}/c/demo/{case_id}?k={key}")
    page.wait_for_selector("text=已邮寄，邮件单号 EMS1234567890")
    shot(page, "citizen-case-posted")


def test_ticket_page_shows_the_place_then_takes_a_rating(dispatcher: Dispatcher, page: Any) -> None:
    issued = httpx.post(
        f"{dispatcher.api}/halls/demo/tickets", headers=dispatcher.headers, json={"service": "G", "channel": "kiosk"}
    )
    assert issued.status_code == 201, issued.text
    ticket = issued.json()
    parts = urlsplit(ticket["status_url"])
    page.goto(f"{dispatcher.url}{parts.path}?{parts.query}")
    page.wait_for_selector(f"text={ticket['number']}")
    assert "前面还有" in page.inner_text("#detail")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "ticket-waiting")
    clerk = dispatcher.clerk_headers("11")
    called = httpx.post(f"{dispatcher.api}/halls/demo/windows/11/call-next", headers=clerk)
    assert called.status_code == 200 and called.json()["ticket"]["number"] == ticket["number"], called.text
    assert httpx.post(f"{dispatcher.api}/halls/demo/windows/11/finish", headers=clerk).status_code == 200
    page.reload()
    page.wait_for_selector("#rating:not([hidden])")
    page.click("#stars button[data-score='4']")
    page.fill("#comment", "办事很快")
    page.click("#send-rating")
    page.wait_for_selector("text=感谢您的评价")
    shot(page, "ticket-rated")


def submitted(d: Dispatcher, item: str, materials: int) -> tuple[str, str]:
    """A case of `item` submitted over the API, a PDF for each of its `materials`."""
    api = f"{d.api}/halls/demo"
    body = {"item": item, "id_card": CARD, "phone": "13912345678"}
    start = httpx.post(f"{api}/submissions", headers=d.headers, json=body)
    assert start.status_code == 201, start.text
    case_id, key = start.json()["id"], start.json()["access"]
    for idx in range(materials):
        reply = httpx.put(f"{api}/submissions/{case_id}/materials/{idx}?k={key}", headers=d.headers, content=PDF)
        assert reply.status_code == 200, reply.text
    done = httpx.post(f"{api}/submissions/{case_id}/complete?k={key}", headers=d.headers)
    assert done.status_code == 200, done.text
    return case_id, key


def test_case_page_on_a_phone_keeps_labels_on_one_line_and_no_empty_value(dispatcher: Dispatcher, page: Any) -> None:
    case_id, key, _ = received_case(dispatcher)  # its third material deferred (容缺)
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{dispatcher.url}/c/demo/{case_id}?k={key}")
    page.wait_for_selector("#collect:not(:empty)")
    shot(page, "citizen-case-phone")
    for row in page.query_selector_all(".row:not([hidden])"):
        label, value = row.query_selector_all("span")
        label_box, value_box = label.bounding_box(), value.bounding_box()
        # the line boxes of the label's own text (its box stretches to the row's height)
        lines = label.evaluate(
            "e => { const r = document.createRange(); r.selectNodeContents(e);"
            " return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }"
        )
        assert lines == 1, f"{label.inner_text()} breaks over {lines} lines"
        assert label_box["x"] + label_box["width"] <= value_box["x"] + 1, f"{label.inner_text()} runs into its value"
        assert value.inner_text().strip(), f"{label.inner_text()} shows no value"
    assert page.is_visible("#deferred-row") and page.inner_text("#deferred-due").strip()


def test_case_times_are_the_halls_clock_whatever_the_browsers_zone(dispatcher: Dispatcher, browser: Any) -> None:
    case_id, key, _ = received_case(dispatcher)
    received = httpx.get(f"{dispatcher.api}/public/halls/demo/cases/{case_id}?k={key}")
    at = dt.datetime.fromisoformat(received.json()["history"][0]["at"])
    shanghai = at.astimezone(ZoneInfo("Asia/Shanghai"))
    expected = f"{shanghai.year}/{shanghai.month}/{shanghai.day} {shanghai:%H:%M:%S}"
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, locale="zh-CN", timezone_id="America/New_York"
    )
    try:
        page = context.new_page()
        page.goto(f"{dispatcher.url}/c/demo/{case_id}?k={key}")
        page.wait_for_selector("#history li")
        assert page.inner_text("#history li").startswith(expected), "the hall's time, not the phone's zone"
    finally:
        context.close()


def test_office_hall_list_role_counts_logout(dispatcher: Dispatcher, page: Any) -> None:
    received_case(dispatcher)
    page.goto(f"{dispatcher.url}/office")
    page.wait_for_selector("#hall:not([aria-busy])", state="attached")  # the halls are read
    assert "句容市政务服务中心" in page.inner_text("#hall")  # chosen from the halls this dispatcher serves
    page.fill("#username", "supervisor")
    page.fill("#password", "demo")
    page.click("#login-button")
    page.wait_for_selector("#tabs button[data-tab='received'] .count:not(:has-text('…'))")
    assert "值班主任" in page.inner_text("#who") and "supervisor" not in page.inner_text("#who")
    received = int(page.inner_text("#tabs button[data-tab='received'] .count"))
    shown = len(page.query_selector_all("tr.case"))
    assert received == shown >= 1
    assert page.inner_text("#tabs button[data-tab='archived'] .count") == "0"
    shot(page, "office-tabs")
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    assert page.is_hidden("#desk") and "已退出" in page.inner_text("#login-msg")
    page.reload()
    page.wait_for_selector("#login:not([hidden])")  # the token is gone: no way back in without the password
    assert page.evaluate("sessionStorage.getItem('hallq.office.token')") is None


def test_a_deadline_in_a_year_without_holidays_is_provisional(dispatcher: Dispatcher, page: Any) -> None:
    """低保 (30 working days) accepted now: the decision is due in a year whose holidays may not be known."""
    case_id, _ = submitted(dispatcher, "dibao-apply", 3)
    clerk = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    accepted = httpx.post(f"{dispatcher.api}/halls/demo/cases/{case_id}/actions/accept", headers=clerk, json={})
    assert accepted.status_code == 200, accepted.text
    due = accepted.json()["deadlines"]["decide_due"]
    listing = httpx.get(f"{dispatcher.api}/halls/demo/cases?status=accepted", headers=clerk).json()
    unknown = str(due[:4]) in {str(y) for y in listing["unknown_calendar_years"]}
    page.goto(f"{dispatcher.url}/office")
    page.fill("#username", "supervisor")
    page.fill("#password", "demo")
    page.click("#login-button")
    page.click("#tabs button[data-tab='accepted']")
    page.click(f"tr.case[data-id='{case_id}']")
    page.wait_for_selector("#detail h3")
    detail = page.inner_text("#detail")
    assert due in detail
    assert ("暂定" in detail) == unknown and page.is_visible("#calendar-note") == unknown
    shot(page, "office-provisional-deadline")
