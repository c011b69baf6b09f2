"""The phone's live place in line (DESIGN.md §13): `GET /halls/{hall}/tickets/{id}/events?k=` as
Server-Sent Events (sse-starlette), fed by server/usecases/places.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from server.api.deps import DispatcherDep
from server.runtime import Dispatcher
from server.usecases.places import PlaceFeed, Watch, digest_of

router = APIRouter(tags=["tickets"])
PING_S = 15  # the heartbeat: a comment line this often keeps proxies and the browser from calling it dead
RETRY_MS = 1000  # a browser whose stream broke (a dispatcher restart) tries again after a second
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy buffering (nginx)


@router.get("/halls/{hall}/tickets/{ticket_id}/events", response_class=EventSourceResponse)
async def ticket_events(
    hall: str,
    ticket_id: str,
    request: Request,
    dispatcher: DispatcherDep,
    k: Annotated[str | None, Query(max_length=64, description="the access key from the ticket's QR code")] = None,
    last_event_id: Annotated[str | None, Header(max_length=64, description="sent by a reconnecting browser")] = None,
) -> Response:
    """`event: place`, `data:` a TicketPlace `{status, ahead, estimated_wait_s, window?, window_name?}`,
    `id:` `{seq}-{digest}`: at once, then whenever the ticket's place changes; a heartbeat comment every
    15 s. With `Last-Event-ID` the place is sent at once only if it changed since. The stream ends after
    the ticket's last change (done, cancelled, expired); reconnecting after that answers 204."""
    feed: PlaceFeed = request.app.state.place_feed
    dispatcher.runtime(hall)  # 404 for a hall this dispatcher does not serve
    watch = feed.open(hall, ticket_id, k)
    if watch.ended and digest_of(last_event_id) == digest_of(watch.event_id):
        feed.close(watch)
        return Response(status_code=204)  # the browser has the last word already: it stops reconnecting
    return EventSourceResponse(_events(feed, watch, last_event_id), ping=PING_S, headers=STREAM_HEADERS)


async def _events(feed: PlaceFeed, watch: Watch, last_event_id: str | None) -> AsyncIterator[ServerSentEvent]:
    async for event_id, place in feed.places(watch, last_event_id):
        yield ServerSentEvent(data=place.model_dump_json(), event="place", id=event_id, retry=RETRY_MS)


def install(app: FastAPI, prefix: str) -> None:
    app.include_router(router, prefix=prefix)


def attach(app: FastAPI, dispatcher: Dispatcher) -> None:
    """In the app's lifespan: the feed, woken by every commit of the dispatcher."""
    app.state.place_feed = feed = PlaceFeed(dispatcher)
    dispatcher.on_commit.append(feed.on_commit)
