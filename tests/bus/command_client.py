"""A device that sends window commands over MQTT and collects what the dispatcher answers, one
command at a time so every reply is attributed to the command that caused it; and a recorder of
every topic under the hall, to see where the dispatcher wrote (tests/bus, tests/reliability)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from hallq.bus import BusClient, Message
from hallq.contract import CommandReply, Topics

T = Topics("demo")


@dataclass(frozen=True)
class Reply:
    topic: str
    reply: CommandReply
    correlation: bytes | None


class CommandDevice:
    """One device's MQTT client (its broker credentials decide what it may write)."""

    def __init__(self, url: str, device: str, windows: list[str]) -> None:
        self.device = device
        self.bus = BusClient(url, hall="demo", kind="keypad_bridge", device=device)
        self._lock = threading.Lock()
        self._replies: list[Reply] = []
        for window in windows:
            self.bus.subscribe(T.window_replies(window), self._keep)
        self.bus.subscribe(f"{T.root}/devices/+/replies/#", self._keep)  # `#` covers …/replies itself

    def start(self) -> CommandDevice:
        self.bus.start()
        assert self.bus.wait_connected(15), f"{self.device} did not connect"
        return self

    def stop(self) -> None:
        self.bus.stop()

    def _keep(self, message: Message) -> None:
        reply = CommandReply.model_validate_json(message.payload)  # every reply is a valid CommandReply
        with self._lock:
            self._replies.append(Reply(message.topic, reply, message.correlation_data))

    def replies(self) -> list[Reply]:
        with self._lock:
            return list(self._replies)

    def send(
        self, window: str, payload: dict[str, Any] | bytes, response_topic: str | None = None,
        correlation: bytes | None = None, timeout: float = 15.0,
    ) -> list[Reply]:  # fmt: skip
        """Publish one command and return the replies it got (waits for the first, then a little more
        so a second reply, which the contract forbids, would be seen)."""
        before = len(self.replies())
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.bus.publish(T.window_commands(window), raw, response_topic=response_topic, correlation_data=correlation)
        deadline = time.monotonic() + timeout
        while len(self.replies()) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        return self.replies()[before:]


def command(name: str, request_id: str, device: str, **args: Any) -> dict[str, Any]:
    return {"command": name, "request_id": request_id, "device": device, "args": args}
