"""Statistics over HTTP (DESIGN §12, docs/stats.md): the roll-ups by day, hour, service, window or
clerk as JSON, CSV or XLSX, and the hall right now with its alerts.

Supervisors and admins see the whole hall; a clerk sees only their own work (the rows where they were
the clerk at the window, any window); devices see nothing here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from hallq.config import HallConfig
from hallq.stats_models import DepartmentStats, LiveAnswer, StatsAnswer, StatsBy, WaitDistribution
from server.api.deps import DispatcherDep, PrincipalDep, StaffDep
from server.api.replies import typed
from server.api.reports import hall_now
from server.auth import Forbidden, Principal
from server.stats import exports
from server.stats.cases import CaseTally, case_stats
from server.stats.distribution import wait_distribution
from server.stats.live import live_stats
from server.stats.metrics import CONTENT_TYPE, HallMetrics
from server.stats.queries import BadRange, check_range, hall_stats

router = APIRouter(tags=["stats"])
metrics_router = APIRouter(tags=["stats"])  # at the root, where Prometheus looks: /metrics
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _own_rows(principal: Principal) -> str | None:
    """Whose rows the caller may read: None for all (staff), the clerk's username for a clerk."""
    if principal.is_staff:
        return None
    if principal.is_user and principal.role == "clerk":
        return principal.name
    raise Forbidden("统计数据仅限工作人员查看。 Statistics are for staff only.")


@router.get("/halls/{hall}/stats", response_model=StatsAnswer)
async def get_stats(
    hall: str,
    dispatcher: DispatcherDep,
    principal: PrincipalDep,
    from_: Annotated[dt.date, Query(alias="from", description="first local day, YYYY-MM-DD")],
    to: Annotated[dt.date, Query(description="last local day (included), YYYY-MM-DD")],
    by: StatsBy = "day",
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Response:
    """The hall's numbers over a range of days, one row per day, hour of day, service, window or clerk,
    and the total; `format=csv|xlsx` gives the same table with Chinese headers."""
    config = dispatcher.runtime(hall).config
    clerk = _own_rows(principal)
    try:
        today = hall_now(dispatcher, config)[1]  # the cases' deadlines are judged on the hall's day
        answer = await asyncio.to_thread(hall_stats, dispatcher.store, config, from_, to, by, clerk, today)
    except BadRange as exc:
        raise HTTPException(422, str(exc)) from None
    if format == "json":
        return typed(answer)
    body = exports.to_csv(answer) if format == "csv" else await asyncio.to_thread(exports.to_xlsx, answer)
    disposition = f'attachment; filename="{exports.file_name(answer, format)}"'
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": disposition})


@router.get("/halls/{hall}/stats/departments", response_model=DepartmentStats)
async def get_department_stats(
    hall: str,
    dispatcher: DispatcherDep,
    principal: PrincipalDep,
    from_: Annotated[dt.date, Query(alias="from", description="first local day, YYYY-MM-DD")],
    to: Annotated[dt.date, Query(description="last local day (included), YYYY-MM-DD")],
) -> Response:
    """Per department behind the window: 按期受理, 按时办结率, 逾期交接, 预审一次通过 (docs/stats.md).
    Supervisors and admins see every department; a department's staff their own."""
    config = dispatcher.runtime(hall).config
    own = _own_department(principal, config)
    try:
        check_range(from_, to)  # the same bounds and sentences as every other stats range
    except BadRange as exc:
        raise HTTPException(422, str(exc)) from None
    today = hall_now(dispatcher, config)[1]
    stats = await asyncio.to_thread(case_stats, dispatcher.store.engine, config, from_, to, today)
    names = [d.name for d in config.departments if d.staff and own in (None, d.name)]
    rows = [
        {"department": name, "cases": stats.by_department.get(name, CaseTally()).department_numbers()} for name in names
    ]
    return typed(DepartmentStats.model_validate({"from": from_, "to": to, "rows": rows}))


def _own_department(principal: Principal, config: HallConfig) -> str | None:
    if principal.is_staff:
        return None
    department = config.department_of(principal.name) if principal.role == "department" else None
    if department is None:
        raise Forbidden("部门统计仅限值班主任、管理员和本部门工作人员查看。 Department numbers are for staff.")
    return department


@router.get("/halls/{hall}/stats/waits", response_model=WaitDistribution)
async def get_wait_distribution(
    hall: str,
    dispatcher: DispatcherDep,
    principal: PrincipalDep,
    from_: Annotated[dt.date, Query(alias="from", description="first local day, YYYY-MM-DD")],
    to: Annotated[dt.date, Query(description="last local day (included), YYYY-MM-DD")],
) -> Response:
    """How long people waited before their first call, in bins (0-5 min, 5-10 min, …, 120 min and more);
    a clerk sees only the waits of the tickets they called."""
    dispatcher.runtime(hall)
    clerk = _own_rows(principal)
    try:
        answer = await asyncio.to_thread(wait_distribution, dispatcher.store, hall, from_, to, clerk)
    except BadRange as exc:
        raise HTTPException(422, str(exc)) from None
    return typed(answer)


@router.get("/halls/{hall}/stats/live", response_model=LiveAnswer)
async def get_live(hall: str, dispatcher: DispatcherDep, principal: StaffDep) -> Response:
    """Now: per service waiting, longest wait and open windows; per window its state; the alerts."""
    return typed(await live_stats(dispatcher, hall))


@metrics_router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request, dispatcher: DispatcherDep) -> Response:
    """Prometheus text format: counters per hall and service since the dispatcher started, gauges now."""
    metrics: HallMetrics = request.app.state.stats_metrics
    return Response(await metrics.render(dispatcher), media_type=CONTENT_TYPE)
