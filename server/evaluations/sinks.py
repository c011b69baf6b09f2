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
import os
import string
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from hallq.config import EvaluationSink, SinkKind
from server.evaluations.outbox import FeedRecord

TAIL_BYTES = 64 * 1024  # enough for the file's last record


@dataclass(frozen=True)
class Delivered:
    count: int  # the batch's first `count` records arrived
    error: str | None = None  # why the next one did not (None: the whole batch arrived)


class Sink(Protocol):
    name: str

    def deliver(self, records: list[FeedRecord]) -> Delivered: ...

    def close(self) -> None: ...


class FileSink:
    """Appends one JSON object per line, flushed and fsync'd before the cursor moves."""

    name = "file"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._last_key: str | None = None
        self._opened = False

    def _open(self) -> None:
        """Drop a torn last line (a crash mid-write) and remember the last whole record's key."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read()
            whole = tail[: tail.rfind(b"\n") + 1]
            if len(whole) < len(tail):
                handle.truncate(size - (len(tail) - len(whole)))
            lines = whole.splitlines()
            self._last_key = json.loads(lines[-1])["recordid"] if lines else None
        self._opened = True

    def deliver(self, records: list[FeedRecord]) -> Delivered:
        try:
            if not self._opened:
                self._open()
            fresh = self._not_yet_written(records)
            if fresh:
                data = b"".join(json.dumps(r.body, ensure_ascii=False).encode("utf-8") + b"\n" for r in fresh)
                with open(self.path, "ab") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                self._last_key = fresh[-1].key
        except OSError as exc:
            self._opened = False
            return Delivered(0, f"{self.path}: {exc.strerror or exc}")
        return Delivered(len(records))

    def _not_yet_written(self, records: list[FeedRecord]) -> list[FeedRecord]:
        keys = [r.key for r in records]
        if self._last_key in keys:
            return records[keys.index(self._last_key) + 1 :]
        return records

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
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = os.environ.get(config.token_env, "") if config.token_env else ""
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = client or httpx.Client(timeout=config.timeout_s, headers=headers)

    def url_for(self, record: FeedRecord) -> str:
        fields = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        values = {**record.body, "hall": self.hall}
        return self.template.format(**{name: urllib.parse.quote(str(values.get(name, "")), safe="") for name in fields})

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
