"""The city's numbers over HTTP: `GET /api/v1/hub/stats?from&to&by=hall|area|level|day|hour&under=HALL`
(staff), answered as a hall's stats are (DESIGN §12, §14); server/network/stats.py computes them."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from hallq.network_models import HubStatsAnswer, HubStatsBy
from server.network.hub_auth import HubDep, HubStaffDep
from server.network.stats import UnknownHall, hub_stats
from server.stats.queries import BadRange

router = APIRouter(prefix="/hub", tags=["hub"])


@router.get("/stats", response_model=HubStatsAnswer)
async def get_hub_stats(
    hub: HubDep,
    _staff: HubStaffDep,
    from_: Annotated[dt.date, Query(alias="from", description="first local day, YYYY-MM-DD")],
    to: Annotated[dt.date, Query(description="last local day (included), YYYY-MM-DD")],
    by: HubStatsBy = "hall",
    under: Annotated[str | None, Query(description="only this hall and the halls below it")] = None,
) -> HubStatsAnswer:
    """The halls' numbers over a range of their local days: a row per hall, per area (each hall in its
    nearest 市中心 or 分中心), per level, per day or per hour of day, and the total."""
    registered = await asyncio.to_thread(hub.registry.all)
    try:
        return await asyncio.to_thread(hub_stats, hub.store, registered, from_, to, by, under)
    except BadRange as exc:
        raise HTTPException(422, str(exc)) from None
    except UnknownHall as exc:
        raise HTTPException(404, str(exc)) from None
