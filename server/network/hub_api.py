"""The hub's HTTP API (DESIGN §14), thin routers: body model → the hub → answer model.

- `auth_router`: staff log in and out at the hub (`POST /api/v1/auth/login`, as at a hall).
- `uplink_router`: what a hall's uplink calls with its own token: `POST /hub/halls/{hall}/events`
  (→ `{acked_seq}`; 409 `{detail, expected_seq, acked_seq}` for a gap), `PUT /hub/halls/{hall}/profile`.
- `halls_router`: `GET /hub/halls` (staff), `GET /hub/health` (anyone: is the hub up).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hallq.api_models import LoginAnswer, LoginBody, LogoutAnswer, MeAnswer
from hallq.network_models import BatchAck, EventBatch, GapAnswer, HallProfile, HubHall
from server.api.deps import bearer_token
from server.auth import Unauthorized
from server.network.hub_auth import HubDep, HubPrincipalDep, HubStaffDep, UplinkHallDep
from server.network.ingest import Gap, HallNotRegistered
from server.network.registry import ProfileRefused
from server.usecases.auth import me as me_answer

auth_router = APIRouter(tags=["hub"])
uplink_router = APIRouter(prefix="/hub", tags=["hub"])
halls_router = APIRouter(prefix="/hub", tags=["hub"])


@auth_router.post("/auth/login", response_model=LoginAnswer)
async def login(body: LoginBody, request: Request, hub: HubDep) -> LoginAnswer:
    """Staff log in at the hub (no window: the hub has none). Throttled as at a hall."""
    if body.window is not None or body.hall is not None:
        raise Unauthorized("中心没有窗口，请不带窗口登录。 The hub has no windows: log in without window or hall.")
    client = request.client.host if request.client else ""
    token, principal = await hub.auth.login(body.username, body.password, None, None, client=client)
    return LoginAnswer(
        access_token=token,
        token_type="bearer",
        role=principal.role,  # type: ignore[arg-type]  # a user's role: clerk, supervisor or admin
        window=None,
        hall=None,
        display_name=principal.display_name,
    )


@auth_router.post("/auth/logout", response_model=LogoutAnswer)
async def logout(request: Request, hub: HubDep, principal: HubPrincipalDep) -> LogoutAnswer:
    token = bearer_token(request)
    if token is None or principal.kind != "user":
        return LogoutAnswer(logged_out=False)
    await asyncio.to_thread(hub.auth.logout, token)
    return LogoutAnswer(logged_out=True)


@auth_router.get("/auth/me", response_model=MeAnswer)
async def me(principal: HubPrincipalDep) -> MeAnswer:
    return me_answer(principal)


@uplink_router.post(
    "/halls/{hall}/events",
    response_model=BatchAck,
    responses={409: {"model": GapAnswer, "description": "a gap: send from expected_seq"}},
)
async def post_events(hall: str, batch: EventBatch, hub: HubDep, registered: UplinkHallDep) -> JSONResponse | BatchAck:
    """Store the hall's committed events exactly once: events already stored are acknowledged, not
    stored again; a batch that starts after `acked_seq + 1` is refused whole (409, with the seq
    needed). An empty batch is a heartbeat. Authenticated by the hall's own token."""
    hub.note_hall_seq(registered.hall, batch.hall_seq)
    try:
        stored = await hub.ingest(registered.hall, batch)
    except HallNotRegistered:  # removed from the register since its token was checked
        raise Unauthorized("上传令牌无效。 The hub no longer knows this hall.") from None
    except Gap as gap:
        answer = GapAnswer(detail=str(gap), expected_seq=gap.expected_seq, acked_seq=gap.acked_seq)
        return JSONResponse(answer.model_dump(mode="json"), status_code=409)
    return BatchAck(acked_seq=stored.acked_seq)


@uplink_router.put("/halls/{hall}/profile", response_model=HubHall)
async def put_profile(
    hall: str, profile: HallProfile, hub: HubDep, registered: UplinkHallDep
) -> JSONResponse | HubHall:
    """What the hall's config says about its services (target waits, names) and its time zone, so
    the hub counts its events as the hall does. Sent by the uplink when it (re)connects."""
    try:
        await asyncio.to_thread(hub.registry.save_profile, registered, profile)
    except ProfileRefused as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    updated = await asyncio.to_thread(hub.registry.get, registered.hall)
    assert updated is not None
    return await asyncio.to_thread(hub.hall_row, updated)


@halls_router.get("/halls", response_model=list[HubHall])
async def get_halls(hub: HubDep, _staff: HubStaffDep) -> list[HubHall]:
    """Every registered hall: kind, parent, how far its events have come, whether it is online."""
    return await asyncio.to_thread(hub.halls)


@halls_router.get("/health")
async def health(hub: HubDep) -> dict[str, str]:
    """Whether the hub answers (for a load balancer or a test): no data, no login."""
    return {"status": "ok"}
