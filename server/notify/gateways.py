"""Where the messages go (`notify.sms`): a file of JSON lines for a hall without a gateway, or a
generic HTTP SMS gateway. A gateway delivers a batch in order and says how many arrived; it raises
nothing for a gateway that is down, it reports the messages before the failure and why.

What it says about a failure never holds the phone or the text (it goes into logs): the HTTP status
or the exception's kind only, since a gateway's error page may repeat the number it was sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import httpx

from hallq.config import SmsGateway, SmsKind
from server.delivery import Delivered, JsonLinesFile, bearer_headers, fill_url
from server.notify.planner import Message

__all__ = ["Delivered", "FileGateway", "Gateway", "HttpGateway", "gateway_for"]


class Gateway(Protocol):
    name: str

    def deliver(self, messages: list[Message]) -> Delivered: ...

    def close(self) -> None: ...


class FileGateway:
    """Appends `{key, kind, phone, text}` per line, fsync'd before the message is deleted; a message written
    just before a crash is recognised by its key (the file's last line) and not written twice. The file
    holds phone numbers: hall staff send it on by hand and clear it (docs/phone-queue.md)."""

    name = "file"

    def __init__(self, path: str | Path) -> None:
        self.file = JsonLinesFile(path, key_field="key", tail_bytes=16 * 1024)
        self.path = self.file.path

    def deliver(self, messages: list[Message]) -> Delivered:
        lines = [{"key": m.key, "kind": m.kind, "phone": m.phone, "text": m.text} for m in messages]
        return self.file.append(lines)

    def close(self) -> None:
        pass


class HttpGateway:
    """Sends each message to the URL template with the body built from `fields` (JSON or a form) and
    `Idempotency-Key: key`; any 2xx answer is delivery. Refused, timed out, 4xx or 5xx stop the batch."""

    name = "http"

    def __init__(self, config: SmsGateway, hall: str, client: httpx.Client | None = None) -> None:
        assert config.url is not None  # the config's validation requires it for the http gateway
        self.config = config
        self.hall = hall
        self.client = client or httpx.Client(timeout=config.timeout_s, headers=bearer_headers(config.token_env))

    def url_for(self, message: Message) -> str:
        return fill_url(self.config.url or "", {"hall": self.hall, "key": message.key})

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
