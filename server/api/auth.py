"""Clerk login and logout over HTTP (server/usecases/auth.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hallq.api_models import LoginAnswer, LoginBody, LogoutAnswer, MeAnswer
from server.api.deps import DispatcherDep, PrincipalDep, bearer_token
from server.usecases import auth

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=LoginAnswer)
async def login(body: LoginBody, request: Request, dispatcher: DispatcherDep) -> LoginAnswer:
    """A clerk logs in (to a window, which opens for them): a bearer token for the terminal.
    Throttled per name and per address (429 with Retry-After)."""
    return await auth.login(dispatcher, body, client=request.client.host if request.client else "")


@router.post("/auth/logout", response_model=LogoutAnswer)
async def logout(request: Request, dispatcher: DispatcherDep, principal: PrincipalDep) -> LogoutAnswer:
    """End this login; a window it was bound to closes."""
    return await auth.logout(dispatcher, principal, bearer_token(request))


@router.get("/auth/me", response_model=MeAnswer)
async def me(principal: PrincipalDep) -> MeAnswer:
    return auth.me(principal)
