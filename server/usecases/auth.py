"""Clerk login and logout. A login bound to a window opens that window for the clerk; logging out
closes it (its called ticket is finished)."""

from __future__ import annotations

import asyncio

from hallq.api_models import LoginAnswer, LoginBody, LogoutAnswer, MeAnswer
from server.auth import Principal
from server.engine import commands as c
from server.runtime import Dispatcher
from server.usecases.common import audit_entry, nothing


async def login(dispatcher: Dispatcher, body: LoginBody, client: str) -> LoginAnswer:
    """`client` is the caller's address: logins are throttled per address and per name."""
    if body.hall is not None:
        dispatcher.runtime(body.hall)
    token, principal = await dispatcher.auth.login(body.username, body.password, body.hall, body.window, client=client)
    if principal.window is not None and principal.hall is not None:
        audit = audit_entry(principal, "login", principal.window, {})
        await dispatcher.execute(principal.hall, c.OpenWindow(principal.window, principal.name), nothing, audit=audit)
    return LoginAnswer(
        access_token=token,
        token_type="bearer",
        role=principal.role,  # type: ignore[arg-type]  # a user's role: clerk, supervisor or admin
        window=principal.window,
        hall=principal.hall,
        display_name=principal.display_name,
    )


async def logout(dispatcher: Dispatcher, principal: Principal, token: str | None) -> LogoutAnswer:
    """End this login; a window it was bound to closes."""
    if token is None or principal.kind != "user":
        return LogoutAnswer(logged_out=False)
    await asyncio.to_thread(dispatcher.auth.logout, token)
    if principal.window is not None and principal.hall is not None:
        await dispatcher.execute(principal.hall, c.CloseWindow(principal.window), nothing)
    return LogoutAnswer(logged_out=True)


def me(principal: Principal) -> MeAnswer:
    return MeAnswer(
        kind=principal.kind,  # type: ignore[arg-type]  # "user" or "device"
        name=principal.name,
        role=principal.role,
        display_name=principal.display_name,
        hall=principal.hall,
        window=principal.window,
        windows=sorted(principal.windows),
    )
