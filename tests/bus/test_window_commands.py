"""MQTT window commands against the real app, store and command server on a real Mosquitto with the
shipped ACL (issue 12): a deeply nested command gets an error reply; args are typed as HTTP types them
(a list as a pause reason is refused, not shown on the board); a command names only a device that
speaks for the window and may do that command (kinds); the MQTT 5 response topic is obeyed only for the
window's replies or the device's own replies, never another device's status or a topic outside."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hallq.config import HallConfig, example_config_path
from server.auth import sha256_hex
from server.settings import DEMO_HMAC_SECRET, ServerSettings
from tests.bus.command_client import CommandDevice, T, command
from tests.bus.helpers import Recorder
from tests.server.conftest import demo_config
from tests.support.broker import Broker

DEVICES = {"keypad-1": ("keypad_bridge", ["3"]), "evaluator-3": ("evaluator", ["3"]), "board-1": ("board", [])}


def hall_config() -> HallConfig:
    data = demo_config().model_dump()
    for device, (kind, windows) in DEVICES.items():
        data["credentials"]["devices"].append(
            {"id": device, "kind": kind, "token_sha256": sha256_hex(f"{device}-token"), "windows": windows}
        )
    return HallConfig.model_validate(data)


class LiveHall:
    """The app (HTTP in-process) and its MQTT side, run in a thread of their own."""

    def __init__(self, database: str, mqtt_url: str) -> None:
        self.settings = ServerSettings(
            hall_config=hall_config(), config_path=str(example_config_path()), database=database, demo=True,
            hmac_secret=DEMO_HMAC_SECRET, mqtt_url=mqtt_url,  # type: ignore[arg-type]
        )  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stopping: asyncio.Event | None = None
        self.client: httpx.AsyncClient | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        from server.app import create_app
        from server.publisher import run_bus
        from server.usecases.bus import DispatcherBusPort

        app = create_app(self.settings, start_bus=False)
        self.stopping = asyncio.Event()
        async with (
            app.router.lifespan_context(app),
            run_bus(DispatcherBusPort(app.state.dispatcher), mqtt_url=self.settings.mqtt_url),
        ):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hall/api/v1", timeout=30) as client:
                self.client = client
                self.ready.set()
                await self.stopping.wait()

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        assert self.client is not None
        client = self.client
        return asyncio.run_coroutine_threadsafe(client.request(method, path, **kwargs), self.loop).result(30)

    def start(self) -> LiveHall:
        self.thread.start()
        assert self.ready.wait(30), "the app did not start"
        return self

    def stop(self) -> None:
        if self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(30)


@pytest.fixture
def hall(tmp_path: Any, mosquitto: Broker) -> Iterator[tuple[LiveHall, CommandDevice, CommandDevice, Recorder]]:
    live = LiveHall(f"sqlite:///{tmp_path / 'hallq.sqlite3'}", mosquitto.url).start()
    keypad = CommandDevice(mosquitto.device_url("keypad-1", windows=["3"]), "keypad-1", ["3"]).start()
    evaluator = CommandDevice(mosquitto.device_url("evaluator-3", windows=["3"]), "evaluator-3", ["3"]).start()
    everything = Recorder(mosquitto.device_url("board-1"), device="board-1").start()
    try:
        yield live, keypad, evaluator, everything
    finally:
        for client in (keypad, evaluator, everything):
            client.stop()
        live.stop()


def only(replies: list[Any]) -> Any:
    assert len(replies) == 1, replies
    return replies[0]


def test_nesting_and_wrong_types_get_an_error_reply_and_change_nothing(hall: Any) -> None:
    live, keypad, _evaluator, _everything = hall
    keypad_http = {"Authorization": "Bearer keypad-1-token"}
    assert live.http("POST", "/halls/demo/windows/3/open", headers=keypad_http).status_code == 200
    deep = b'{"command": "pause", "request_id": "deep", "device": "keypad-1", "args": {"reason": ' + (
        b"[" * 1000 + b"]" * 1000 + b"}}"
    )
    got = only(keypad.send("3", deep))
    assert got.reply.status == "error" and got.reply.request_id == "deep", got
    bare = b"[" * 1000 + b"]" * 1000  # no object at all, and nothing to quote
    got = only(keypad.send("3", bare))
    assert got.reply.status == "error" and got.topic == T.window_replies("3")

    for request_id, reason in (("list", ["午休", "会议"]), ("dict", {"a": 1}), ("long", "长" * 41), ("number", 5)):
        got = only(keypad.send("3", command("pause", request_id, "keypad-1", reason=reason)))
        assert got.reply.status == "error" and got.reply.request_id == request_id, got
        assert "reason" in (got.reply.error or ""), got.reply.error
    window = live.http("GET", "/halls/demo/windows/3", headers=keypad_http).json()
    assert window["state"] == "open" and window["reason"] in ("", None), "nothing refused reached the window"
    board = live.http("GET", "/halls/demo/board").json()
    assert next(w for w in board["windows"] if w["window"] == "3")["reason"] is None

    got = only(keypad.send("3", command("pause", "ok", "keypad-1", reason="午休")))
    assert got.reply.status == "ok" and got.reply.data and got.reply.data["reason"] == "午休"
    got = only(keypad.send("3", command("transfer", "both", "keypad-1", service="A", window="4")))
    assert got.reply.status == "error"
    got = only(keypad.send("3", command("call-next", "extra", "keypad-1", surprise=1)))
    assert got.reply.status == "error" and "surprise" in (got.reply.error or "")


def test_a_keypad_cannot_speak_for_another_device_nor_pick_where_replies_go(hall: Any) -> None:
    live, keypad, evaluator, everything = hall
    others_status = f"{T.root}/devices/board-1/status"
    own_status = f"{T.root}/devices/keypad-1/status"
    refused_topics = (
        others_status,
        own_status,
        T.board,
        f"{T.root}/devices/evaluator-3/replies",
        "hallq/v1/other-hall/windows/3/replies",
        f"{T.root}/devices/keypad-1/replies/#",
    )
    for i, topic in enumerate(refused_topics):
        got = only(keypad.send("3", command("resume", f"topic-{i}", "keypad-1"), response_topic=topic))
        assert got.topic == T.window_replies("3"), (topic, got.topic)
    # every device writes its own status; the dispatcher wrote a reply on none of them, nor on the board
    forged = [
        m.topic for m in everything.messages
        if b'"status":' in m.payload and b'"request_id"' in m.payload and "/replies" not in m.topic
    ]  # fmt: skip
    assert forged == []

    mine = f"{T.root}/devices/keypad-1/replies"
    got = only(keypad.send("3", command("resume", "mine", "keypad-1"), response_topic=mine, correlation=b"c"))
    assert got.topic == mine and got.correlation == b"c"

    # naming a device that does not speak for window 3, or one whose kind may not do this
    got = only(keypad.send("3", command("call-next", "as-board", "board-1"), response_topic=mine))
    assert got.reply.status == "error" and got.topic == T.window_replies("3")
    got = only(keypad.send("3", command("call-next", "as-evaluator", "evaluator-3")))
    assert got.reply.status == "error" and "evaluator" in (got.reply.error or "")
    got = only(evaluator.send("3", command("call-next", "evaluator-calls", "evaluator-3")))
    assert got.reply.status == "error"

    # 好差评 over MQTT: the window's evaluator rates the ticket served there; a keypad does not
    assert (
        live.http("POST", "/halls/demo/windows/3/open", headers={"Authorization": "Bearer keypad-1-token"}).status_code
        == 200
    )
    issued = live.http("POST", "/halls/demo/tickets", json={"service": "A"},
                       headers={"Authorization": "Bearer demo-device-token"}).json()  # fmt: skip
    assert only(keypad.send("3", command("call-next", "call", "keypad-1"))).reply.status == "ok"
    assert only(keypad.send("3", command("finish", "finish", "keypad-1"))).reply.status == "ok"
    rate = {"score": 5, "ticket_id": issued["id"]}
    got = only(keypad.send("3", command("evaluate", "keypad-rates", "keypad-1", **rate)))
    assert got.reply.status == "error" and "keypad_bridge" in (got.reply.error or ""), got.reply.error
    got = only(evaluator.send("3", command("evaluate", "rates", "evaluator-3", **rate)))
    assert got.reply.status == "ok", got.reply.error
