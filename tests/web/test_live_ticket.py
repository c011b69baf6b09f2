"""The ticket page's live place in headless Chromium at a phone's size (390×844), against a real
dispatcher: it changes by itself within a second of a call-next made through the API, shows
"重新连接中" while the dispatcher is down, and changes by itself again after the restart. A browser
without EventSource reads the ticket every 10 s instead. Screenshots: artifacts/screens/web-live-ticket-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.test_pages import CHROMIUM, shot

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")
WITHIN_MS = 1000


@pytest.fixture
def dispatcher(tmp_path: Any) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path)
    yield server
    server.terminate()


def issue(d: Dispatcher) -> str:
    """A kiosk ticket for service A; its page's URL."""
    issued = httpx.post(f"{d.api}/halls/demo/tickets", headers=d.headers, json={"service": "A", "channel": "kiosk"})
    assert issued.status_code == 201, issued.text
    parts = urlsplit(issued.json()["status_url"])
    return f"{d.url}{parts.path}?{parts.query}"


def call_next(d: Dispatcher, window: str) -> None:
    response = httpx.post(f"{d.api}/halls/demo/windows/{window}/call-next", headers=d.clerk_headers(window))
    assert response.status_code == 200, response.text


def wait_text(page: Any, selector: str, text: str, timeout_ms: int = 10_000) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel).textContent.includes(text)", arg=[selector, text],
        timeout=timeout_ms,
    )  # fmt: skip


def test_the_page_follows_the_queue_by_itself_across_a_restart(dispatcher: Dispatcher, phone_page: Any) -> None:
    page = phone_page
    issue(dispatcher)
    issue(dispatcher)
    mine = issue(dispatcher)
    clerk = dispatcher.clerk_headers("1")  # logged in before the clock starts
    page.goto(mine)
    wait_text(page, "#detail", "前面还有 2 人")
    wait_text(page, "#refresh-note", "实时")
    shot(page, "live-ticket-waiting")
    moved = httpx.post(f"{dispatcher.api}/halls/demo/windows/1/call-next", headers=clerk)
    assert moved.status_code == 200, moved.text
    wait_text(page, "#detail", "前面还有 1 人", WITHIN_MS)  # by itself, within a second
    shot(page, "live-ticket-moved")

    dispatcher.terminate()
    page.wait_for_selector("#link", state="visible", timeout=10_000)
    assert page.inner_text("#link") == "重新连接中…"
    shot(page, "live-ticket-reconnecting")
    dispatcher.start()
    page.wait_for_selector("#link", state="hidden", timeout=10_000)  # resumed by itself
    assert "前面还有 1 人" in page.inner_text("#detail")
    call_next(dispatcher, "1")  # the clerk's login was kept over the restart
    wait_text(page, "#detail", "前面还有 0 人", WITHIN_MS)
    call_next(dispatcher, "1")
    wait_text(page, "#status", "请到", WITHIN_MS)
    shot(page, "live-ticket-called")


def test_a_refused_stream_is_opened_again_by_the_page(dispatcher: Dispatcher, phone_page: Any) -> None:
    """A 503 (another dispatcher taking the hall over) makes EventSource give up: the page opens a new one."""
    page = phone_page
    refused: list[str] = []

    def first_refused(route: Any) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, content_type="application/json", body='{"detail": "standing by"}')
        else:
            route.continue_()

    page.route("**/events?*", first_refused)
    issue(dispatcher)
    page.goto(issue(dispatcher))
    page.wait_for_selector("#link", state="visible", timeout=10_000)
    assert "前面还有 1 人" in page.inner_text("#detail")  # the place read before stays shown
    page.wait_for_selector("#link", state="hidden", timeout=10_000)
    call_next(dispatcher, "1")
    wait_text(page, "#detail", "前面还有 0 人", WITHIN_MS)
    assert len(refused) == 1


def test_without_event_source_the_page_polls(dispatcher: Dispatcher, phone_page: Any) -> None:
    page = phone_page
    page.add_init_script("delete window.EventSource;")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(issue(dispatcher))
    wait_text(page, "#detail", "前面还有")
    assert "每10秒" in page.inner_text("#refresh-note")
    assert not any("/events" in url for url in requests)
    assert page.evaluate("typeof window.EventSource") == "undefined"
