"""Window commands over MQTT that no parser should build (issue 12): deeply nested, huge, with very many
keys, wrongly typed, not UTF-8, with NUL characters. Each gets exactly one reply, the nested ones no
RecursionError, and a good command sent after them is still served (real Mosquitto, the dispatcher's
command server over an in-memory dispatcher)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from hallq.bus import BusClient
from hallq.contract import CommandReply, Topics
from server.publisher import run_bus
from tests.bus.helpers import FakeDispatcher, run_async, wait_until
from tests.support.broker import Broker, start_mosquitto

T = Topics("demo")
NESTED = b'{"command": "pause", "request_id": "deep", "args": {"reason": ' + b"[" * 1000 + b"]" * 1000 + b"}}"
MANY_KEYS = {f"k{i}": i for i in range(50_000)}
BAD_COMMANDS: list[tuple[str, bytes]] = [
    ("nested 1000 deep", NESTED),
    ("nested object", b'{"command": "pause", "request_id": "d2", "args": ' + b'{"a":' * 500 + b"1" + b"}" * 501),
    ("many keys", json.dumps({"command": "pause", "request_id": "keys", "args": MANY_KEYS}).encode()),
    ("huge string", json.dumps({"command": "pause", "request_id": "huge", "args": {"reason": "x" * 900_000}}).encode()),
    ("list as reason", json.dumps({"command": "pause", "request_id": "list", "args": {"reason": ["a", "b"]}}).encode()),
    ("number as command", b'{"command": 7, "request_id": "num"}'),
    ("request_id object", b'{"command": "call-next", "request_id": {"a": 1}}'),
    ("NUL escape", b'{"command": "pause", "request_id": "nul", "args": {"reason": "a\\u0000b"}}'),
    ("not UTF-8", b'{"command": "pause", "request_id": "\xff\xfe"}'),
    ("not JSON", b"[[[[{{{{"),
    ("empty", b""),
]  # fmt: skip


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    broker = start_mosquitto(tmp_path)
    yield broker
    broker.stop()


def test_every_bad_command_gets_one_reply_and_the_next_good_one_is_served(mosquitto: Broker) -> None:
    fake = FakeDispatcher()
    replies: list[CommandReply] = []
    keypad = BusClient(mosquitto.device_url("keypad-1", windows=["3"]), hall="demo", kind="keypad_bridge",
                       device="keypad-1")  # fmt: skip
    keypad.subscribe(T.window_replies("3"), lambda m: replies.append(CommandReply.model_validate_json(m.payload)))
    keypad.start()
    assert keypad.wait_connected(15)

    async def scenario() -> None:
        async with run_bus(cast(Any, fake), mqtt_url=mosquitto.url) as buses:
            await asyncio.to_thread(buses[0].bus.wait_connected, 15)
            for _, raw in BAD_COMMANDS:
                keypad.publish(T.window_commands("3"), raw)
            count = len(BAD_COMMANDS)
            await asyncio.to_thread(wait_until, lambda: len(replies) >= count, 30, f"{count} replies")
            good = {"command": "call-next", "request_id": "good", "device": "keypad-1"}
            keypad.publish(T.window_commands("3"), json.dumps(good).encode())
            await asyncio.to_thread(wait_until, lambda: any(r.request_id == "good" for r in replies), 30, "good")
            await asyncio.sleep(1)  # a second reply to any command would arrive meanwhile

    try:
        run_async(scenario())
    finally:
        keypad.stop()
    assert len(replies) == len(BAD_COMMANDS) + 1, [r.request_id for r in replies]
    bad, [good] = replies[:-1], replies[-1:]
    assert all(r.status == "error" and r.error for r in bad), bad
    assert good.status == "ok" and good.data == {"ticket": {"number": "A001"}}
    assert [c[:2] for c in fake.commands] == [("3", "call-next")], "no bad command ran"
    nested = [r for r in bad if "nested deeper" in (r.error or "")]
    assert len(nested) == 2
