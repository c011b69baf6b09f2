"""Serves the pages; each is a static shell whose script reads the public API, so the pages show
exactly what the API allows (a masked name at most) and need no server-side state of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Query, Response
from fastapi.responses import FileResponse, RedirectResponse

from server.api.deps import DispatcherDep
from server.appointments import usecases as appointments

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers=NO_STORE)


@router.get("/t/{hall}/{ticket_id}")
async def ticket_page(hall: str, ticket_id: str) -> FileResponse:
    """The ticket's QR: place in line, estimated wait, rejoin after a missed call, rating after service."""
    return _page("ticket.html")


@router.get("/q/{hall}")
async def phone_queue_page(hall: str) -> FileResponse:
    """线上取号: the services open now, then the ID number; the ticket's own page follows it live."""
    return _page("queue.html")


@router.get("/c/{hall}/{case_id}")
async def case_page(hall: str, case_id: str) -> FileResponse:
    """The receipt's QR: the case's status, what is missing, where and when to collect the result."""
    return _page("case.html")


@router.get("/p/{hall}")
async def prereview_page(hall: str) -> FileResponse:
    """网上预审: the citizen sends an item's materials from the phone before bringing the paper."""
    return _page("prereview.html")


@router.get("/y/{hall}/{bundle_id}")
async def bundle_page(hall: str, bundle_id: str) -> FileResponse:
    """A 一件事's QR: each part's department and state, the one promise, where to collect the result."""
    return _page("bundle.html")


@router.get("/a/{hall}")
async def appointment_page(hall: str) -> FileResponse:
    """预约: services → day → slot (places left) → ID number and phone → the booking with its QR."""
    return _page("appt.html")


@router.get("/a/{hall}/b/{appointment_id}")
async def booking_page(hall: str, appointment_id: str) -> FileResponse:
    """One booking by its key `k`: when to come, its QR for the kiosk, cancel."""
    return _page("appt-booking.html")


@router.get("/a/{hall}/b/{appointment_id}/qr.svg")
async def booking_qr(
    hall: str, appointment_id: str, dispatcher: DispatcherDep, k: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The booking's QR code (SVG), for the holder of its key."""
    body = await appointments.qr_svg(dispatcher, hall, appointment_id, k)
    return Response(body, media_type="image/svg+xml", headers=NO_STORE)


@router.get("/office")
async def office_page() -> FileResponse:
    return _page("office.html")


@router.get("/office/")
async def office_slash() -> RedirectResponse:
    return RedirectResponse("/office")


@router.get("/office/stats")
async def office_stats_page() -> FileResponse:
    """The supervisor's numbers over a date range: charts, tables per window and clerk, exports."""
    return _page("stats.html")


@router.get("/office/live")
async def office_live_page() -> FileResponse:
    """The hall right now, pushed by the server (Server-Sent Events), with its alerts."""
    return _page("live.html")


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    return _static(STATIC, name, max_age=300)


@router.get("/static/vendor/{name}")
async def vendor_file(name: str) -> FileResponse:
    """Third-party scripts shipped in the package (server/web/static/vendor/README.md): no CDN."""
    return _static(STATIC / "vendor", name, max_age=86400)


def _static(folder: Path, name: str, max_age: int) -> FileResponse:
    """A .js or .css file directly in `folder`: the name resolved must stay there (no ../, no links out)."""
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file() or path.suffix not in (".js", ".css"):
        raise HTTPException(404, "没有这个文件 — no such file")
    media = "text/javascript" if path.suffix == ".js" else "text/css"
    headers = {"Cache-Control": f"max-age={max_age}", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=f"{media}; charset=utf-8", headers=headers)


def install(app: FastAPI) -> None:
    app.include_router(router)
