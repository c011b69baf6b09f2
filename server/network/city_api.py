"""The city's supervisors' API at the hub (`/city`, DESIGN §14), staff only, thin:

- `GET /hub/live`: every hall now (waiting, longest wait, windows open, online or offline since, how
  far its events have come), rolled up per area and level (server/network/city_live.py);
- `GET /hub/rankings?from&to`: the halls ranked by 好评率, mean wait, served, within target, longest
  wait (server/network/rankings.py over server/network/stats.py's numbers by hall);
- `GET /hub/halls/{hall}/reports/monthly/YYYY-MM.pdf|.xlsx`: a hall's monthly report from the hub's
  numbers; `GET /hub/areas/{hall}/reports/monthly/…`: the same for the hall and every hall below it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from hallq.city_models import CityLive, CityRankings
from server.network.city_live import city_live
from server.network.hub import Hub
from server.network.hub_auth import HubDep, HubStaffDep
from server.network.hub_reports import hub_monthly_numbers
from server.network.rankings import HallName, rankings
from server.network.stats import hub_stats
from server.stats import report
from server.stats.monthly import BadMonth, MonthlyNumbers, parse_month
from server.stats.queries import BadRange
from server.store.database import utcnow

router = APIRouter(prefix="/hub", tags=["city"])
FILE = re.compile(r"^(?P<month>.+)\.(?P<suffix>pdf|xlsx)$")  # as a hall's (server/api/reports.py)
MEDIA = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/live", response_model=CityLive)
async def get_live(hub: HubDep, _staff: HubStaffDep) -> CityLive:
    """Every registered hall now, from the events it shipped, and the roll-ups per area and level."""
    return await asyncio.to_thread(_live, hub)


def _live(hub: Hub) -> CityLive:
    registered = hub.registry.all()
    return city_live(hub.live, registered, hub.halls(), utcnow(), dict(hub.hall_seqs))


@router.get("/rankings", response_model=CityRankings)
async def get_rankings(
    hub: HubDep,
    _staff: HubStaffDep,
    from_: Annotated[dt.date, Query(alias="from", description="first local day, YYYY-MM-DD")],
    to: Annotated[dt.date, Query(description="last local day (included), YYYY-MM-DD")],
) -> CityRankings:
    """The halls ranked over the range, best first; a hall without a sample for a ranking is left out."""
    registered = await asyncio.to_thread(hub.registry.all)
    try:
        numbers = await asyncio.to_thread(hub_stats, hub.store, registered, from_, to, "hall", None)
    except BadRange as exc:
        raise HTTPException(422, str(exc)) from None
    names = {r.hall: HallName(r.name, r.kind) for r in registered}
    return CityRankings(from_=from_, to=to, rankings=rankings(numbers.rows, names))


@router.get(
    "/halls/{hall}/reports/monthly/{month_file}",
    responses={200: {"content": {MEDIA["pdf"]: {}, MEDIA["xlsx"]: {}}}},
    response_class=Response,
)
async def get_hall_report(hall: str, month_file: str, hub: HubDep, _staff: HubStaffDep) -> Response:
    """A hall's month from the events it shipped: `2026-11.pdf` or `2026-11.xlsx`."""
    return await _report(hub, hall, month_file, area=False)


@router.get(
    "/areas/{hall}/reports/monthly/{month_file}",
    responses={200: {"content": {MEDIA["pdf"]: {}, MEDIA["xlsx"]: {}}}},
    response_class=Response,
)
async def get_area_report(hall: str, month_file: str, hub: HubDep, _staff: HubStaffDep) -> Response:
    """The month of a hall and every hall below it (a sub-centre's area, or the whole city)."""
    return await _report(hub, hall, month_file, area=True)


async def _report(hub: Hub, hall: str, month_file: str, area: bool) -> Response:
    registered = await asyncio.to_thread(hub.registry.all)
    own = next((r for r in registered if r.hall == hall), None)
    if own is None:
        raise HTTPException(404, f"中心没有登记大厅 {hall}。 No hall {hall!r} is registered at the hub.")
    match = FILE.match(month_file)
    if match is None:
        raise HTTPException(
            422, "报表文件应为YYYY-MM.pdf或YYYY-MM.xlsx。 Ask for YYYY-MM.pdf or YYYY-MM.xlsx, e.g. 2026-11.pdf."
        )
    now = dt.datetime.now(own.zone)
    try:
        month = parse_month(match["month"], now.date())
    except BadMonth as exc:
        raise HTTPException(422, str(exc)) from None
    numbers = await asyncio.to_thread(hub_monthly_numbers, hub.store, registered, hall, month, now.date(), now, area)
    suffix = match["suffix"]
    body = await asyncio.to_thread(_render, numbers, suffix)
    name = report.file_name(numbers, suffix).replace("monthly-", "monthly-area-" if area else "monthly-")
    return Response(body, media_type=MEDIA[suffix], headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _render(numbers: MonthlyNumbers, suffix: str) -> bytes:
    return report.to_pdf(numbers) if suffix == "pdf" else report.to_xlsx(numbers)
