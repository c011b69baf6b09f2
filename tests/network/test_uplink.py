"""The hall's uplink (server/network/uplink.py) against a real hub app served in this process: it
ships every committed event once, redacted; resumes from the hub's acked_seq; follows a 409 to the
seq the hub needs; leaves a standby hall alone; refuses to mix a replaced database into the hub's
events. And a real dispatcher whose hub never answers serves its hall all the same."""

from __future__ import annotations

import datetime as dt
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from hallq.config import HallConfig, example_config_path, load_hall_config
from hallq.network_models import EventBatch
from server.auth import sha256_hex
from server.network.hub_app import create_hub_app
from server.network.ingest import store_batch
from server.network.redact import shippable
from server.network.registry import HallRegistry
from server.network.settings import build_hub_settings
from server.network.uplink import BACKOFF_MAX_S, Uplink, backoff_s, hall_profile
from server.store import CommandWrite, Store
from tests.network.halls import PERSONAL_COMMENT, read_events, wait_until
from tests.support.dispatcher import start_dispatcher
from tests.support.ports import free_port

TOKEN = "demo-hall-uplink-token-0123456789"
AT = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)


@dataclass
class FakeRuntime:
    config: HallConfig
    active: bool = True


@dataclass
class FakeDispatcher:
    """What the uplink sees of a dispatcher: its halls, its store, its commit callbacks."""

    store: Store
    halls: dict[str, FakeRuntime]
    on_commit: list[Any] = field(default_factory=list)

    def commit(self, writes: list[CommandWrite]) -> None:
        last = self.store.last_seq("demo")
        rows = self.store.commit_batch("demo", writes, last)
        for callback in self.on_commit:
            callback("demo", rows[-1][-1].seq)


def writes(count: int) -> list[CommandWrite]:
    """`count` events: issues, and every tenth a rating with a personal comment."""
    made = []
    for n in range(count):
        at = (AT + dt.timedelta(seconds=n)).isoformat()
        if n % 10 == 9:
            event = ("ticket_evaluated", {"at": at, "ticket_id": f"t{n - 1}", "window": "1", "number": "A001",
                                          "score": 1, "comment": PERSONAL_COMMENT})  # fmt: skip
        else:
            event = ("day_reset", {"at": at, "day": "2026-12-07", "closed_day": "2026-12-06", "expired": 0,
                                   "finished": 0})  # fmt: skip
        made.append(CommandWrite(events=[event]))
    return made


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """A hub app under uvicorn in a thread, on SQLite; the hall `demo` registered with TOKEN."""
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    store = Store(database)
    store.migrate()
    HallRegistry(store.engine).add("demo", name="句容市政务服务中心", kind="center", parent=None,
                                   timezone="Asia/Shanghai", token_sha256=sha256_hex(TOKEN))  # fmt: skip
    port = free_port()
    app = create_hub_app(build_hub_settings(database=database, environ={}))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "the hub app to start", timeout=30)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[FakeDispatcher]:
    store = Store(f"sqlite:///{tmp_path / 'hall.sqlite3'}")
    store.migrate()
    yield FakeDispatcher(store, {"demo": FakeRuntime(load_hall_config(example_config_path()))})
    store.close()


def hub_acked(hub_store: Store) -> int:
    registered = HallRegistry(hub_store.engine).get("demo")
    assert registered is not None
    return registered.acked_seq


def test_the_uplink_ships_every_event_once_redacted_and_resumes_from_the_hub(
    hub: tuple[str, Store], hall: FakeDispatcher
) -> None:
    url, hub_store = hub
    hall.commit(writes(1234))
    uplink = Uplink(hall, url, {"demo": TOKEN}, heartbeat_s=0.2)  # type: ignore[arg-type]
    uplink.start()
    try:
        wait_until(lambda: hub_acked(hub_store) == 1234, "the first 1234 events at the hub")
        hall.commit(writes(7))  # woken by the commit
        wait_until(lambda: hub_acked(hub_store) == 1241, "the events committed later")
        contact = HallRegistry(hub_store.engine).get("demo").last_contact_at  # type: ignore[union-attr]
        wait_until(
            lambda: HallRegistry(hub_store.engine).get("demo").last_contact_at > contact,  # type: ignore[union-attr,operator]
            "a heartbeat with nothing to ship",
        )
    finally:
        uplink.stop()
    hall.commit(writes(5))  # committed while no uplink runs (the dispatcher was down)
    again = Uplink(hall, url, {"demo": TOKEN})  # type: ignore[arg-type]
    link = again.links["demo"]
    assert again._turn(link) is False and link.acked == 1246  # knows nothing, asks the hub, ships the rest
    again.client.close()
    shipped = read_events(hub_store.url, "demo")
    own = read_events(hall.store.url, "demo")
    assert shipped == [(seq, kind, shippable(kind, payload), at) for seq, kind, payload, at in own]
    assert [e for e in own if e[1] == "ticket_evaluated"][0][2]["comment"] == PERSONAL_COMMENT
    assert all(e[2].get("comment") is None for e in shipped)
    profile = HallRegistry(hub_store.engine).get("demo").profile  # type: ignore[union-attr]
    assert profile is not None and profile.timezone == "Asia/Shanghai" and len(profile.services) == 12


def test_a_gap_answer_moves_the_uplink_back_to_the_seq_the_hub_needs(
    hub: tuple[str, Store], hall: FakeDispatcher
) -> None:
    url, hub_store = hub
    hall.commit(writes(30))
    uplink = Uplink(hall, url, {"demo": TOKEN})  # type: ignore[arg-type]
    link = uplink.links["demo"]
    link.acked = 20  # believes the hub holds 20; it holds none (restored from an older backup, say)
    uplink._turn(link)
    assert link.acked == 0 and hub_acked(hub_store) == 0 and link.failures == 0
    uplink._turn(link)
    assert link.acked == 30 == hub_acked(hub_store)
    uplink.client.close()


def test_a_standby_hall_is_left_to_the_active_dispatcher(hub: tuple[str, Store], hall: FakeDispatcher) -> None:
    url, hub_store = hub
    hall.commit(writes(3))
    hall.halls["demo"].active = False
    uplink = Uplink(hall, url, {"demo": TOKEN})  # type: ignore[arg-type]
    link = uplink.links["demo"]
    link.acked = 0
    assert uplink._turn(link) is False and link.acked is None
    assert hub_acked(hub_store) == 0
    hall.halls["demo"].active = True  # taken over: asks the hub where it stands, then ships
    uplink._turn(link)
    assert link.acked == 3 == hub_acked(hub_store)
    uplink.client.close()


def test_a_hub_holding_more_than_the_hall_gets_nothing_mixed_in(hub: tuple[str, Store], hall: FakeDispatcher) -> None:
    """A hall whose database was replaced (seq starts again at 1) must not hide its events under the
    old ones: the uplink stops and says why."""
    url, hub_store = hub
    old = [{"seq": n, "kind": "day_reset", "payload": {"at": AT.isoformat()}, "created_at": AT} for n in range(1, 51)]
    store_batch(hub_store.engine, "demo", EventBatch.model_validate({"from_seq": 1, "events": old}))
    hall.commit(writes(10))
    uplink = Uplink(hall, url, {"demo": TOKEN})  # type: ignore[arg-type]
    link = uplink.links["demo"]
    uplink._turn(link)
    assert link.failures == 1 and link.acked == 50 and hub_acked(hub_store) == 50
    uplink.client.close()


def test_backoff_grows_to_a_cap_with_jitter() -> None:
    assert [backoff_s(n, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_s(1, rand=lambda: 0.0) == 0.5
    assert backoff_s(50, rand=lambda: 1.0) == BACKOFF_MAX_S


def test_the_profile_carries_the_halls_target_waits_and_no_credentials() -> None:
    config = load_hall_config(example_config_path())
    profile = hall_profile(config)
    assert profile.kind == config.hall.kind.value and profile.timezone == config.hall.timezone
    assert {s.code: s.target_wait_min * 60 for s in profile.services} == {
        s.code: config.target_wait_s(s.code) for s in config.services
    }
    assert "password" not in profile.model_dump_json() and "token" not in profile.model_dump_json()


def test_redaction_withholds_the_comment_only() -> None:
    rated = {"at": AT.isoformat(), "ticket_id": "t1", "score": 2, "comment": PERSONAL_COMMENT, "number": "A001"}
    assert shippable("ticket_evaluated", rated) == {**rated, "comment": None}
    assert rated["comment"] == PERSONAL_COMMENT  # the hall's own row is untouched
    issued = {"at": AT.isoformat(), "masked_name": "王*", "number": "A002"}
    assert shippable("ticket_issued", issued) is issued


def test_a_hall_whose_hub_never_answers_serves_as_usual(tmp_path: Path) -> None:
    """The hub's address accepts connections and never answers (a hung WAN): the uplink thread waits
    on it, the queue does not."""
    black_hole = socket.create_server(("127.0.0.1", 0))
    hub_url = f"http://127.0.0.1:{black_hole.getsockname()[1]}"
    dispatcher = start_dispatcher(tmp_path, extra_args=["--hub", hub_url, "--hub-token", TOKEN])
    try:
        numbers = [dispatcher.issue("A", f"k{n}") for n in range(10)]
        called = [dispatcher.call_next("1", f"c{n}") for n in range(3)]
        assert numbers[:3] == called
        board = httpx.get(f"{dispatcher.api}/halls/demo/board", timeout=5)
        assert board.status_code == 200 and board.json()["waiting"]["A"]["count"] == 7
        assert "shipping the events of demo to the hub" in dispatcher.log_text()
        assert dispatcher.proc is not None
        dispatcher.proc.send_signal(signal.SIGTERM)  # its uplink is stuck in a request: it still stops
        assert dispatcher.proc.wait(timeout=20) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal when done
    finally:
        dispatcher.kill()
        black_hole.close()


def test_the_halls_database_away_for_a_moment_is_tried_again(
    hub: tuple[str, Store], hall: FakeDispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy.exc

    url, hub_store = hub
    hall.commit(writes(4))
    uplink = Uplink(hall, url, {"demo": TOKEN})  # type: ignore[arg-type]
    link = uplink.links["demo"]
    real = hall.store.events_since

    def away(*_args: Any) -> Any:
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("the database is away"))

    monkeypatch.setattr(hall.store, "events_since", away)
    assert uplink._turn(link) is False and link.failures == 1 and link.retry_at > 0
    monkeypatch.setattr(hall.store, "events_since", real)
    link.retry_at = 0.0  # the backoff has passed
    uplink._turn(link)
    assert link.failures == 0 and link.acked == 4 == hub_acked(hub_store)
    uplink.client.close()
