"""Tickets: issue (kiosk, counter), read (kiosk, phone by access key), cancel, rejoin, evaluate."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from hallq.api_models import IdCard, IssueBody, TicketAnswer
from hallq.evaluation_models import RatingAnswer, RatingBody
from server import pii
from server.auth import CITIZEN_KIOSK_KINDS, Forbidden, Principal, Unauthorized, may_cancel, may_rate
from server.engine import commands as c
from server.engine.states import Action, NotFound, Status, UnknownTicket, next_status
from server.evaluations import usecases as evaluations
from server.evaluations.service import AlreadyRated
from server.notify import tables as notify_tables
from server.runtime import Answer, Dispatcher, HallRuntime, utcnow
from server.usecases.common import audit_entry
from server.views import ticket_view


def new_ticket_id() -> str:
    return secrets.token_hex(8)


def new_access() -> str:
    return secrets.token_urlsafe(9)


def issue_command(
    runtime: HallRuntime, body: IssueBody, principal: Principal, hmac_key: bytes, now: dt.datetime
) -> c.IssueTicket:
    """The engine command for an issue request: the ID card becomes an HMAC and a masked name, and an
    elderly card holder (by the hall's age rule) gets the green channel."""
    priority, reason = body.priority, body.green_reason
    if priority == "green" and reason is None:
        reason = "elderly" if body.id_card else None
    id_hash = masked = None
    if body.id_card is not None:
        today = now.astimezone(runtime.config.hall.tz()).date()
        card = pii.check_id_card(body.id_card.id_number, body.id_card.birth, today)  # 422 when it does not hold
        id_hash = pii.id_hash(hmac_key, card.number)
        masked = pii.mask_name(body.id_card.name)
        # the age is the number's own: a `birth` field that disagrees was refused above
        if priority == "normal" and pii.age_on(card.birth, today) >= runtime.config.priority.elderly_age:
            priority, reason = "green", "elderly"
    return c.IssueTicket(
        service=body.service,
        ticket_id=new_ticket_id(),
        access=new_access(),
        priority=priority,
        green_reason=reason if priority == "green" else None,
        id_hash=id_hash,
        masked_name=masked,
        channel=body.channel,
        device=body.device or (principal.name if principal.kind == "device" else None),
    )


def ticket_answer(ticket_id: str, status: int = 200) -> Any:
    def respond(runtime: HallRuntime, _events: list[Any]) -> Answer:
        ticket = runtime.live().ticket(ticket_id)
        return Answer(status, ticket_view(runtime, ticket) if ticket else None)

    return respond


async def issue(dispatcher: Dispatcher, principal: Principal, hall: str, body: IssueBody, key: str | None) -> Answer:
    """Issue a ticket. With an idempotency key a retry returns the first answer, never a second ticket."""
    runtime = dispatcher.runtime(hall)
    now = utcnow()
    command = issue_command(runtime, body, principal, dispatcher.settings.hmac_key, now)
    idempotency = ("issue", key) if key else None
    inserts = notify_phone_rows(command.ticket_id, body.notify_phone, now)
    return await dispatcher.execute(
        hall, command, ticket_answer(command.ticket_id, 201), idempotency=idempotency, inserts=inserts, now=now
    )


def notify_phone_rows(ticket_id: str, phone: str | None, now: dt.datetime) -> list[tuple[str, dict[str, Any]]]:
    """The phone left for the ticket's messages, written with the ticket (server/notify/tables.py)."""
    if phone is None:
        return []
    return [(notify_tables.notify_phones.name, {"ticket_id": ticket_id, "phone": phone, "created_at": now})]


async def issue_built(
    dispatcher: Dispatcher, hall: str, command: c.IssueTicket, idempotency: tuple[str, str] | None = None
) -> Answer:
    """Issue a ticket whose engine command another area built (an appointment's check-in): the same
    path as a kiosk's ticket, so the board, the voice and the statistics see it like any other."""
    answer = ticket_answer(command.ticket_id, 201)
    return await dispatcher.execute(hall, command, answer, idempotency=idempotency)


def may_read(principal: Principal | None, access: str | None, ticket_access: str) -> None:
    """Staff and devices read any ticket; a citizen only with the access key from the ticket's QR."""
    if principal is not None:
        return
    if access is None:
        raise Unauthorized("需要凭号码上的二维码访问。 Open the link from the ticket's QR code.")
    if not secrets.compare_digest(access, ticket_access):
        raise Forbidden("二维码无效。 The access key does not match this ticket.")


async def read(dispatcher: Dispatcher, principal: Principal | None, hall: str, ticket_id: str,
               access: str | None) -> TicketAnswer:  # fmt: skip
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        ticket = runtime.live().ticket(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        may_read(principal, access, ticket.access)
        return ticket_view(runtime, ticket)


async def by_number(dispatcher: Dispatcher, hall: str, number: str) -> TicketAnswer:
    """Today's ticket with this number (kiosk scanning a ticket's QR, clerk looking one up)."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        ticket = runtime.live().ticket_by_number(number.strip().upper())
        if ticket is None:
            raise UnknownTicket(number)
        return ticket_view(runtime, ticket)


class NothingServedToday(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "今天没有找到您已办结的业务，请扫描号票上的二维码评价。 No ticket of this card was served today."
        )


async def served_by_card(dispatcher: Dispatcher, principal: Principal, hall: str, card: IdCard) -> TicketAnswer:
    """The card holder's ticket served last today: a kiosk's 好差评 by ID card. Kiosks only (the card at
    the reader is the citizen's proof, as the ticket's QR is); the number is compared as its HMAC."""
    if principal.is_user or principal.role not in CITIZEN_KIOSK_KINDS:
        raise Forbidden("只有自助终端可以凭身份证查找办结的号码。 Only a kiosk may look a ticket up by ID card.")
    runtime = dispatcher.runtime(hall)
    today = utcnow().astimezone(runtime.config.hall.tz()).date()
    checked = pii.check_id_card(card.id_number, card.birth, today)  # 422 when it does not hold
    holder = pii.id_hash(dispatcher.settings.hmac_key, checked.number)
    async with runtime.lock:
        served = [t for t in runtime.live().tickets() if t.id_hash == holder and t.status is Status.done]
        if not served:
            raise NothingServedToday()
        latest = max(served, key=lambda t: t.finished_at or t.issued_at)
        return ticket_view(runtime, latest)


async def _served_at(
    dispatcher: Dispatcher, hall: str, ticket_id: str, principal: Principal | None, access: str | None
) -> str | None:
    """Check the caller may see the ticket; the window that served it last (no view is built)."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        ticket = runtime.live().ticket(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        may_read(principal, access, ticket.access)
        return ticket.window


async def cancel(dispatcher: Dispatcher, principal: Principal | None, hall: str, ticket_id: str,
                 access: str | None) -> Answer:  # fmt: skip
    """The citizen (access key, or at a kiosk) or a supervisor cancels a waiting ticket."""
    await _served_at(dispatcher, hall, ticket_id, principal, access)
    may_cancel(principal)
    staff = principal is not None and principal.is_user
    by = principal.name if staff and principal is not None else "citizen"
    audit = audit_entry(principal, "cancel", ticket_id, {}) if staff and principal is not None else []
    return await dispatcher.execute(hall, c.Cancel(ticket_id, by=by), ticket_answer(ticket_id), audit=audit)


async def rejoin(dispatcher: Dispatcher, principal: Principal | None, hall: str, ticket_id: str,
                 access: str | None) -> Answer:  # fmt: skip
    """A citizen who missed their call rejoins the line (within the hall's time limit)."""
    await _served_at(dispatcher, hall, ticket_id, principal, access)
    return await dispatcher.execute(hall, c.Rejoin(ticket_id), ticket_answer(ticket_id))


async def rate(dispatcher: Dispatcher, principal: Principal | None, hall: str, ticket_id: str, access: str | None,
               body: RatingBody, *, window: str | None = None,
               idempotency: tuple[str, str] | None = None) -> tuple[Answer, RatingAnswer]:  # fmt: skip
    """好差评 of a served ticket, once (一次一评): the ticket's QR page (`k`), a kiosk, or the rating device
    of the window that served it (auth.may_rate); `window`: the rating came from that window's device,
    `idempotency`: its request's key, stored with the engine's step so a repeat gets this answer.

    The national record (and a 差评's rectification order) is stored first, in one transaction whose
    unique key refuses a second rating; then the engine marks the ticket rated (its score on the ticket
    and the statistics' `evaluations` row). Returns (the ticket's answer, the rating's answer)."""
    runtime = dispatcher.runtime(hall)
    now = utcnow()
    async with runtime.lock:
        ticket = runtime.live().ticket(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        may_read(principal, access, ticket.access)
        may_rate(principal, ticket.window)
        if window is not None and ticket.window != window:
            raise Forbidden(
                f"该号码不是在 {window} 号窗口办理的，不能在此评价。 The ticket was not served at window {window}."
            )
        next_status(Action.evaluate, ticket.number, ticket.status)  # the engine's own sentence: not served yet
        if ticket.score is not None:
            raise AlreadyRated(ticket.number)
        rated = evaluations.rated_ticket(runtime, ticket)
    channel = evaluations.channel_of(principal, body.channel)
    rating = await evaluations.record_rating(dispatcher, hall, rated, body, channel, now)
    command = c.Evaluate(ticket_id=ticket_id, score=body.score, comment=body.comment)
    answer = await dispatcher.execute(hall, command, ticket_answer(ticket_id), idempotency=idempotency, now=now)
    return answer, rating


async def evaluate(dispatcher: Dispatcher, principal: Principal | None, hall: str, ticket_id: str,
                   access: str | None, body: RatingBody) -> Answer:  # fmt: skip
    """The original route's answer: 200 with the ticket (devices and pages read it as a TicketAnswer)."""
    answer, _rating = await rate(dispatcher, principal, hall, ticket_id, access, body)
    return answer


async def evaluate_rated(dispatcher: Dispatcher, principal: Principal | None, hall: str, ticket_id: str,
                         access: str | None, body: RatingBody) -> Answer:  # fmt: skip
    """§11's answer: 201 {id, score, is_bad, rectification?}."""
    _answer, rating = await rate(dispatcher, principal, hall, ticket_id, access, body)
    return Answer(201, rating)
