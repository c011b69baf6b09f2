"""The phone's booking page (/a/{hall}) and a booking's page, driven by taps in headless Chromium at a
phone's size (390×844) against a real dispatcher. Screenshots: artifacts/screens/web-appt-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.appointments.conftest import id_number
from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.conftest import CHROMIUM

playwright_api = pytest.importorskip("playwright.sync_api")

SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
PHONE = "13912345678"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("appt-web"))
    yield server
    server.terminate()


@pytest.fixture
def phone(dispatcher: Dispatcher) -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN", is_mobile=True
        )
        yield context.new_page()
        context.close()
        browser.close()


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"web-appt-{name}.png"), full_page=True)


def test_a_citizen_books_a_slot_sees_the_qr_and_cancels(dispatcher: Dispatcher, phone: Any) -> None:
    page = phone
    page.goto(f"{dispatcher.url}/a/demo")
    services = page.locator("#services button")
    services.first.wait_for()
    assert services.count() >= 5 and "社保业务" in services.first.inner_text()
    shot(page, "services")
    services.first.click()
    days = page.locator("#days button")
    days.first.wait_for()
    page.wait_for_function("document.querySelectorAll('#days button').length > 1")
    shot(page, "days")
    open_days = page.locator("#days button:not([disabled])")
    assert open_days.count() >= 1, "no day with places in the next week"
    assert "余" in open_days.first.inner_text()
    open_days.first.click()
    slot = page.locator("#slots button:not([disabled])").first
    slot.wait_for()
    slot_text = slot.inner_text()
    shot(page, "slots")
    slot.click()
    wrong = id_number(5)[:-1] + ("0" if id_number(5)[-1] != "0" else "1")
    page.fill("#id-number", wrong)
    page.fill("#phone", PHONE)
    page.click("#submit")
    page.wait_for_selector("#message.error")
    assert "校验位" in page.inner_text("#message")
    shot(page, "form-error")
    page.fill("#id-number", id_number(5))
    page.fill("#phone", PHONE)
    page.click("#submit")
    page.wait_for_selector("#step-done:not([hidden])")
    page.wait_for_function("document.getElementById('done-qr').naturalWidth > 0")
    code = page.inner_text("#done-code")
    assert len(code) == 8 and code.isdigit()
    assert slot_text.split("\n")[0].split("–")[0] in page.inner_text("#done-when")
    assert "签到" in page.inner_text("#done-checkin")
    body = page.inner_text("body")
    assert id_number(5) not in body and PHONE not in body
    shot(page, "done")
    link = urlsplit(page.get_attribute("#done-link", "href") or "")
    page.goto(f"{dispatcher.url}/a/demo")  # the phone keeps its bookings' links: 我在本机的预约
    page.wait_for_selector("#mine:not([hidden])")
    assert "社保业务" in page.inner_text("#mine-list")
    shot(page, "mine")
    page.click("#mine-list button")
    page.wait_for_selector("#status.ok")
    assert page.inner_text("#done-code") == code

    qr = httpx.get(f"{dispatcher.url}{link.path}/qr.svg?{link.query}")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert httpx.get(f"{dispatcher.url}{link.path}/qr.svg?k=wrong").status_code == 404
    page.goto(f"{dispatcher.url}{link.path}?{link.query}")
    page.wait_for_selector("#status.ok")
    assert page.inner_text("#status") == "已预约" and page.inner_text("#done-code") == code
    page.wait_for_function("document.getElementById('done-qr').naturalWidth > 0")
    shot(page, "booking")
    office_lists_the_booking(dispatcher, page, link.path.split("/")[-1], link.query, code)

    page.goto(f"{dispatcher.url}{link.path}?{link.query}")
    page.wait_for_selector("#status.ok")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel")
    page.wait_for_selector("#message.ok")
    assert page.inner_text("#status") == "已取消"
    shot(page, "cancelled")


def office_lists_the_booking(d: Dispatcher, page: Any, booking_id: str, query: str, code: str) -> None:
    """The office's 预约 tab (office-appointments.js) lists the day's bookings for a staff login."""
    day = httpx.get(f"{d.api}/halls/demo/appointments/{booking_id}?{query}").json()["start"][:10]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{d.url}/office")
    page.fill("#username", "supervisor")
    page.fill("#password", "demo")
    page.click("#login-button")
    page.click("#appointments-tab button")
    page.wait_for_selector("#appointments-desk:not([hidden])")
    page.fill("#appointments-day", day)
    page.dispatch_event("#appointments-day", "change")
    page.wait_for_selector(f"#appointments-list td:text-is('{code}')")
    row = page.inner_text("#appointments-list")
    assert "已预约" in row and "139****5678" in row and PHONE not in page.content()
    assert page.is_hidden("#cases-desk")
    shot(page, "office")
    page.click("#tabs button[data-tab='received']")
    assert page.is_hidden("#appointments-desk") and page.is_visible("#cases-desk")
    page.set_viewport_size({"width": 390, "height": 844})
