"""Where the platform feed's records go (DESIGN.md §11, `evaluation.sink`): a file of JSON lines or the
platform's HTTP interface. A sink delivers a batch in order and says how many of its records arrived;
it raises nothing for a platform that is down, it reports the records before the failure and why.

Exactly once: the feeder moves its cursor only past what a sink delivered, so a crash between the
delivery and the cursor's commit sends a record again. The HTTP sink sends each record with its
idempotency key (header and body), so the platform recognises the repeat; the file sink reads the key
of the file's last line at start and skips what it already wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import httpx

from hallq.config import EvaluationSink, SinkKind
from server.delivery import Delivered, JsonLinesFile, bearer_headers, fill_url
from server.evaluations.outbox import FeedRecord

__all__ = ["Delivered", "FileSink", "HttpSink", "Sink", "sink_for"]


class Sink(Protocol):
    name: str

    def deliver(self, records: list[FeedRecord]) -> Delivered: ...

    def close(self) -> None: ...


class FileSink:
    """Appends each record's body as one JSON line (its `recordid` the key), fsync'd before the cursor moves."""

    name = "file"

    def __init__(self, path: str | Path) -> None:
        self.file = JsonLinesFile(path, key_field="recordid")
        self.path = self.file.path

    def deliver(self, records: list[FeedRecord]) -> Delivered:
        return self.file.append([r.body for r in records])

    def close(self) -> None:
        pass


class HttpSink:
    """POSTs each record as JSON to the URL template, with `Idempotency-Key: recordid`; any 2xx answer
    is delivery. Failures (refused, timed out, an answer lost, 5xx, 4xx) stop the batch there."""

    name = "http"

    def __init__(self, config: EvaluationSink, hall: str, client: httpx.Client | None = None) -> None:
        assert config.url is not None  # the config's validation requires it for the http sink
        self.template = config.url
        self.hall = hall
        headers = {"Content-Type": "application/json; charset=utf-8", **bearer_headers(config.token_env)}
        self.client = client or httpx.Client(timeout=config.timeout_s, headers=headers)

    def url_for(self, record: FeedRecord) -> str:
        return fill_url(self.template, {**record.body, "hall": self.hall})

    def deliver(self, records: list[FeedRecord]) -> Delivered:
        for done, record in enumerate(records):
            body = json.dumps(record.body, ensure_ascii=False).encode("utf-8")
            try:
                answer = self.client.post(self.url_for(record), content=body, headers={"Idempotency-Key": record.key})
            except httpx.HTTPError as exc:
                return Delivered(done, f"{type(exc).__name__}: {exc}")
            if not answer.is_success:
                return Delivered(done, f"HTTP {answer.status_code}: {answer.text[:200]}")
        return Delivered(len(records))

    def close(self) -> None:
        self.client.close()


def sink_for(config: EvaluationSink, hall: str) -> Sink | None:
    """The hall's configured sink; None for `none`."""
    if config.kind == SinkKind.file:
        assert config.path is not None
        return FileSink(config.path)
    if config.kind == SinkKind.http:
        return HttpSink(config, hall)
    return None
