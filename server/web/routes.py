"""Serves the pages; each is a static shell whose script reads the public API, so the pages show
exactly what the API allows (a masked name at most) and need no server-side state of their own."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers=NO_STORE)


@router.get("/t/{hall}/{ticket_id}")
async def ticket_page(hall: str, ticket_id: str) -> FileResponse:
    """The ticket's QR: place in line, estimated wait, rejoin after a missed call, rating after service."""
    return _page("ticket.html")


@router.get("/c/{hall}/{case_id}")
async def case_page(hall: str, case_id: str) -> FileResponse:
    """The receipt's QR: the case's status, what is missing, where and when to collect the result."""
    return _page("case.html")


@router.get("/office")
async def office_page() -> FileResponse:
    return _page("office.html")


@router.get("/office/")
async def office_slash() -> RedirectResponse:
    return RedirectResponse("/office")


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if path.parent != STATIC or not path.is_file() or path.suffix not in (".js", ".css"):
        from fastapi import HTTPException

        raise HTTPException(404, "没有这个文件 — no such file")
    media = "text/javascript" if path.suffix == ".js" else "text/css"
    return FileResponse(path, media_type=f"{media}; charset=utf-8", headers={"Cache-Control": "max-age=300"})


def install(app: FastAPI) -> None:
    app.include_router(router)
