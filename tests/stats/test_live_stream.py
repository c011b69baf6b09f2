"""/stats/live/stream at the HTTP level against the real `hallq server`: a staff login gets a ticket, the
stream sends the live answer at once and again after a command, a ticket opens one stream only, and a
caller without a staff login is refused."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.stats.feed import LiveFeed
from tests.stats.scenario import hall_app
from tests.support.dispatcher import Dispatcher, start_dispatcher


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("live-stream"))
    yield server
    server.terminate()


def ticket(d: Dispatcher, token: str) -> httpx.Response:
    return httpx.post(f"{d.api}/halls/demo/stats/live/ticket", headers={"Authorization": f"Bearer {token}"})


def live_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The `live` events' JSON, in order, from the stream's lines (pings and other fields skipped)."""
    event, data = "", []
    for line in lines:
        if line == "":
            if event == "live" and data:
                yield json.loads("\n".join(data))
            event, data = "", []
        elif line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())


def waiting(answer: dict[str, Any], service: str) -> int:
    return next(s["waiting"] for s in answer["services"] if s["service"] == service)


def test_the_stream_sends_the_hall_now_and_after_a_command(dispatcher: Dispatcher) -> None:
    granted = ticket(dispatcher, dispatcher.login("supervisor"))
    assert granted.status_code == 200, granted.text
    body = granted.json()
    assert body["expires_in_s"] == 30 and body["stream_url"].endswith(f"/stream?ticket={body['ticket']}")
    url = f"{dispatcher.url}{body['stream_url']}"
    with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=10)) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = live_events(stream.iter_lines())
        first = next(events)
        assert first["hall"] == "demo" and {s["service"] for s in first["services"]} >= {"A", "G"}
        before = waiting(first, "A")
        number = dispatcher.issue("A", "live-stream-1")
        # the next answers come within the read timeout; the one after the commit counts the ticket
        assert any(waiting(answer, "A") == before + 1 for answer in events), number
    again = httpx.get(url, timeout=10)  # single use
    assert again.status_code == 401 and "凭证" in again.json()["detail"]


def test_the_stream_is_for_staff_only(dispatcher: Dispatcher) -> None:
    no_login = httpx.post(f"{dispatcher.api}/halls/demo/stats/live/ticket")
    assert no_login.status_code == 401
    assert ticket(dispatcher, dispatcher.login("clerk1")).status_code == 403
    device = httpx.post(f"{dispatcher.api}/halls/demo/stats/live/ticket", headers=dispatcher.headers)
    assert device.status_code == 403
    made_up = httpx.get(f"{dispatcher.api}/halls/demo/stats/live/stream?ticket=made-up", timeout=10)
    assert made_up.status_code == 401 and made_up.json()["detail"]
    assert httpx.get(f"{dispatcher.api}/halls/demo/stats/live/stream", timeout=10).status_code == 422
    other_hall = ticket(dispatcher, dispatcher.login("supervisor")).json()["ticket"]
    wrong = httpx.get(f"{dispatcher.api}/halls/nowhere/stats/live/stream?ticket={other_hall}", timeout=10)
    assert wrong.status_code == 404


def test_a_ticket_of_a_login_that_ended_opens_nothing(dispatcher: Dispatcher) -> None:
    token = dispatcher.login("supervisor")
    granted = ticket(dispatcher, token).json()
    out = httpx.post(f"{dispatcher.api}/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 200, out.text
    answer = httpx.get(f"{dispatcher.url}{granted['stream_url']}", timeout=10)
    assert answer.status_code == 401 and "登录" in answer.json()["detail"]


def test_a_burst_is_coalesced_and_the_last_answer_has_all_of_it(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (_client, app, hall):
            dispatcher = app.state.dispatcher
            feed = LiveFeed(min_interval_s=0.2, refresh_s=30)
            dispatcher.on_commit.append(feed.on_commit)
            answers = feed.answers(dispatcher, "demo")
            first = await anext(answers)
            assert feed.subscribers("demo") == 1 and sum(s.waiting for s in first.services) == 0
            burst = asyncio.gather(*(hall.issue("09:00:00", "A") for _ in range(30)))
            seen, times = [], []
            async with asyncio.timeout(10):
                while not seen or seen[-1] < 30:
                    seen.append(sum(s.waiting for s in (await anext(answers)).services))
                    times.append(time.monotonic())
            await burst
            assert seen == sorted(seen)  # every answer is the hall at that moment: the count only grows
            assert all(later - earlier >= 0.19 for earlier, later in itertools.pairwise(times))
            assert len(seen) < 30  # thirty commits, fewer answers
            await answers.aclose()
            assert feed.subscribers("demo") == 0

    asyncio.run(main())


def test_the_answers_end_when_the_login_ends(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (_client, app, _hall):
            feed = LiveFeed(min_interval_s=0.01, refresh_s=0.05)
            logged_in = [True, True, False]

            async def allowed() -> bool:
                return logged_in.pop(0)

            async with asyncio.timeout(5):
                got = [answer async for answer in feed.answers(app.state.dispatcher, "demo", allowed)]
            assert len(got) == 3 and logged_in == []  # two refreshes allowed, the third check ends it

    asyncio.run(main())
