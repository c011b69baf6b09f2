"""The devices' blocking HTTP seam to the dispatcher (DESIGN.md section 6), shared by the kiosk and
the window terminal (and any device that asks the dispatcher something).

Every call either returns the answer parsed into its `hallq.api_models` / `hallq.case_models` model,
or raises one of two errors:
- `DispatcherRefused(status, detail)`: the dispatcher answered 4xx with its `{"detail"}` sentence
  (a clerk or a citizen can act on it); retrying the same request will not help, so it never is;
- `DispatcherUnreachable(detail)`: no answer (connection refused, timeout) or a 5xx: worth retrying
  later, with the same Idempotency-Key so a request whose answer was lost is answered again, never
  done twice.
An answer that does not match its model (a dispatcher of another version) is `UnexpectedAnswer`.

Meant for a worker thread (hallq/worker.py), never a UI thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class DispatcherError(Exception):
    """Any failure talking to the dispatcher; `detail` is a sentence to show."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail if status is None else f"{status}: {detail}")
        self.detail = detail
        self.status = status


class DispatcherRefused(DispatcherError):
    """The dispatcher answered with a 4xx: `detail` is its own sentence; retrying will not help."""

    status: int

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail, status)


class DispatcherUnreachable(DispatcherError):
    """No answer, or a server error (5xx, then `status` is set): worth retrying later."""


class UnexpectedAnswer(DispatcherError):
    """The dispatcher answered 2xx with something this device cannot read (another version?)."""


class DispatcherHttp:
    """One httpx client on `{server}/api/v1` with retries for transient failures.

    `attempts` tries in all for an unreachable dispatcher (1: no retry here, the caller retries),
    backing off `backoff_s`, then twice that, …; a 4xx is raised at once."""

    def __init__(
        self,
        server: str,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.3,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=server.rstrip("/") + "/api/v1",
            headers=dict(headers or {}),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        answer: type[M],
        *,
        params: Mapping[str, str] | None = None,
        body: BaseModel | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
    ) -> M:
        """The request, its answer parsed into `answer`; a 204 or an empty answer is UnexpectedAnswer."""
        parsed = self.call_or_none(
            method, path, answer, params=params, body=body, content=content, headers=headers, key=key
        )
        if parsed is None:
            raise UnexpectedAnswer(f"调度服务器没有返回内容 — {method} {path} answered nothing")
        return parsed

    def call_or_none(
        self,
        method: str,
        path: str,
        answer: type[M],
        *,
        params: Mapping[str, str] | None = None,
        body: BaseModel | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
    ) -> M | None:
        """Like `call`, but None for a 204 (e.g. call-next with nobody waiting)."""
        response = self.send(method, path, params=params, body=body, content=content, headers=headers, key=key)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return answer.model_validate(response.json())
        except (ValueError, ValidationError) as exc:  # ValidationError is a ValueError; named for the reader
            log.warning("%s %s: answer does not match %s: %s", method, path, answer.__name__, exc)
            raise UnexpectedAnswer(
                f"调度服务器的回答无法解析（HTTP {response.status_code}）— the answer to {method} {path} "
                f"does not match this device's version"
            ) from None

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: BaseModel | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        """The 2xx response; retries an unreachable dispatcher `attempts` times, raises on 4xx at once."""
        all_headers = dict(headers or {})
        if key:
            all_headers["Idempotency-Key"] = key
        json = body.model_dump(mode="json", exclude_none=True) if body is not None else None
        last: DispatcherUnreachable | None = None
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._http.request(
                    method, path, params=params, json=json, content=content, headers=all_headers
                )
            except httpx.TimeoutException:
                last = DispatcherUnreachable("调度服务器无响应（超时）")
            except httpx.HTTPError as exc:
                last = DispatcherUnreachable(f"无法连接调度服务器（{type(exc).__name__}）")
            else:
                if response.status_code < 400:
                    return response
                detail = error_detail(response)
                if response.status_code < 500:
                    raise DispatcherRefused(response.status_code, detail)
                last = DispatcherUnreachable(detail, response.status_code)
            log.debug("%s %s: %s (attempt %d of %d)", method, path, last, attempt + 1, self.attempts)
        assert last is not None
        raise last


def error_detail(response: httpx.Response) -> str:
    """The sentence of an error answer: FastAPI gives {"detail": "sentence"}, or for 422 a list."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI 422: a list of problems
        detail = "；".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    if detail:
        return str(detail)
    if response.status_code >= 500:
        return f"调度服务器内部错误（HTTP {response.status_code}）"
    return f"操作失败（HTTP {response.status_code}）"
