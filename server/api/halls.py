"""Hall-wide reads over HTTP: health, hall info, the board snapshot, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from hallq.api_models import AuditEntry, HallInfo, HealthAnswer
from hallq.contract import BoardSnapshot
from server.api.deps import DispatcherDep, StaffDep
from server.api.replies import model_json, typed
from server.usecases import halls

router = APIRouter(tags=["halls"])


@router.get("/health", response_model=HealthAnswer)
async def health(dispatcher: DispatcherDep) -> Response:
    """For monitoring and load balancers: which halls this dispatcher serves (active), waits for
    (standby: another dispatcher holds them), or is rebuilding after a database error (recovering)."""
    return typed(halls.health(dispatcher))


@router.get("/halls/{hall}", response_model=HallInfo)
async def get_hall(hall: str, dispatcher: DispatcherDep) -> Response:
    """Services (open now, waiting, estimated wait, items) and windows: what a kiosk shows."""
    return typed(await halls.info(dispatcher, hall))


@router.get("/halls/{hall}/board", response_model=BoardSnapshot)
async def get_board(hall: str, dispatcher: DispatcherDep) -> Response:
    """The same snapshot as the retained `board` topic: for boards that reconnect or see a seq gap."""
    return typed(await halls.locked_board(dispatcher, hall))


@router.get("/halls/{hall}/audit", response_model=list[AuditEntry])
async def get_audit(
    hall: str, dispatcher: DispatcherDep, principal: StaffDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Response:
    """Privileged actions (transfer, 特呼, cancel, logins to windows, credential changes), newest first."""
    entries = await halls.audit(dispatcher, hall, limit)
    return Response(model_json([e.model_dump(mode="json") for e in entries]), media_type="application/json")
