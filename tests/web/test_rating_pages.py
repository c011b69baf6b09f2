"""The 好差评 card of the phone pages in headless Chromium at a phone's size (390×844), against a real
dispatcher: the ticket page rates a served ticket (差评 with reasons, a comment and a phone for the
callback), then offers the 追评 once the order is rectified; the case page rates a delivered case.
Screenshots: artifacts/screens/web-rate-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.test_pages import CHROMIUM, received_case, shot

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")
PHONE = "13912345678"
LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("rate"))
    yield server
    server.terminate()


def served_ticket(d: Dispatcher) -> str:
    """A ticket issued, called and finished at window 11: its page's path and query."""
    issued = httpx.post(f"{d.api}/halls/demo/tickets", headers=d.headers, json={"service": "G", "channel": "kiosk"})
    assert issued.status_code == 201, issued.text
    clerk = d.clerk_headers("11")
    assert httpx.post(f"{d.api}/halls/demo/windows/11/call-next", headers=clerk).status_code == 200
    assert httpx.post(f"{d.api}/halls/demo/windows/11/finish", headers=clerk).status_code == 200
    parts = urlsplit(issued.json()["status_url"])
    return f"{d.url}{parts.path}?{parts.query}"


def luminance(css: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(page: Any, selector: str) -> float:
    colour, background = page.eval_on_selector(
        selector, "e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor]; }"
    )
    light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def assert_elderly_readable(page: Any) -> None:
    """Five levels, 非常满意 first, one column as wide as the card, big type, high contrast."""
    buttons = page.query_selector_all("#stars button")
    assert [b.inner_text() for b in buttons] == LEVELS
    boxes = [b.bounding_box() for b in buttons]
    assert len({round(box["x"]) for box in boxes}) == 1, "one column"
    assert all(box["width"] >= 300 and box["height"] >= 56 for box in boxes), boxes
    assert all(a["y"] + a["height"] <= b["y"] for a, b in zip(boxes, boxes[1:], strict=False)), "stacked, no overlap"
    size = page.eval_on_selector("#stars button", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 22
    assert contrast(page, "#stars button") >= 7  # WCAG AAA
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing runs off the phone's screen sideways"


def test_the_ticket_page_rates_a_bad_service_then_offers_the_follow_up(dispatcher: Dispatcher, phone_page: Any) -> None:
    page = phone_page
    page.goto(served_ticket(dispatcher))
    page.wait_for_selector("#stars button")
    assert_elderly_readable(page)
    shot(page, "rate-ticket-levels")

    page.click("#stars button[data-score='2']")
    page.wait_for_selector("#reasons button")
    options = httpx.get(f"{dispatcher.api}/halls/demo/evaluations/options").json()
    level2 = next(level for level in options["levels"] if level["score"] == 2)
    assert [b.inner_text() for b in page.query_selector_all("#reasons button")] == [
        r["label"] for r in level2["reasons"]
    ]
    assert contrast(page, "#stars button.on") >= 7
    page.click("#reasons button[data-code='attitude']")
    page.click("#reasons button[data-code='repeat-visits']")
    page.fill("#comment", "窗口人员态度生硬")
    page.fill("#contact-phone", "1391234")
    page.click("#send-rating")
    page.wait_for_selector("#rating-msg:has-text('11位')")
    shot(page, "rate-ticket-reasons")
    page.fill("#contact-phone", PHONE)
    page.click("#send-rating")
    page.wait_for_selector("text=感谢您的评价")
    state = page.inner_text("#order-state")
    assert "139****5678" in state and "待核实" in state
    assert PHONE not in page.content()
    assert "不满意（服务态度差、多次跑动）" in page.inner_text("#rating")
    shot(page, "rate-ticket-thanks")

    supervisor = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    orders = httpx.get(f"{dispatcher.api}/halls/demo/rectifications?status=open", headers=supervisor).json()
    [order] = [o for o in orders if o["evaluation"]["comment"] == "窗口人员态度生硬"]
    for action, body in (("verify", {"facts": "属实"}), ("rectify", {"measures": "已约谈并培训"})):
        done = httpx.post(f"{dispatcher.api}/halls/demo/rectifications/{order['id']}/{action}", headers=supervisor,
                          json=body)  # fmt: skip
        assert done.status_code == 200, done.text
    page.reload()
    page.wait_for_selector("text=整改已完成，欢迎追评")
    assert "整改进度：已整改" in page.inner_text("#order-state")
    assert_elderly_readable(page)
    shot(page, "rate-ticket-follow-up")
    page.click("#stars button[data-score='4']")
    page.click("#send-rating")
    page.wait_for_selector("text=感谢您的追评")
    assert page.query_selector("#stars") is None, "the 追评 is offered once"
    shot(page, "rate-ticket-followed")


def test_the_case_page_rates_a_delivered_case_only(dispatcher: Dispatcher, phone_page: Any) -> None:
    page = phone_page
    case_id, key, _ = received_case(dispatcher)
    page.goto(f"{dispatcher.url}/c/demo/{case_id}?k={key}")
    page.wait_for_selector("#collect:not(:empty)")
    assert page.is_hidden("#rating"), "not delivered yet: nothing to rate"

    supervisor = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    for action in ("accept", "approve", "ready", "deliver"):
        reply = httpx.post(f"{dispatcher.api}/halls/demo/cases/{case_id}/actions/{action}", headers=supervisor,
                           json={})  # fmt: skip
        assert reply.status_code == 200, reply.text
    page.reload()
    page.wait_for_selector("#stars button")
    assert "请您评价本次办件" in page.inner_text("#rating")
    assert_elderly_readable(page)
    page.click("#stars button[data-score='5']")
    page.click("#reasons button[data-code='efficiency']")
    shot(page, "rate-case-levels")
    page.click("#send-rating")
    page.wait_for_selector("text=感谢您的评价")
    assert "非常满意（办事效率高）" in page.inner_text("#rating")
    assert page.query_selector("#order-state") is None  # a 好评 opens no order
    shot(page, "rate-case-thanks")
    page.reload()
    page.wait_for_selector("text=感谢您的评价")  # rated once: the form does not come back
    assert page.query_selector("#stars") is None
