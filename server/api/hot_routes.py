"""Call-next served below FastAPI's router: the same use case, the same answers and errors, without
the router's per-request machinery (matching twenty included routers, solving five dependencies),
which cost a call about as much CPU as the call itself (bench/README.md, issue 18).

The route stays declared in server/api/windows.py: it is what the OpenAPI document describes, and
any request this module does not take (another method, a trailing slash) goes on to it. Both end in
`answer_call_next`; a check added to one must be added to the other (tests/server/test_hot_routes.py
holds their answers equal)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.api.deps import authenticate, checked_idempotency_key, in_its_hall
from server.api.windows import answer_call_next

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorAnswer = Callable[[Request, Any], Response | Awaitable[Response]]


class HotRoutes:
    """ASGI middleware just in front of the router; `errors`: the app's exception handlers, so an
    error is answered exactly as the declared route would answer it."""

    def __init__(self, app: ASGIApp, prefix: str, errors: Callable[[], dict[Any, ErrorAnswer]]) -> None:
        self.app = app
        self.errors = errors
        # as the router matches `{hall}` and `{window}`: anything but a slash (a request behind a
        # proxy's root path does not match, and the router serves it as before)
        self.call_next = re.compile(rf"^{re.escape(prefix)}/halls/(?P<hall>[^/]+)/windows/(?P<window>[^/]+)/call-next$")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self.call_next.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await call_next(request, match["hall"], match["window"])
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answered = handler(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ErrorAnswer | None:
        """The handler the router's exception middleware would use. An unexpected error goes on to the
        server-error middleware, as it would from the router: it answers 500 and logs it."""
        handlers = self.errors()
        for kind in type(exc).__mro__:
            if kind is Exception:
                return None
            if kind in handlers:
                return handlers[kind]
        return None


async def call_next(request: Request, hall: str, window: str) -> Response:
    """As server/api/windows.py `call_next`, with its dependencies' checks in the same order."""
    dispatcher = request.app.state.dispatcher
    principal = in_its_hall(hall, dispatcher, await authenticate(dispatcher, request.headers.get("authorization")))
    key = checked_idempotency_key(request.headers.get("idempotency-key"))
    return await answer_call_next(dispatcher, principal, hall, window, key)
