"""Where the messages go (`notify.sms`): a file of JSON lines for a hall without a gateway, or a
generic HTTP SMS gateway. A gateway delivers a batch in order and says how many arrived; it raises
nothing for a gateway that is down, it reports the messages before the failure and why.

What it says about a failure never holds the phone or the text (it goes into logs): the HTTP status
or the exception's kind only, since a gateway's error page may repeat the number it was sent.
"""

from __future__ import annotations

import json
import os
import string
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from hallq.config import SmsGateway, SmsKind
from server.notify.planner import Message

TAIL_BYTES = 16 * 1024  # enough for the file's last message


@dataclass(frozen=True)
class Delivered:
    count: int  # the batch's first `count` messages arrived
    error: str | None = None  # why the next one did not (None: the whole batch arrived)


class Gateway(Protocol):
    name: str

    def deliver(self, messages: list[Message]) -> Delivered: ...

    def close(self) -> None: ...


class FileGateway:
    """Appends `{key, phone, text}` per line, fsync'd before the message is deleted; a message written
    just before a crash is recognised by its key (the file's last line) and not written twice. The file
    holds phone numbers: hall staff send it on by hand and clear it (docs/phone-queue.md)."""

    name = "file"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._last_key: str | None = None
        self._opened = False

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read()
            whole = tail[: tail.rfind(b"\n") + 1]
            if len(whole) < len(tail):  # a torn last line (a crash mid-write)
                handle.truncate(size - (len(tail) - len(whole)))
            lines = whole.splitlines()
            self._last_key = json.loads(lines[-1])["key"] if lines else None
        self._opened = True

    def deliver(self, messages: list[Message]) -> Delivered:
        try:
            if not self._opened:
                self._open()
            keys = [m.key for m in messages]
            fresh = messages[keys.index(self._last_key) + 1 :] if self._last_key in keys else messages
            if fresh:
                data = b"".join(_line(m) for m in fresh)
                with open(self.path, "ab") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                self._last_key = fresh[-1].key
        except OSError as exc:
            self._opened = False
            return Delivered(0, f"{self.path}: {exc.strerror or type(exc).__name__}")
        return Delivered(len(messages))

    def close(self) -> None:
        pass


def _line(message: Message) -> bytes:
    record = {"key": message.key, "kind": message.kind, "phone": message.phone, "text": message.text}
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


class HttpGateway:
    """Sends each message to the URL template with the body built from `fields` (JSON or a form) and
    `Idempotency-Key: key`; any 2xx answer is delivery. Refused, timed out, 4xx or 5xx stop the batch."""

    name = "http"

    def __init__(self, config: SmsGateway, hall: str, client: httpx.Client | None = None) -> None:
        assert config.url is not None  # the config's validation requires it for the http gateway
        self.config = config
        self.hall = hall
        token = os.environ.get(config.token_env, "") if config.token_env else ""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = client or httpx.Client(timeout=config.timeout_s, headers=headers)

    def url_for(self, message: Message) -> str:
        values = {"hall": self.hall, "key": message.key}
        names = {name for _, name, _, _ in string.Formatter().parse(self.config.url or "") if name}
        return (self.config.url or "").format(**{n: urllib.parse.quote(values.get(n, ""), safe="") for n in names})

    def body_of(self, message: Message) -> dict[str, str]:
        values = {"hall": self.hall, "key": message.key, "phone": message.phone, "text": message.text}
        return {name: template.format_map(values) for name, template in self.config.fields.items()}

    def deliver(self, messages: list[Message]) -> Delivered:
        for done, message in enumerate(messages):
            body = self.body_of(message)
            json_body, form_body = (body, None) if self.config.body == "json" else (None, body)
            headers = {"Idempotency-Key": message.key}
            try:
                answer = self.client.request(
                    self.config.method, self.url_for(message), headers=headers, json=json_body, data=form_body
                )
            except httpx.HTTPError as exc:
                return Delivered(done, f"{type(exc).__name__} reaching the SMS gateway")
            if not answer.is_success:
                return Delivered(done, f"the SMS gateway answered HTTP {answer.status_code}")
        return Delivered(len(messages))

    def close(self) -> None:
        self.client.close()


def gateway_for(config: SmsGateway, hall: str) -> Gateway | None:
    """The hall's configured gateway; None for `none` (no messages are planned then)."""
    if config.kind == SmsKind.file:
        assert config.path is not None
        return FileGateway(config.path)
    if config.kind == SmsKind.http:
        return HttpGateway(config, hall)
    return None
