"""The board published after a commit is the hall at that commit's last event: a call made while the
commit was on the disk is not on it yet (it has its own commit, which may still fail)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import httpx

from hallq.bus import PublishHandle
from server.publisher import Publisher
from server.usecases.bus import DispatcherBusPort
from tests.server.conftest import DEMO, make_settings, running_app


async def _clerk(client: httpx.AsyncClient, window: str) -> dict[str, str]:
    login = await client.post("/auth/login", json={"username": f"clerk{window}", "password": "demo", "window": window})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


class HeldCommit:
    """The next group commit waits on the disk until `release()` (the dispatcher's store patched)."""

    def __init__(self, dispatcher: Any) -> None:
        self.on_disk, self._release = threading.Event(), threading.Event()
        self.store = dispatcher.store
        self.commit = self.store.commit_batch
        self.store.commit_batch = self._held
        self.store.commit_batch_at_once = lambda *_: None  # as if another writer held SQLite's lock

    def _held(self, *args: Any) -> Any:
        self.store.commit_batch = self.commit  # only this one waits
        del self.store.commit_batch_at_once
        self.on_disk.set()
        self._release.wait(10)
        return self.commit(*args)

    async def reached_the_disk(self) -> None:
        await asyncio.to_thread(self.on_disk.wait, 10)

    def release(self) -> None:
        self._release.set()


def test_a_call_made_while_a_commit_is_on_the_disk_is_not_on_that_commits_board(sqlite_url: str) -> None:
    async def main() -> None:
        async with running_app(make_settings(sqlite_url)) as (client, app):
            dispatcher = app.state.dispatcher
            publisher = Publisher(DispatcherBusPort(dispatcher), "demo", cast(Any, None))
            dispatcher.on_seal.append(publisher.seal)
            dispatcher.on_commit.append(publisher.notify)
            clerks = {w: await _clerk(client, w) for w in ("1", "2")}
            for _ in range(2):
                issued = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
                assert issued.status_code == 201

            held = HeldCommit(dispatcher)
            first = asyncio.create_task(client.post("/halls/demo/windows/1/call-next", headers=clerks["1"]))
            await held.reached_the_disk()
            second = asyncio.create_task(client.post("/halls/demo/windows/2/call-next", headers=clerks["2"]))
            while not dispatcher.runtime("demo").pending:  # handled by the engine, waiting for the disk
                await asyncio.sleep(0.005)
            held.release()
            called = [(await task).json()["ticket"]["number"] for task in (first, second)]

            seq_first, seq_second = sorted(publisher._recent)[-2:]
            at_first, at_second = publisher._recent[seq_first], publisher._recent[seq_second]
            assert (at_first.windows["1"].ticket, at_first.windows["2"].ticket) == (called[0], None)
            assert {w.window: w.ticket for w in at_first.board.windows}["2"] is None
            assert [c.ticket for c in at_first.board.recent_calls] == [called[0]]
            assert at_first.board.seq == seq_first
            assert (at_second.windows["1"].ticket, at_second.windows["2"].ticket) == tuple(called)
            assert at_second.board.seq == seq_second == dispatcher.runtime("demo").last_seq

    asyncio.run(main())


class AcknowledgingBus:
    """Stands for the broker: every message is acknowledged at once and kept, in order."""

    connected = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def publish(self, topic: str, payload: Any, *, qos: int = 1, retain: bool = False) -> PublishHandle:
        self.sent.append((topic, payload))
        handle = PublishHandle(topic, len(self.sent))
        handle._complete(None)
        return handle

    def publish_status(self, online: bool = True) -> PublishHandle:
        return self.publish("status", online, retain=True)

    def boards(self) -> list[Any]:
        return [payload for topic, payload in self.sent if topic.endswith("/board")]


def test_a_publisher_starting_while_a_commit_is_on_the_disk_waits_for_that_commits_board(sqlite_url: str) -> None:
    """A start (or a take-over) reads the rows from the database and builds the board under the hall's
    lock; a batch already on its way to the disk is in the engine, so the board waits for its commit."""

    async def main() -> None:
        async with running_app(make_settings(sqlite_url)) as (client, app):
            dispatcher = app.state.dispatcher
            clerk = await _clerk(client, "1")
            assert (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).status_code == 201
            bus = AcknowledgingBus()
            publisher = Publisher(DispatcherBusPort(dispatcher), "demo", cast(Any, bus))  # starts now
            dispatcher.on_seal.append(publisher.seal)
            dispatcher.on_commit.append(publisher.notify)

            held = HeldCommit(dispatcher)
            call = asyncio.create_task(client.post("/halls/demo/windows/1/call-next", headers=clerk))
            await held.reached_the_disk()
            await publisher._drain()  # the slow path: nothing handed over, no snapshot kept
            assert bus.boards() == [], "a board taken now would show the call whose commit is on the disk"
            held.release()
            called = (await call).json()["ticket"]["number"]
            await publisher._drain()  # woken by the commit, with the board sealed for it
            (board,) = bus.boards()
            assert {w.window: w.ticket for w in board.windows}["1"] == called
            assert board.seq == dispatcher.runtime("demo").last_seq

    asyncio.run(main())
