"""Hall-wide reads: hall info (services, windows, waiting), the board snapshot, the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from server.api.deps import DispatcherDep, StaffDep
from server.runtime import utcnow
from server.store.snapshots import board_snapshot, hall_info

router = APIRouter(tags=["halls"])


@router.get("/health")
async def health(dispatcher: DispatcherDep) -> Any:
    """For monitoring and load balancers: which halls this dispatcher serves (active), waits for
    (standby: another dispatcher holds them), or is rebuilding after a database error (recovering)."""
    halls = {}
    for hall, runtime in dispatcher.halls.items():
        state = "recovering" if runtime.needs_restore else ("active" if runtime.active else "standby")
        halls[hall] = {"state": state, "seq": runtime.last_seq}
    return {"status": "ok", "halls": halls}


@router.get("/halls/{hall}")
async def get_hall(hall: str, dispatcher: DispatcherDep) -> Any:
    """Services (open now, waiting, estimated wait, items) and windows: what a kiosk shows."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        return hall_info(runtime, utcnow())


@router.get("/halls/{hall}/board")
async def get_board(hall: str, dispatcher: DispatcherDep) -> Any:
    """The same snapshot as the retained `board` topic: for boards that reconnect or see a seq gap."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        return board_snapshot(runtime, runtime.last_seq, utcnow()).model_dump(mode="json")


@router.get("/halls/{hall}/audit")
async def get_audit(
    hall: str, dispatcher: DispatcherDep, principal: StaffDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Any:
    """Privileged actions (transfer, 特呼, cancel, logins to windows, credential changes), newest first."""
    import asyncio

    dispatcher.runtime(hall)
    rows = await asyncio.to_thread(dispatcher.store.audit_entries, hall, limit)
    return [{**row, "at": row["at"].isoformat() if row["at"] else None} for row in rows]
