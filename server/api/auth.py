"""Clerk login and logout. A login bound to a window opens that window for the clerk; logging out
closes it (its called ticket is finished)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import DispatcherDep, PrincipalDep, bearer_token
from server.engine import commands as c
from server.runtime import Answer, HallRuntime

router = APIRouter(tags=["auth"])


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=256)
    window: str | None = Field(None, min_length=1, max_length=16)
    hall: str | None = Field(None, min_length=1, max_length=32, description="needed only on multi-hall servers")


def _nothing(_: HallRuntime, __: list[Any]) -> Answer:
    return Answer(200, None)


@router.post("/auth/login")
async def login(body: LoginBody, request: Request, dispatcher: DispatcherDep) -> Any:
    """→ {access_token, token_type: "bearer", role, window, display_name}."""
    if body.hall is not None:
        dispatcher.runtime(body.hall)
    client = request.client.host if request.client else ""
    token, principal = await dispatcher.auth.login(body.username, body.password, body.hall, body.window, client=client)
    if principal.window is not None and principal.hall is not None:
        audit = [{"actor": principal.actor, "role": principal.role, "action": "login", "target": principal.window,
                  "detail": {}}]  # fmt: skip
        await dispatcher.execute(principal.hall, c.OpenWindow(principal.window, principal.name), _nothing,
                                 audit=audit)  # fmt: skip
    return {
        "access_token": token,
        "token_type": "bearer",
        "role": principal.role,
        "window": principal.window,
        "hall": principal.hall,
        "display_name": principal.display_name,
    }


@router.post("/auth/logout")
async def logout(request: Request, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    """End this login; a window it was bound to closes."""
    token = bearer_token(request)
    if token is None or principal.kind != "user":
        return {"logged_out": False}
    await asyncio.to_thread(dispatcher.auth.logout, token)
    if principal.window is not None and principal.hall is not None:
        await dispatcher.execute(principal.hall, c.CloseWindow(principal.window), _nothing)
    return {"logged_out": True}


@router.get("/auth/me")
async def me(principal: PrincipalDep) -> Any:
    return {
        "kind": principal.kind,
        "name": principal.name,
        "role": principal.role,
        "display_name": principal.display_name,
        "hall": principal.hall,
        "window": principal.window,
        "windows": sorted(principal.windows),
    }
