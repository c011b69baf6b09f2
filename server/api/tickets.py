"""Tickets: issue (kiosk, counter), read (kiosk, phone by access key), cancel, rejoin, evaluate."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from server import pii
from server.api.deps import DispatcherDep, IdempotencyKeyDep, OptionalPrincipalDep, PrincipalDep
from server.auth import Forbidden, Principal, Unauthorized, may_cancel, may_rate
from server.engine import commands as c
from server.engine.states import UnknownTicket
from server.runtime import Answer, HallRuntime, utcnow
from server.store.snapshots import ticket_view

router = APIRouter(tags=["tickets"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdCard(Body):
    """As read by the kiosk's card reader. Only an HMAC of the number and the masked name are kept."""

    id_number: str = Field(min_length=15, max_length=18)
    name: str = Field(min_length=1, max_length=40)
    birth: str = Field(pattern=r"^\d{8}$", description="YYYYMMDD")


class IssueBody(Body):
    service: str = Field(min_length=1, max_length=4)
    priority: Literal["normal", "green"] = "normal"
    green_reason: Literal["elderly", "disabled", "pregnant", "military"] | None = None
    id_card: IdCard | None = None
    channel: Literal["kiosk", "counter", "phone", "appointment"] = "kiosk"
    device: str | None = Field(None, max_length=48)


class EvaluationBody(Body):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=500)


def new_ticket_id() -> str:
    return secrets.token_hex(8)


def new_access() -> str:
    return secrets.token_urlsafe(9)


def issue_command(runtime: HallRuntime, body: IssueBody, principal: Principal, hmac_key: bytes,
                  now: dt.datetime) -> c.IssueTicket:  # fmt: skip
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


def _issued(ticket_id: str) -> Any:
    def respond(runtime: HallRuntime, _events: list[Any]) -> Answer:
        ticket = runtime.live().ticket(ticket_id)
        assert ticket is not None  # the engine just issued it
        return Answer(201, ticket_view(runtime, ticket))

    return respond


@router.post("/halls/{hall}/tickets", status_code=201)
async def issue_ticket(
    hall: str,
    body: IssueBody,
    response: Response,
    dispatcher: DispatcherDep,
    principal: PrincipalDep,
    key: IdempotencyKeyDep,
) -> Any:
    """Issue a ticket. `Idempotency-Key`: a retry returns the first answer, never a second ticket."""
    runtime = dispatcher.runtime(hall)
    now = utcnow()
    command = issue_command(runtime, body, principal, dispatcher.settings.hmac_key, now)
    answer = await dispatcher.execute(
        hall, command, _issued(command.ticket_id), idempotency=("issue", key) if key else None, now=now
    )
    response.status_code = answer.status_code
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.body


def _may_read(principal: Principal | None, access: str | None, ticket_access: str) -> None:
    if principal is not None:
        return
    if access is None:
        raise Unauthorized("需要凭号码上的二维码访问。 Open the link from the ticket's QR code.")
    if not secrets.compare_digest(access, ticket_access):
        raise Forbidden("二维码无效。 The access key does not match this ticket.")


@router.get("/halls/{hall}/tickets/by-number/{number}")
async def ticket_by_number(hall: str, number: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    """Today's ticket with this number (kiosk scanning a ticket's QR, clerk looking one up)."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        ticket = runtime.live().ticket_by_number(number.strip().upper())
        if ticket is None:
            raise UnknownTicket(number)
        return ticket_view(runtime, ticket)


@router.get("/halls/{hall}/tickets/{ticket_id}")
async def get_ticket(
    hall: str,
    ticket_id: str,
    dispatcher: DispatcherDep,
    principal: OptionalPrincipalDep,
    k: Annotated[str | None, Query(max_length=64, description="the access key from the QR code")] = None,
) -> Any:
    """Status, position and estimate; phones pass the ticket's access key as `k`."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        ticket = runtime.live().ticket(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        _may_read(principal, k, ticket.access)
        return ticket_view(runtime, ticket)


def _ticket_answer(ticket_id: str, status: int = 200) -> Any:
    def respond(runtime: HallRuntime, _events: list[Any]) -> Answer:
        ticket = runtime.live().ticket(ticket_id)
        return Answer(status, ticket_view(runtime, ticket) if ticket else None)

    return respond


async def _citizen_or_staff(dispatcher: DispatcherDep, hall: str, ticket_id: str, principal: Principal | None,
                            k: str | None) -> str | None:  # fmt: skip
    """Check the caller may see the ticket; the window that served it last (for the rating rule)."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        ticket = runtime.live().ticket(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        _may_read(principal, k, ticket.access)
        return ticket.window


@router.post("/halls/{hall}/tickets/{ticket_id}/cancel")
async def cancel_ticket(
    hall: str,
    ticket_id: str,
    dispatcher: DispatcherDep,
    principal: OptionalPrincipalDep,
    k: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    """The citizen (access key, or at a kiosk) or a supervisor cancels a waiting ticket."""
    await _citizen_or_staff(dispatcher, hall, ticket_id, principal, k)
    may_cancel(principal)
    by = principal.name if principal is not None and principal.is_user else "citizen"
    audit = []
    if principal is not None and principal.is_user:
        audit = [{"actor": principal.actor, "role": principal.role, "action": "cancel", "target": ticket_id,
                  "detail": {}}]  # fmt: skip
    answer = await dispatcher.execute(hall, c.Cancel(ticket_id, by=by), _ticket_answer(ticket_id), audit=audit)
    return answer.body


@router.post("/halls/{hall}/tickets/{ticket_id}/rejoin")
async def rejoin_ticket(
    hall: str,
    ticket_id: str,
    dispatcher: DispatcherDep,
    principal: OptionalPrincipalDep,
    k: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    """A citizen who missed their call rejoins the line (within the hall's time limit)."""
    await _citizen_or_staff(dispatcher, hall, ticket_id, principal, k)
    answer = await dispatcher.execute(hall, c.Rejoin(ticket_id), _ticket_answer(ticket_id))
    return answer.body


@router.post("/halls/{hall}/tickets/{ticket_id}/evaluation")
async def evaluate_ticket(
    hall: str,
    ticket_id: str,
    body: EvaluationBody,
    dispatcher: DispatcherDep,
    principal: OptionalPrincipalDep,
    k: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    """好差评: the citizen rates the service 1..5 once: the ticket's QR page (`k`), a kiosk, or the
    evaluator / terminal rating screen of the window that served it (their device token). Never a staff
    login, never another device."""
    served_at = await _citizen_or_staff(dispatcher, hall, ticket_id, principal, k)
    may_rate(principal, served_at)
    command = c.Evaluate(ticket_id=ticket_id, score=body.score, comment=body.comment)
    answer = await dispatcher.execute(hall, command, _ticket_answer(ticket_id))
    return answer.body
