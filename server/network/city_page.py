"""The hub's page: `/city` (every hall live, rankings, monthly reports), a static shell whose script
reads the hub's staff API (server/network/city_api.py), and the few files it needs from
server/web/static (the staff login shell, the styles, the vendored ECharts): named one by one, so
the hub serves no hall page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
router = APIRouter(include_in_schema=False)
FILES = {
    "common.js": "text/javascript",
    "staff.js": "text/javascript",
    "city.js": "text/javascript",
    "style.css": "text/css",
    "staff.css": "text/css",
    "city.css": "text/css",
    "vendor/echarts.min.js": "text/javascript",
}


@router.get("/city")
async def city_page() -> FileResponse:
    """The city's supervisors: every hall now, by level, rankings, each hall's monthly report."""
    return FileResponse(STATIC / "city.html", media_type="text/html; charset=utf-8", headers=NO_STORE)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/city")


@router.get("/static/{name:path}")
async def static_file(name: str) -> FileResponse:
    media = FILES.get(name)
    if media is None:
        raise HTTPException(404, "no such file at the hub")
    return FileResponse(STATIC / name, media_type=f"{media}; charset=utf-8", headers={"Cache-Control": "max-age=300"})
