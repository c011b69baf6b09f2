"""What the areas that send records out of the hall share (the 好差评 platform feed, the SMS notifier):
a batch delivered in order with how many arrived, a file of JSON lines written exactly once across a
crash, and an HTTP target's URL template and bearer token.

Exactly once: the caller moves its cursor only past what was delivered, so a crash between the delivery
and the cursor's commit delivers a batch again. The file remembers the key of its last whole line (read
back at start, after cutting off a line torn by a crash) and skips what it already holds; an HTTP target
gets each item's key as `Idempotency-Key` and recognises the repeat.
"""

from __future__ import annotations

import json
import os
import string
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Delivered:
    count: int  # the batch's first `count` items arrived
    error: str | None = None  # why the next one did not (None: the whole batch arrived)


class JsonLinesFile:
    """Appends one JSON object per line, flushed and fsync'd before the caller moves on. Each object
    carries its key under `key_field`. An error names the file and the error's kind only (the lines may
    hold what must not reach a log)."""

    def __init__(self, path: str | Path, key_field: str, tail_bytes: int = 64 * 1024) -> None:
        self.path = Path(path)
        self.key_field = key_field
        self.tail_bytes = tail_bytes  # enough for the file's last line
        self._last_key: str | None = None
        self._opened = False

    def append(self, lines: list[dict[str, Any]]) -> Delivered:
        try:
            if not self._opened:
                self._open()
            keys = [line[self.key_field] for line in lines]
            fresh = lines[keys.index(self._last_key) + 1 :] if self._last_key in keys else lines
            if fresh:
                data = b"".join(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n" for line in fresh)
                with open(self.path, "ab") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                self._last_key = fresh[-1][self.key_field]
        except OSError as exc:
            self._opened = False
            return Delivered(0, f"{self.path}: {exc.strerror or type(exc).__name__}")
        return Delivered(len(lines))

    def _open(self) -> None:
        """Cut off a torn last line (a crash mid-write) and remember the last whole line's key."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - self.tail_bytes))
            tail = handle.read()
            whole = tail[: tail.rfind(b"\n") + 1]
            if len(whole) < len(tail):
                handle.truncate(size - (len(tail) - len(whole)))
            lines = whole.splitlines()
            self._last_key = json.loads(lines[-1])[self.key_field] if lines else None
        self._opened = True


def fill_url(template: str, values: Mapping[str, object]) -> str:
    """The URL template with the fields it names, each quoted for a URL (a missing one is empty)."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{n: urllib.parse.quote(str(values.get(n, "")), safe="") for n in names})


def bearer_headers(token_env: str | None) -> dict[str, str]:
    """`Authorization: Bearer …` from the environment variable the config names, if it is set."""
    token = os.environ.get(token_env, "") if token_env else ""
    return {"Authorization": f"Bearer {token}"} if token else {}
