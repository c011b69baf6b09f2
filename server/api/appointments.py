"""预约 over HTTP (DESIGN.md §13): a service's slots, booking (a phone without a token, a kiosk or a clerk
with theirs), the booking by its key `k`, cancel, reschedule, check-in at a kiosk, the day's list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse

from hallq.appointment_models import (
    AppointmentOptions,
    AppointmentView,
    BookingAnswer,
    BookingBody,
    CheckInAnswer,
    CheckInBody,
    IdCheckInBody,
    RescheduleBody,
    SlotView,
)
from server.api.deps import DispatcherDep, IdempotencyKeyDep, OptionalPrincipalDep, PrincipalDep
from server.appointments import usecases as appointments
from server.appointments.service import AppointmentError
from server.appointments.workflow import IllegalAppointmentAction

router = APIRouter(tags=["appointments"])
AccessKey = Annotated[str | None, Query(max_length=64, description="the access key from the booking's answer or QR")]
Day = Annotated[dt.date, Query(alias="date", description="the hall's local day, YYYY-MM-DD")]
Code = Annotated[str, Path(pattern=r"^\d{8}$", description="the booking's 8-digit code")]


@router.get("/halls/{hall}/appointments/options", response_model=AppointmentOptions)
async def options(hall: str, dispatcher: DispatcherDep) -> AppointmentOptions:
    """The booking page's start: the rules, the bookable services and the hall's local today (public)."""
    return await appointments.options(dispatcher, hall)


@router.get("/halls/{hall}/services/{code}/slots", response_model=list[SlotView])
async def service_slots(hall: str, code: str, day: Day, dispatcher: DispatcherDep) -> list[SlotView]:
    """The day's slots not yet started, `[{start, end, capacity, booked}]`; a closed day is `[]`."""
    return await appointments.slots(dispatcher, hall, code, day)


@router.post("/halls/{hall}/appointments", status_code=201, response_model=BookingAnswer)
async def book(
    hall: str, body: BookingBody, request: Request, dispatcher: DispatcherDep, principal: OptionalPrincipalDep,
    key: IdempotencyKeyDep,
) -> BookingAnswer:  # fmt: skip
    """Book a slot: 201 `{id, code, service, start, end, status_url}`; 409 full, already booked or 爽约.
    `Idempotency-Key`: the same request again answers the booking it made."""
    address = request.client.host if request.client else ""
    return await appointments.book(dispatcher, principal, hall, body, address, key)


@router.get("/halls/{hall}/appointments", response_model=list[AppointmentView])
async def day_list(hall: str, day: Day, dispatcher: DispatcherDep, principal: PrincipalDep) -> list[AppointmentView]:
    """The day's bookings for the office (staff only)."""
    return await appointments.day_list(dispatcher, principal, hall, day)


@router.post("/halls/{hall}/appointments/check-in", response_model=CheckInAnswer, status_code=201)
async def check_in_by_card(
    hall: str, body: IdCheckInBody, dispatcher: DispatcherDep, principal: PrincipalDep
) -> CheckInAnswer:
    """Check in by ID card: today's booking of the card's holder becomes a ticket."""
    return await appointments.check_in_by_card(dispatcher, principal, hall, body)


@router.post("/halls/{hall}/appointments/{code}/check-in", response_model=CheckInAnswer, status_code=201)
async def check_in(
    hall: str, code: Code, body: CheckInBody, dispatcher: DispatcherDep, principal: PrincipalDep
) -> CheckInAnswer:
    """Check in by the booking's code: an `appointment` ticket from 30 min before to 15 min after the
    start, a normal one later (the message says so), 409 with the time to come back when too early."""
    return await appointments.check_in(dispatcher, principal, hall, code, body)


@router.get("/halls/{hall}/appointments/{appointment_id}", response_model=AppointmentView)
async def read(
    hall: str, appointment_id: str, dispatcher: DispatcherDep, principal: OptionalPrincipalDep, k: AccessKey = None
) -> AppointmentView:
    """The booking, by its key `k` (the citizen) or a kiosk's or clerk's token."""
    return await appointments.read(dispatcher, principal, hall, appointment_id, k)


@router.post("/halls/{hall}/appointments/{appointment_id}/cancel", response_model=AppointmentView)
async def cancel(
    hall: str, appointment_id: str, dispatcher: DispatcherDep, principal: OptionalPrincipalDep, k: AccessKey = None
) -> AppointmentView:
    """Cancel before the slot starts; the place goes back to the slot."""
    return await appointments.cancel(dispatcher, principal, hall, appointment_id, k)


@router.post("/halls/{hall}/appointments/{appointment_id}/reschedule", status_code=201, response_model=BookingAnswer)
async def reschedule(
    hall: str, appointment_id: str, body: RescheduleBody, dispatcher: DispatcherDep, principal: OptionalPrincipalDep,
    k: AccessKey = None,
) -> BookingAnswer:  # fmt: skip
    """改约: cancel and book the new slot in one transaction; answers the new booking (new code and key)."""
    return await appointments.reschedule(dispatcher, principal, hall, appointment_id, k, body.start)


def install(app: FastAPI) -> None:
    """Add the routes and turn booking errors into `{"detail": sentence}` answers."""
    app.include_router(router, prefix="/api/v1")

    @app.exception_handler(IllegalAppointmentAction)
    async def _illegal(_: Request, exc: IllegalAppointmentAction) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(AppointmentError)
    async def _appointment(_: Request, exc: AppointmentError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)
