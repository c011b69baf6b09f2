"""The monthly report over HTTP (DESIGN §12): `GET /halls/{hall}/reports/monthly/YYYY-MM.pdf` or
`.xlsx`, for supervisors and admins. The numbers come from the roll-ups (server/stats/monthly.py),
the file from server/stats/report.py; a month without data gives a report that says so."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Response

from hallq.config import HallConfig
from server.api.deps import DispatcherDep, StaffDep
from server.runtime import Dispatcher
from server.stats import report
from server.stats.monthly import BadMonth, MonthlyNumbers, monthly_numbers, parse_month

router = APIRouter(tags=["stats"])
FILE = re.compile(r"^(?P<month>.+)\.(?P<suffix>pdf|xlsx)$")
MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def hall_now(dispatcher: Dispatcher, config: HallConfig) -> tuple[dt.datetime, dt.date]:
    """The hall's local time and day: the clock's, or the hall's own day when its events are ahead."""
    now = dt.datetime.now(ZoneInfo(config.hall.timezone))
    engine = dispatcher.runtime(config.hall.id).engine
    day = engine.day if engine is not None else None
    return now, max(now.date(), day) if day else now.date()


@router.get(
    "/halls/{hall}/reports/monthly/{month_file}",
    responses={200: {"content": {MEDIA["pdf"]: {}, MEDIA["xlsx"]: {}}}},
    response_class=Response,
)
async def get_monthly_report(hall: str, month_file: str, dispatcher: DispatcherDep, _staff: StaffDep) -> Response:
    """The month's report a sub-centre sends to the city: `2026-11.pdf` or `2026-11.xlsx`."""
    config = dispatcher.runtime(hall).config
    match = FILE.match(month_file)
    if match is None:
        raise HTTPException(
            422, "报表文件应为YYYY-MM.pdf或YYYY-MM.xlsx。 Ask for YYYY-MM.pdf or YYYY-MM.xlsx, e.g. 2026-11.pdf."
        )
    now, today = hall_now(dispatcher, config)
    try:
        month = parse_month(match["month"], today)
    except BadMonth as exc:
        raise HTTPException(422, str(exc)) from None
    numbers = await asyncio.to_thread(monthly_numbers, dispatcher.store, config, month, today, now)
    suffix = match["suffix"]
    body = await asyncio.to_thread(_render, numbers, suffix)
    disposition = f'attachment; filename="{report.file_name(numbers, suffix)}"'
    return Response(body, media_type=MEDIA[suffix], headers={"Content-Disposition": disposition})


def _render(numbers: MonthlyNumbers, suffix: str) -> bytes:
    return report.to_pdf(numbers) if suffix == "pdf" else report.to_xlsx(numbers)
