"""Tickets over HTTP: issue (kiosk, counter), read (kiosk, phone by access key), cancel, rejoin, evaluate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hallq.api_models import CardBody, IssueBody, PhoneTicketBody, TicketAnswer
from hallq.evaluation_models import RatingBody
from server.api.deps import DispatcherDep, IdempotencyKeyDep, OptionalPrincipalDep, PrincipalDep
from server.api.replies import reply, typed
from server.usecases import phone_tickets, tickets

router = APIRouter(tags=["tickets"])
AccessKey = Annotated[str | None, Query(max_length=64, description="the access key from the ticket's QR code")]


@router.post("/halls/{hall}/tickets", status_code=201, response_model=TicketAnswer)
async def issue_ticket(
    hall: str, body: IssueBody, dispatcher: DispatcherDep, principal: PrincipalDep, key: IdempotencyKeyDep
) -> Response:
    """Issue a ticket. `Idempotency-Key`: a retry returns the first answer, never a second ticket."""
    return reply(await tickets.issue(dispatcher, principal, hall, body, key))


@router.post("/halls/{hall}/phone-tickets", status_code=201, response_model=TicketAnswer)
async def take_phone_ticket(
    hall: str, body: PhoneTicketBody, request: Request, dispatcher: DispatcherDep, key: IdempotencyKeyDep
) -> Response:
    """线上取号 from the phone page (no token), where the hall allows it: the kiosk's rules and limits, channel
    `phone`; 403 when the hall takes no phone tickets, 429 over the address's limit. `Idempotency-Key` honoured."""
    address = request.client.host if request.client else ""
    return reply(await phone_tickets.take(dispatcher, hall, body, address, key))


@router.get("/halls/{hall}/tickets/by-number/{number}", response_model=TicketAnswer)
async def ticket_by_number(hall: str, number: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    """Today's ticket with this number (kiosk scanning a ticket's QR, clerk looking one up)."""
    return typed(await tickets.by_number(dispatcher, hall, number))


@router.post("/halls/{hall}/tickets/served-by-card", response_model=TicketAnswer)
async def served_by_card(hall: str, body: CardBody, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    """The card holder's ticket served last today, for 好差评 at the kiosk (kiosks only); 404 if none."""
    return typed(await tickets.served_by_card(dispatcher, principal, hall, body.id_card))


@router.get("/halls/{hall}/tickets/{ticket_id}", response_model=TicketAnswer)
async def get_ticket(
    hall: str, ticket_id: str, dispatcher: DispatcherDep, principal: OptionalPrincipalDep, k: AccessKey = None
) -> Response:
    """Status, position and estimate; phones pass the ticket's access key as `k`."""
    return typed(await tickets.read(dispatcher, principal, hall, ticket_id, k))


@router.post("/halls/{hall}/tickets/{ticket_id}/cancel", response_model=TicketAnswer)
async def cancel_ticket(
    hall: str, ticket_id: str, dispatcher: DispatcherDep, principal: OptionalPrincipalDep, k: AccessKey = None
) -> Response:
    """The citizen (access key, or at a kiosk) or a supervisor cancels a waiting ticket."""
    return reply(await tickets.cancel(dispatcher, principal, hall, ticket_id, k))


@router.post("/halls/{hall}/tickets/{ticket_id}/rejoin", response_model=TicketAnswer)
async def rejoin_ticket(
    hall: str, ticket_id: str, dispatcher: DispatcherDep, principal: OptionalPrincipalDep, k: AccessKey = None
) -> Response:
    """A citizen who missed their call rejoins the line (within the hall's time limit)."""
    return reply(await tickets.rejoin(dispatcher, principal, hall, ticket_id, k))


@router.post("/halls/{hall}/tickets/{ticket_id}/evaluation", response_model=TicketAnswer)
async def evaluate_ticket(
    hall: str,
    ticket_id: str,
    body: RatingBody,
    dispatcher: DispatcherDep,
    principal: OptionalPrincipalDep,
    k: AccessKey = None,
) -> Response:
    """好差评: the citizen rates the service 1..5 once, on the window's evaluator or the phone; answers the
    ticket (200). §11's answer (201 {id, score, is_bad, rectification?}) is POST /halls/{hall}/evaluations."""
    return reply(await tickets.evaluate(dispatcher, principal, hall, ticket_id, k, body))
