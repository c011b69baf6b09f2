"""/office/live's push: the hall's live answer as Server-Sent Events (sse-starlette), and the short-lived
stream ticket an EventSource opens it with (server/stats/stream_tickets.py says why a ticket)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from hallq.stats_models import StreamTicket
from server.api.deps import DispatcherDep, StaffDep, bearer_token
from server.auth import Unauthorized
from server.runtime import Dispatcher
from server.stats.feed import LiveFeed
from server.stats.stream_tickets import BadTicket, Grant, StreamTickets

router = APIRouter(tags=["stats"])
PING_S = 15  # a comment line this often keeps proxies and the browser from calling the stream dead
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy buffering (nginx)


@router.post("/halls/{hall}/stats/live/ticket", response_model=StreamTicket)
async def stream_ticket(hall: str, request: Request, dispatcher: DispatcherDep, _staff: StaffDep) -> StreamTicket:
    """A single-use ticket, valid 30 s, to open `…/stats/live/stream?ticket=` (supervisors and admins)."""
    dispatcher.runtime(hall)  # 404 for a hall this dispatcher does not serve
    tickets: StreamTickets = request.app.state.stream_tickets
    ticket = tickets.issue(hall, bearer_token(request) or "")
    return StreamTicket(
        ticket=ticket,
        expires_in_s=int(tickets.ttl_s),
        stream_url=f"{request.url.path.removesuffix('/ticket')}/stream?ticket={ticket}",
    )


@router.get("/halls/{hall}/stats/live/stream", response_class=EventSourceResponse)
async def live_stream(
    hall: str,
    request: Request,
    dispatcher: DispatcherDep,
    ticket: Annotated[str, Query(max_length=64, description="from POST …/stats/live/ticket")],
) -> EventSourceResponse:
    """`event: live`, `data:` the same JSON as GET …/stats/live, at once and whenever the hall changes
    (at most four a second), and every 15 s regardless; ends when the login does."""
    dispatcher.runtime(hall)
    tickets: StreamTickets = request.app.state.stream_tickets
    try:
        grant = tickets.redeem(hall, ticket)
    except BadTicket as exc:
        raise Unauthorized(str(exc)) from None
    if not await _still_staff(dispatcher, grant):
        raise Unauthorized("登录已失效，请重新登录。 The login this ticket was made for has ended.")
    feed: LiveFeed = request.app.state.live_feed
    return EventSourceResponse(_events(feed, dispatcher, grant), ping=PING_S, headers=STREAM_HEADERS)


async def _events(feed: LiveFeed, dispatcher: Dispatcher, grant: Grant) -> AsyncIterator[ServerSentEvent]:
    async def allowed() -> bool:
        return await _still_staff(dispatcher, grant)

    async for answer in feed.answers(dispatcher, grant.hall, allowed):
        yield ServerSentEvent(data=answer.model_dump_json(), event="live")


async def _still_staff(dispatcher: Dispatcher, grant: Grant) -> bool:
    try:
        principal = await asyncio.to_thread(dispatcher.auth.authenticate, grant.token)
    except Unauthorized:
        return False
    return principal.is_staff


def install(app: FastAPI, prefix: str) -> None:
    app.include_router(router, prefix=prefix)


def attach(app: FastAPI, dispatcher: Dispatcher) -> None:
    """In the app's lifespan: the tickets, and the feed woken by every commit of the dispatcher."""
    app.state.stream_tickets = StreamTickets()
    app.state.live_feed = feed = LiveFeed()
    dispatcher.on_commit.append(feed.on_commit)
