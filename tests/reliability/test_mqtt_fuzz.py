"""MQTT fuzz (issue 12): malformed, huge, deeply nested and wrongly typed window commands against the
real `hallq server` on a real Mosquitto with the shipped ACL. Each command gets exactly one reply
(a valid CommandReply, on the window's replies or the sender's own), none is an internal error, and
the dispatcher keeps answering HTTP and MQTT afterwards. Sent one at a time, so each reply belongs
to the command before it; a fixed seed keeps the random part repeatable."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bus.command_client import CommandDevice, T, command
from tests.support.broker import Broker, start_mosquitto
from tests.support.dispatcher import DEMO_TOKEN, Dispatcher, start_dispatcher

DEVICE = "demo-device"
WINDOWS = [str(n) for n in range(1, 13)]
RANDOM_CASES = 120
SEED = 20261204
MINE = f"{T.root}/devices/{DEVICE}/replies"


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[Broker, Dispatcher, CommandDevice]]:
    broker = start_mosquitto(tmp_path)
    dispatcher = start_dispatcher(tmp_path, mqtt_url=broker.url)
    device = CommandDevice(broker.device_url(DEVICE, DEMO_TOKEN, windows=WINDOWS), DEVICE, WINDOWS).start()
    try:
        yield broker, dispatcher, device
    finally:
        device.stop()
        dispatcher.kill()
        broker.stop()


def nested(depth: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * depth + close * depth


def fixed_cases() -> list[tuple[str, bytes]]:
    """(name, payload) of the hand-picked ones."""
    deep_obj = b'{"a":' * 1000 + b"1" + b"}" * 1000
    cases: list[tuple[str, Any]] = [
        ("empty", b""),
        ("not json", b"hello keypad"),
        ("bad utf-8", b"\xff\xfe\xfd"),
        ("truncated", b'{"command": "call-next", "request_id": "t'),
        ("null", b"null"),
        ("array", b"[]"),
        ("number", b"12345"),
        ("string", b'"call-next"'),
        ("1000 brackets", nested(1000)),
        ("10000 brackets", nested(10000)),
        ("1000 objects", deep_obj),
        (
            "nested in args",
            b'{"command":"pause","request_id":"n1","device":"demo-device","args":{"reason":' + nested(1000) + b"}}",
        ),  # fmt: skip
        ("nested request_id", b'{"command":"recall","request_id":' + nested(500) + b',"device":"demo-device"}'),
        ("huge comment", command("evaluate", "h1", DEVICE, score=5, comment="好" * 300_000)),  # 0.9 MB
        ("huge args", command("call-next", "h2", DEVICE, **{f"k{i}": i for i in range(20_000)})),
        ("huge request_id", command("call-next", "x" * 100_000, DEVICE)),
        ("unknown command", command("fly", "u1", DEVICE)),
        ("command as number", {"command": 7, "request_id": "w1", "device": DEVICE}),
        ("request_id as list", {"command": "recall", "request_id": ["a"], "device": DEVICE}),
        ("request_id as number", {"command": "recall", "request_id": 42, "device": DEVICE}),
        ("args as list", {"command": "pause", "request_id": "w2", "device": DEVICE, "args": ["午休"]}),
        ("args as string", {"command": "pause", "request_id": "w3", "device": DEVICE, "args": "午休"}),
        ("device as dict", {"command": "recall", "request_id": "w4", "device": {"id": DEVICE}}),
        ("token as list", {"command": "recall", "request_id": "w5", "device": DEVICE, "token": [DEMO_TOKEN]}),
        ("reason as list", command("pause", "w6", DEVICE, reason=["午休", "会议"])),
        ("reason as dict", command("pause", "w7", DEVICE, reason={"text": "午休"})),
        ("score as text", command("evaluate", "w8", DEVICE, score="five")),
        ("score too high", command("evaluate", "w9", DEVICE, score=99)),
        ("transfer to a list", command("transfer", "w10", DEVICE, window=["2"])),
        ("ticket as dict", command("evaluate", "w11", DEVICE, score=5, ticket_id={"id": "x"})),
        ("NUL in request_id", command("recall", "nul\u0000id", DEVICE)),
        ("NUL in reason", command("pause", "w12", DEVICE, reason="午\u0000休")),
        ("lone surrogate", b'{"command":"recall","request_id":"\\ud800","device":"demo-device"}'),
        ("no device", {"command": "recall", "request_id": "w13"}),
        ("unknown device", command("recall", "w14", "intruder")),
    ]
    # the broker refuses more than 1 MB (message_size_limit): every case stays below, to reach the dispatcher
    return [(name, p if isinstance(p, bytes) else json.dumps(p, ensure_ascii=False).encode()) for name, p in cases]


def random_cases(rng: random.Random) -> list[tuple[str, bytes]]:
    """A valid command with one or two fields replaced by something of the wrong shape."""
    odd_values: list[Any] = [None, True, -1, 2**70, 1.5, "", "x" * 5000, [], [1, [2, [3]]], {}, {"a": {"b": {}}},
                             "\u0000", "☃" * 50, json.loads(nested(150).decode())]  # fmt: skip
    names = ["call-next", "recall", "no-show", "finish", "pause", "resume", "transfer", "evaluate", "nope"]
    fields = ["command", "request_id", "args", "device", "token", "args.reason", "args.score", "args.window",
              "args.service", "args.ticket_id", "args.comment", "args.extra"]  # fmt: skip
    cases = []
    for i in range(RANDOM_CASES):
        payload: dict[str, Any] = command(rng.choice(names), f"r{i}", DEVICE)
        for field in rng.sample(fields, rng.choice((1, 2))):
            value = rng.choice(odd_values)
            if field.startswith("args."):
                payload["args"] = payload["args"] if isinstance(payload["args"], dict) else {}
                payload["args"][field[5:]] = value
            else:
                payload[field] = value
        cases.append((f"random {i}: {sorted(payload)}", json.dumps(payload).encode()))
    return cases


def test_every_command_gets_exactly_one_reply_and_the_hall_keeps_working(hall: Any) -> None:
    _broker, dispatcher, device = hall
    rng = random.Random(SEED)
    cases = fixed_cases() + random_cases(rng)
    problems: list[str] = []
    for n, (name, payload) in enumerate(cases):
        window = rng.choice(WINDOWS)
        response_topic = rng.choice((None, MINE, T.board, f"{T.root}/devices/board-1/status"))
        replies = device.send(window, payload, response_topic=response_topic, correlation=f"c{n}".encode())
        if len(replies) != 1:
            problems.append(f"{name}: {len(replies)} replies")
            continue
        got = replies[0]
        if got.topic not in (T.window_replies(window), MINE):
            problems.append(f"{name}: reply on {got.topic}")
        if "internal error" in (got.reply.error or ""):
            problems.append(f"{name}: {got.reply.error}")
    assert problems == [], problems

    with httpx.Client(base_url=dispatcher.api, timeout=10) as client:
        assert client.get("/health").status_code == 200
        issued = client.post("/halls/demo/tickets", json={"service": "A"}, headers=dispatcher.headers)
        assert issued.status_code == 201, issued.text
    after = device.send("3", command("resume", "still-there", DEVICE), response_topic=MINE)
    assert len(after) == 1 and after[0].reply.request_id == "still-there"
    assert "Traceback" not in dispatcher.log_text(), "every bad command was answered, none crashed a handler"
