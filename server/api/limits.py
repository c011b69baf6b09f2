"""What one request may cost the hall, checked before FastAPI or pydantic see it (issue 12).

`RequestGuard` is a plain ASGI middleware in front of every route:
- the body is read with a cap while it arrives (1 MB for JSON, more for a scanned material) and a
  larger one is refused with 413 as soon as the cap is passed, without reading the rest; a body
  that stops arriving for `body_idle_timeout_s` is answered 408 and its connection closed;
- a JSON body with too many keys and elements, or nested too deep, is refused with 422 by a scan
  that runs at C speed (server/json_guard.py), so a body of a million keys never reaches the JSON
  parser or pydantic and cannot stall the event loop;
- a body that is not UTF-8 (JSON must be) is refused with 422, not FastAPI's bare 400;
- a login from an address already over its limit, or while the password hasher is full, is
  refused with 429 before anything else is done for it;
- a NUL character (a raw byte, a `\\u0000` escape, a `%00` in the path or query) is refused with 422:
  PostgreSQL cannot store it in text, and it must not reach a log line.
Every refusal is `{"detail": sentence}` like the rest of the API.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from server.json_guard import NUL_SENTENCE, payload_problem
from server.login_throttle import TooManyAttempts
from server.settings import RequestLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOGIN_PATH = "/auth/login"
BODY_STALLED_SENTENCE = "请求正文传输中断，请重试。 The request body stopped arriving; please send it again."
# The routes whose body is a file (a scanned material, a signature), not JSON.
UPLOAD_PATH = re.compile(r"/submissions/[^/]+/materials/[^/]+(?:/defer)?$")


class RequestRefused(Exception):
    """A request the guard answers itself, with a status and a sentence."""

    def __init__(self, status: int, sentence: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence
        self.headers = headers or {}
        self.body_read = False


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


def too_large(cap: int) -> RequestRefused:
    return RequestRefused(
        413, f"请求正文过大，不能超过 {_megabytes(cap)}。 The request body is larger than {_megabytes(cap)}."
    )


def target_has_nul(scope: Scope) -> bool:
    """The decoded path (a case id, a window), or the query string after percent-decoding."""
    return "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _expects_body(scope: Scope) -> bool:
    names = {name for name, _ in scope.get("headers", ())}
    return b"content-length" in names or b"transfer-encoding" in names


class RequestGuard:
    def __init__(self, app: ASGIApp, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            replay = await self._checked(scope, receive)
        except RequestRefused as refused:
            await _answer(send, refused)
            return
        await self.app(scope, replay or receive, send)

    async def _checked(self, scope: Scope, receive: Receive) -> Receive | None:
        """Check the request; a replaying receive when the body had to be read, else None."""
        if target_has_nul(scope):
            raise RequestRefused(422, NUL_SENTENCE)
        if not _expects_body(scope):
            return None
        upload = UPLOAD_PATH.search(scope.get("path", "")) is not None
        cap = self.limits.max_upload_bytes if upload else self.limits.max_json_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > cap:
            raise too_large(cap)
        # An empty body (a call-next, a finish) is not read here: the app reads it itself, so it
        # needs no replay (a quarter of the guard's cost on the hot path).
        body = b"" if declared == 0 else await _read_capped(receive, cap, self.limits.body_idle_timeout_s)
        try:
            if not upload:
                self._check_json(scope, body)
        except RequestRefused as refused:
            refused.body_read = True  # the connection can serve the client's next request
            raise
        return None if declared == 0 else replaying(body, receive)

    def _check_json(self, scope: Scope, body: bytes) -> None:
        if scope.get("method") == "POST" and scope.get("path", "").endswith(LOGIN_PATH):
            _refuse_a_flooded_login(scope)
        problem = payload_problem(body, self.limits.max_json_items, self.limits.max_json_depth)
        if problem is not None:
            raise RequestRefused(422, problem)


def _refuse_a_flooded_login(scope: Scope) -> None:
    """A login from an address over its limit, or while the password hasher's queue is full, is
    answered here: a flood of them costs the hall no parsing, no validation, no route."""
    dispatcher = getattr(getattr(scope.get("app"), "state", None), "dispatcher", None)
    if dispatcher is None:
        return
    client = scope.get("client")
    try:
        dispatcher.auth.throttle.refuse_early(client[0] if client else "")
    except TooManyAttempts as exc:
        raise RequestRefused(429, str(exc), {"Retry-After": str(exc.retry_after_s)}) from None


async def _read_capped(receive: Receive, cap: int, idle_timeout_s: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            async with asyncio.timeout(idle_timeout_s):  # no task per read, unlike wait_for on 3.11
                message = await receive()
        except TimeoutError:
            raise RequestRefused(408, BODY_STALLED_SENTENCE) from None
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise too_large(cap)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """The body once, then the client's own messages (a disconnect while a stream runs)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(send: Send, refused: RequestRefused) -> None:
    payload = json.dumps({"detail": refused.sentence}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in refused.headers.items()]
    if not refused.body_read:  # what the client still sends is not read: the connection ends here
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def install_request_guard(app: Any, limits: RequestLimits) -> None:
    app.add_middleware(RequestGuard, limits=limits)
