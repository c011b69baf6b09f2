"""线上取号 on a phone (390×844, headless Chromium) against a real dispatcher: the services open now, the ID
number checked on the page and by the dispatcher, then the ticket's own page. Screenshots go to
artifacts/screens/web-queue-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.test_idcards import BORN_1999 as VALID_1999
from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.test_pages import CHROMIUM, shot

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("queue"))
    yield server
    server.terminate()


def test_a_phone_takes_a_ticket_and_lands_on_its_page(dispatcher: Dispatcher, phone_page: Any) -> None:
    page = phone_page
    page.goto(f"{dispatcher.url}/q/demo")
    page.wait_for_selector("#services button")
    shot(page, "queue-services")
    assert "线上取号" in page.inner_text("header")
    page.click("#services button:has-text('卫生许可')")
    page.wait_for_selector("#who:not([hidden])")
    page.fill("#id-number", VALID_1999[:17] + ("0" if VALID_1999[17] != "0" else "1"))  # a wrong check digit
    page.click("#take")
    page.wait_for_function("document.getElementById('message').textContent.includes('校验')")
    shot(page, "queue-wrong-id")
    assert page.input_value("#id-number"), "what was typed stays"
    page.fill("#id-number", VALID_1999)
    page.fill("#phone", "1381234")
    page.click("#take")
    page.wait_for_function("document.getElementById('message').textContent.includes('11位')")
    page.fill("#phone", "13812345678")
    page.click("#take")
    page.wait_for_url("**/t/demo/**")
    page.wait_for_function("/^L\\d{3}$/.test(document.getElementById('number').textContent)")
    shot(page, "queue-ticket")
    assert "13812345678" not in page.content() and VALID_1999 not in page.content()
