"""Dependencies shared by the routers: the dispatcher, the caller's identity, idempotency keys.

Other areas (cases, web) reuse these: `DispatcherDep`, `PrincipalDep` (401 without a valid token),
`OptionalPrincipalDep` (None without a token), `StaffDep` (supervisor or admin, else 403).
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

from fastapi import Depends, Header, Request

from server.auth import Forbidden, Principal, Unauthorized, authorize_hall
from server.runtime import Dispatcher

_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


class BadHeader(Exception):
    """A header the API cannot use (422)."""


async def get_dispatcher(request: Request) -> Dispatcher:
    dispatcher: Dispatcher = request.app.state.dispatcher
    return dispatcher


DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]


def bearer_token(request: Request) -> str | None:
    return bearer_of(request.headers.get("authorization"))


def bearer_of(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header (None without one)."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def _authenticate(dispatcher: Dispatcher, token: str | None) -> Principal:
    """A token the store confirmed recently is answered from memory (server/auth.py: revoked ones are
    refused within RECHECK_S, at once when revoked through this dispatcher); any other is checked
    against the store in a worker thread, so the event loop never waits on the database."""
    if not token:
        raise Unauthorized("需要登录或设备令牌（Authorization: Bearer …）")
    cached = dispatcher.auth.cached(token)
    if cached is not None:
        return cached
    return await asyncio.to_thread(dispatcher.auth.authenticate, token)


def in_its_hall(hall: object, dispatcher: Dispatcher, principal: Principal) -> Principal:
    """A credential of one hall's config may not act in another hall this dispatcher serves (`hall`:
    the path's; an unknown hall is left to the route: 404 as before)."""
    if isinstance(hall, str) and hall in dispatcher.halls:
        authorize_hall(principal, hall)
    return principal


async def authenticate(dispatcher: Dispatcher, authorization: str | None) -> Principal:
    """The caller of an `Authorization` header (401 without a valid one)."""
    return await _authenticate(dispatcher, bearer_of(authorization))


async def current_principal(request: Request, dispatcher: DispatcherDep) -> Principal:
    principal = await authenticate(dispatcher, request.headers.get("authorization"))
    return in_its_hall(request.path_params.get("hall"), dispatcher, principal)


async def optional_principal(request: Request, dispatcher: DispatcherDep) -> Principal | None:
    token = bearer_token(request)
    if token is None:
        return None
    try:
        principal = await _authenticate(dispatcher, token)
    except Unauthorized:
        return None
    return in_its_hall(request.path_params.get("hall"), dispatcher, principal)


async def staff_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_staff:
        raise Forbidden("此操作需要值班主任或管理员权限。 Supervisor or admin only.")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
StaffDep = Annotated[Principal, Depends(staff_principal)]


async def idempotency_key(idempotency_key: Annotated[str | None, Header()] = None) -> str | None:
    return checked_idempotency_key(idempotency_key)


def checked_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _KEY.match(value):
        raise BadHeader(
            "Idempotency-Key 应为1-128个字母、数字或 _.:- 字符。 Idempotency-Key must be 1-128 of A-Z a-z 0-9 _.:-"
        )
    return value


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]
