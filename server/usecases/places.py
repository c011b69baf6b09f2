"""A ticket's live place for the phones (DESIGN.md §13, `GET …/tickets/{id}/events`).

Many phones watch one hall. Each watched ticket has one `Watch`, shared by every stream open on it
(two phones, a reload); a commit of the hall (`dispatcher.on_commit`, in the event loop) schedules
ONE pass over the hall's watched tickets, at most one every `MIN_INTERVAL_S` (a burst of commits is
one pass). The pass runs between two awaits, so it reads the engine as one consistent moment; each
ticket's place costs two O(log n) look-ups (`engine.ahead`), and only the streams whose place changed
are woken. Streams never compute anything: they send what their watch holds.

The event id is `{seq}-{digest}`: the hall's seq when the place was taken and a digest of the place.
A browser that reconnects sends it back as Last-Event-ID; when the digest still matches the place
now, nothing is sent again (the page shows it already) until the next change.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hallq.api_models import TicketPlace
from server.engine.states import UnknownTicket
from server.runtime import Dispatcher, HallRuntime, HallStandby, StoreUnavailable
from server.usecases.tickets import may_read
from server.views import ticket_place

MIN_INTERVAL_S = 0.1  # at most ten passes a second per hall, however busy: a phone sees a call within it
ENDED = frozenset({"done", "cancelled", "expired"})  # nothing will move these any more


def digest(place: TicketPlace) -> str:
    return hashlib.sha256(place.model_dump_json().encode()).hexdigest()[:12]


def digest_of(event_id: str | None) -> str | None:
    """The place digest inside an event id sent back as Last-Event-ID (None: none or not ours)."""
    if not event_id or "-" not in event_id:
        return None
    return event_id.rsplit("-", 1)[1]


@dataclass(eq=False)
class Watch:
    """One watched ticket: its place as last computed, and the wake-up of its streams."""

    hall: str
    ticket_id: str
    place: TicketPlace
    event_id: str
    streams: int = 0
    gone: bool = False  # the ticket left the engine (an old day): its streams end
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ended(self) -> bool:
        return self.gone or self.place.status in ENDED

    def update(self, place: TicketPlace, seq: int) -> None:
        if place == self.place:
            return
        self.place, self.event_id = place, f"{seq}-{digest(place)}"
        self.changed()

    def changed(self) -> None:
        wake, self.wake = self.wake, asyncio.Event()  # a stream that looked before this waits on the old one
        wake.set()


class PlaceFeed:
    """Per hall, the watched tickets; `on_commit` schedules the hall's next pass."""

    def __init__(self, dispatcher: Dispatcher, min_interval_s: float = MIN_INTERVAL_S) -> None:
        self.dispatcher = dispatcher
        self.min_interval_s = min_interval_s
        self._watches: dict[str, dict[str, Watch]] = {}
        self._due: dict[str, asyncio.TimerHandle] = {}
        self._last_pass: dict[str, float] = {}
        self.passes = 0  # how many passes ran (tests and the benchmark read it)

    def watched(self, hall: str) -> int:
        return len(self._watches.get(hall, {}))

    def on_commit(self, hall: str, _seq: int) -> None:
        if not self._watches.get(hall) or hall in self._due:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_pass.get(hall, 0.0) + self.min_interval_s - loop.time())
        self._due[hall] = loop.call_later(delay, self._pass, hall)

    def _pass(self, hall: str) -> None:
        self._due.pop(hall, None)
        self._last_pass[hall] = asyncio.get_running_loop().time()
        self.passes += 1
        runtime = self.dispatcher.runtime(hall)
        for watch in list(self._watches.get(hall, {}).values()):
            _refresh(runtime, watch)

    def open(self, hall: str, ticket_id: str, access: str | None) -> Watch:
        """Start watching a ticket for a citizen holding its access key; 404 / 401 / 403 otherwise."""
        runtime = self.dispatcher.runtime(hall)
        ticket = runtime.live().ticket(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        may_read(None, access, ticket.access)
        watches = self._watches.setdefault(hall, {})
        watch = watches.get(ticket_id)
        if watch is None:
            place = ticket_place(runtime, ticket)
            watch = watches[ticket_id] = Watch(hall, ticket_id, place, f"{runtime.last_seq}-{digest(place)}")
        else:
            _refresh(runtime, watch)
        watch.streams += 1
        return watch

    def close(self, watch: Watch) -> None:
        watch.streams -= 1
        if watch.streams <= 0:
            self._watches.get(watch.hall, {}).pop(watch.ticket_id, None)

    async def places(self, watch: Watch, last_event_id: str | None) -> AsyncIterator[tuple[str, TicketPlace]]:
        """(event id, place) now unless the browser has it already, then after each change; ends after
        the ticket's last change (done, cancelled, expired). Closes the watch when the stream ends."""
        shown = digest_of(last_event_id)
        try:
            while True:
                wake = watch.wake
                if not watch.gone and digest_of(watch.event_id) != shown:
                    shown = digest_of(watch.event_id)
                    yield watch.event_id, watch.place
                    continue  # it may have changed again (and ended) while this one was being sent
                if watch.ended:
                    return
                await wake.wait()
        finally:
            self.close(watch)


def _refresh(runtime: HallRuntime, watch: Watch) -> None:
    try:
        ticket = runtime.live().ticket(watch.ticket_id)
    except (HallStandby, StoreUnavailable):
        return  # the hall is being rebuilt or taken over: the commit after it brings a pass
    if ticket is None:
        watch.gone = True
        watch.changed()
        return
    watch.update(ticket_place(runtime, ticket), runtime.last_seq)
