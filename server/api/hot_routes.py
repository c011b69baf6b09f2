"""Call-next and issuing a ticket served below FastAPI's router: the same use cases, the same answers
and errors, without the router's per-request machinery (matching twenty included routers, solving
five dependencies), which cost a call about as much CPU as the call itself and a ticket a fifth of
the dispatcher's time (bench/README.md, issue 18).

The routes stay declared in server/api/windows.py and tickets.py: they are what the OpenAPI document
describes, and any request this module does not take (another method, a trailing slash, a body it
cannot read as the route's model) goes on to them, which answer it as they always have. Both paths
end in the same function; a check added to one must be added to the other
(tests/server/test_hot_routes.py holds their answers equal)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hallq.api_models import IssueBody
from server.api.deps import authenticate, checked_idempotency_key, in_its_hall
from server.api.limits import replaying
from server.api.replies import reply
from server.api.windows import answer_call_next
from server.usecases import tickets

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
        self.issue = re.compile(rf"^{re.escape(prefix)}/halls/(?P<hall>[^/]+)/tickets$")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response, receive = await self._served(scope, receive)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    async def _served(self, scope: Scope, receive: Receive) -> tuple[Response | None, Receive]:
        """A hot route's answer, or None and the receive the router reads the request's body from."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None, receive
        if match := self.call_next.match(scope["path"]):
            request = Request(scope, receive)
            return await self._answered(request, call_next(request, match["hall"], match["window"])), receive
        if (match := self.issue.match(scope["path"])) and _json_typed(scope):
            request = Request(scope, receive)
            body = await request.body()
            issued = await self._answered(request, issue_ticket(request, match["hall"], body))
            # not the route's body: the router answers it (422), as it would without this module
            return issued, (receive if issued is not None else replaying(body, receive))
        return None, receive

    async def _answered(self, request: Request, serving: Awaitable[Response | None]) -> Response | None:
        try:
            return await serving
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answered = handler(request, exc)
            return await answered if inspect.isawaitable(answered) else answered

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


async def issue_ticket(request: Request, hall: str, body: bytes) -> Response | None:
    """As server/api/tickets.py `issue_ticket`, its dependencies' checks in the same order (FastAPI
    reads the JSON before them, and validates the model after). None: a body the route must refuse."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    dispatcher = request.app.state.dispatcher
    principal = in_its_hall(hall, dispatcher, await authenticate(dispatcher, request.headers.get("authorization")))
    key = checked_idempotency_key(request.headers.get("idempotency-key"))
    try:
        issue = IssueBody.model_validate(data)
    except ValidationError:
        return None
    return reply(await tickets.issue(dispatcher, principal, hall, issue, key))


def _json_typed(scope: Scope) -> bool:
    """`Content-Type: application/json`, as kiosks send it (FastAPI reads other types differently)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False
