"""Who calls the hub: FastAPI dependencies for its routers (and for the areas that add theirs later).

- `HubDep`: the running hub (`app.state.hub`).
- `UplinkHallDep`: a hall's uplink, by its own token (`Authorization: Bearer …`, the token
  `hallq hub add-hall` printed; the hub keeps only its sha256). The token must be the hall's named
  in the path: 401 for a token the hub does not know, 403 for another hall's.
- `HubStaffDep`: a supervisor or admin logged in at the hub (`POST /api/v1/auth/login`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request

from server.api.deps import bearer_token
from server.auth import Forbidden, Principal, Unauthorized, sha256_hex
from server.network.hub import Hub
from server.network.registry import RegisteredHall


async def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


async def uplink_hall(request: Request, hub: HubDep) -> RegisteredHall:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("需要大厅的上传令牌（Authorization: Bearer …）。 The hall's uplink token is required.")
    registered = await asyncio.to_thread(hub.registry.by_token, sha256_hex(token))
    if registered is None:
        raise Unauthorized("上传令牌无效。 The hub knows no hall with this token (hallq hub add-hall prints one).")
    named = request.path_params.get("hall")
    if named is not None and named != registered.hall:
        raise Forbidden(f"此令牌属于大厅 {registered.hall}。 The token is hall {registered.hall!r}'s, not {named!r}'s.")
    return registered


async def hub_principal(request: Request, hub: HubDep) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("需要登录（Authorization: Bearer …）")
    return await asyncio.to_thread(hub.auth.authenticate, token)


async def hub_staff(principal: Annotated[Principal, Depends(hub_principal)]) -> Principal:
    if not principal.is_staff:
        raise Forbidden("此操作需要值班主任或管理员权限。 Supervisor or admin only.")
    return principal


UplinkHallDep = Annotated[RegisteredHall, Depends(uplink_hall)]
HubPrincipalDep = Annotated[Principal, Depends(hub_principal)]
HubStaffDep = Annotated[Principal, Depends(hub_staff)]
