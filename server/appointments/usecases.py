"""What a 预约 request means (DESIGN.md §13): who may book, read, cancel and check in, and how a check-in
becomes a ticket through the queue's own issue path (server/usecases/tickets.py).

The service's calls touch the database: they run in a worker thread, never on the event loop. The
clock is this module's `utcnow`, so a test can move the booking's clock without moving the engine's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref

from hallq.api_models import TicketAnswer
from hallq.appointment_models import (
    AppointmentOptions,
    AppointmentView,
    BookingAnswer,
    BookingBody,
    CheckInAnswer,
    CheckInBody,
    IdCheckInBody,
    SlotView,
)
from server import pii
from server.appointments import qr
from server.appointments.service import AppointmentService
from server.appointments.throttle import BookingThrottle
from server.auth import Forbidden, Principal
from server.engine import commands as c
from server.runtime import Dispatcher, utcnow
from server.usecases import tickets

BOOKING_DEVICES = frozenset({"kiosk", "bridge"})  # a kiosk books and checks in for the citizen at it
_halls: weakref.WeakKeyDictionary[Dispatcher, dict[str, tuple[AppointmentService, BookingThrottle]]] = (
    weakref.WeakKeyDictionary()
)


def _for(dispatcher: Dispatcher, hall: str) -> tuple[AppointmentService, BookingThrottle]:
    halls = _halls.setdefault(dispatcher, {})
    if hall not in halls:
        config = dispatcher.runtime(hall).config
        service = AppointmentService(dispatcher.store.engine, config, dispatcher.settings.hmac_key)
        halls[hall] = (service, BookingThrottle(config.appointments))
    return halls[hall]


def service_for(dispatcher: Dispatcher, hall: str) -> AppointmentService:
    """The hall's appointment service (one per dispatcher and hall, made on first use)."""
    return _for(dispatcher, hall)[0]


def _desk(principal: Principal | None) -> str:
    """The channel a booking comes from; a token must be a kiosk's or a front-desk login's."""
    if principal is None:
        return "phone"
    _not_a_department(principal)
    if principal.is_user:
        return "counter"
    if principal.role in BOOKING_DEVICES:
        return "kiosk"
    raise Forbidden(f"设备 {principal.name}（{principal.role}）不能办理预约。 A {principal.role} device may not book.")


def status_url(service: AppointmentService, appointment_id: str, access: str) -> str:
    base = service.config.hall.status_base_url.rstrip("/")
    return f"{base}/a/{service.hall}/b/{appointment_id}?k={access}"


async def options(dispatcher: Dispatcher, hall: str) -> AppointmentOptions:
    return AppointmentOptions.model_validate(service_for(dispatcher, hall).options(utcnow()))


async def slots(dispatcher: Dispatcher, hall: str, code: str, day: dt.date) -> list[SlotView]:
    service = service_for(dispatcher, hall)
    found = await asyncio.to_thread(service.slots, code, day, utcnow())
    return [SlotView.model_validate(s) for s in found]


async def book(
    dispatcher: Dispatcher, principal: Principal | None, hall: str, body: BookingBody, address: str,
    key: str | None = None,
) -> BookingAnswer:  # fmt: skip
    """A phone (no token: counted per address and per person), a kiosk or a clerk books a slot."""
    channel = _desk(principal)
    service, throttle = _for(dispatcher, hall)
    now = utcnow()
    if body.id_card is not None:  # a card read: its printed birth date must agree with the number
        pii.check_id_card(body.id_card.id_number, body.id_card.birth, service.local_date(now))
    if principal is None:
        throttle.admit_address(address)
        throttle.admit_person(service.person(body.raw_id_number(), now))
    row = await asyncio.to_thread(
        service.book, body.service, body.start, body.raw_id_number(), body.phone, channel, now, key
    )
    return _booked(service, row)


def _booked(service: AppointmentService, row: dict[str, object]) -> BookingAnswer:
    answer = {**row, "status_url": status_url(service, str(row["id"]), str(row["access"]))}
    return BookingAnswer.model_validate(answer)


async def _keyed(
    dispatcher: Dispatcher, principal: Principal | None, hall: str, appointment_id: str, access: str | None
) -> AppointmentService:
    """Staff and kiosks reach any booking; the citizen only with its key `k`."""
    service = service_for(dispatcher, hall)
    if principal is None:
        await asyncio.to_thread(service.check_access, appointment_id, access)
    else:
        _desk(principal)
    return service


async def read(
    dispatcher: Dispatcher, principal: Principal | None, hall: str, appointment_id: str, access: str | None
) -> AppointmentView:
    service = await _keyed(dispatcher, principal, hall, appointment_id, access)
    return AppointmentView.model_validate(await asyncio.to_thread(service.view, appointment_id, utcnow()))


async def cancel(
    dispatcher: Dispatcher, principal: Principal | None, hall: str, appointment_id: str, access: str | None
) -> AppointmentView:
    service = await _keyed(dispatcher, principal, hall, appointment_id, access)
    view = AppointmentView.model_validate(await asyncio.to_thread(service.cancel, appointment_id, utcnow()))
    await _audit(dispatcher, principal, hall, "appointment.cancel", appointment_id)
    return view


async def reschedule(
    dispatcher: Dispatcher, principal: Principal | None, hall: str, appointment_id: str, access: str | None,
    start: dt.datetime,
) -> BookingAnswer:  # fmt: skip
    """改约: the old booking cancelled and the new slot taken in one transaction (a new id, code and key)."""
    service = await _keyed(dispatcher, principal, hall, appointment_id, access)
    row = await asyncio.to_thread(service.reschedule, appointment_id, start, utcnow())
    await _audit(dispatcher, principal, hall, "appointment.reschedule", appointment_id)
    return _booked(service, row)


async def _audit(dispatcher: Dispatcher, principal: Principal | None, hall: str, action: str, target: str) -> None:
    """A staff login cancelling or moving a citizen's booking is a privileged action (DESIGN.md §6)."""
    if principal is not None and principal.is_user:
        await asyncio.to_thread(dispatcher.audit_log.write, hall, principal.actor, principal.role, action, target, {})


async def qr_svg(dispatcher: Dispatcher, hall: str, appointment_id: str, access: str | None) -> bytes:
    """The booking's QR (its page's address with the key) for the holder of the key only."""
    service = service_for(dispatcher, hall)
    await asyncio.to_thread(service.check_access, appointment_id, access)
    return qr.svg(status_url(service, appointment_id, access or ""))


def _not_a_department(principal: Principal) -> None:
    """Bookings are the front desk's: a department's back-office login neither sees nor handles them."""
    if principal.is_user and not principal.is_front_desk:
        raise Forbidden(
            "预约由大厅窗口和值班主任办理，部门后台账号不能查看或办理。 Bookings are for the hall's front desk."
        )


def _check_in_desk(principal: Principal) -> None:
    _not_a_department(principal)
    if principal.is_user or principal.role in BOOKING_DEVICES:
        return
    raise Forbidden(f"设备 {principal.name}（{principal.role}）不能签到，请在自助取号机上签到。 Check in at a kiosk.")


async def check_in(
    dispatcher: Dispatcher, principal: Principal, hall: str, code: str, body: CheckInBody
) -> CheckInAnswer:
    """By the booking's code (typed, or read from its QR) at a kiosk or a counter."""
    _check_in_desk(principal)
    service = service_for(dispatcher, hall)
    appointment_id = await asyncio.to_thread(service.by_code, code)
    return await _check_in(dispatcher, principal, hall, service, appointment_id, body.device)


async def check_in_by_card(
    dispatcher: Dispatcher, principal: Principal, hall: str, body: IdCheckInBody
) -> CheckInAnswer:
    """By ID card at a kiosk: today's booking of the card's holder."""
    _check_in_desk(principal)
    service = service_for(dispatcher, hall)
    now = utcnow()
    card = pii.check_id_card(body.id_card.id_number, body.id_card.birth, service.local_date(now))
    id_hash = pii.id_hash(dispatcher.settings.hmac_key, card.number)
    appointment_id = await asyncio.to_thread(service.todays_booking, id_hash, now)
    return await _check_in(dispatcher, principal, hall, service, appointment_id, body.device)


async def _check_in(
    dispatcher: Dispatcher, principal: Principal, hall: str, service: AppointmentService, appointment_id: str,
    device: str | None,
) -> CheckInAnswer:  # fmt: skip
    """Claim the booking, issue its ticket through the queue, and tie the two; a ticket the queue
    refuses (closed, quota) gives the booking back, so the citizen can try again."""
    now = utcnow()
    claimed, on_time = await asyncio.to_thread(service.claim, appointment_id, now)
    command = c.IssueTicket(
        service=claimed.service,
        ticket_id=tickets.new_ticket_id(),
        access=tickets.new_access(),
        priority="appointment" if on_time else "normal",
        id_hash=claimed.id_hash,
        channel="appointment",
        device=device or (principal.name if principal.kind == "device" else None),
    )
    try:  # one ticket per booking, whatever retries or restarts happen: the booking is the key
        answer = await tickets.issue_built(dispatcher, hall, command, ("appointment", appointment_id))
    except Exception:
        await asyncio.to_thread(service.unclaim, appointment_id, utcnow())
        raise
    ticket = TicketAnswer.model_validate(answer.json_body())
    await asyncio.to_thread(service.attach_ticket, appointment_id, ticket.id, utcnow())
    message = _sentence(service, claimed.start, on_time, ticket)
    return CheckInAnswer(appointment=appointment_id, on_time=on_time, message=message, ticket=ticket)


def _sentence(service: AppointmentService, start: dt.datetime, on_time: bool, ticket: TicketAnswer) -> str:
    if on_time:
        return (
            f"签到成功，您的号码是 {ticket.number}（预约优先），请留意叫号。"
            f" Checked in: ticket {ticket.number} is called first."
        )
    late = service.margins.late.seconds // 60
    at = start.astimezone(service.config.hall.tz())
    return (
        f"您已超过预约时间（{at:%H:%M}）{late}分钟以上，已为您取普通号 {ticket.number}，请按顺序等候。"
        f" Checked in late: ticket {ticket.number} is a normal one."
    )


async def day_list(dispatcher: Dispatcher, principal: Principal, hall: str, day: dt.date) -> list[AppointmentView]:
    """The office's list of a day's bookings (front-desk logins only: masked phones, never an ID number)."""
    if not principal.is_user:
        raise Forbidden("预约名单仅限工作人员查看。 Staff only.")
    _not_a_department(principal)
    service = service_for(dispatcher, hall)
    found = await asyncio.to_thread(service.day_list, day, utcnow())
    return [AppointmentView.model_validate(v) for v in found]
