"""The outbox publisher: the dispatcher's events (with their gap-free `seq`) → MQTT (DESIGN.md 4, 5).

For each hall this dispatcher serves:

- every committed command wakes the publisher (`dispatcher.on_commit`); it drains the unpublished
  events in seq order: each call / recall becomes a `calls` message (QoS 1), then the retained `board`
  snapshot and every `windows/{window}` whose state changed are published;
- events are marked published only after the broker acknowledged them (PUBACK). While the broker
  is away paho keeps the QoS 1 messages queued and sends them after the reconnect (they are never
  republished here on `MQTT_ERR_NO_CONN`: that would duplicate them); a crash before the mark means
  the next start publishes them again, so subscribers dedupe by seq (hallq.seqtrack);
- on every (re)connect to the broker, every retained topic (board, all windows, dispatcher/status)
  is published again, so a broker restarted with no memory is right again at once;
- the HTTP side never waits for MQTT: the dispatcher keeps issuing and calling while the broker is
  down, and the publisher catches up when it returns.

`run_bus(dispatcher, mqtt_url=..., embedded_port=...)` is what `server/app.py` enters at start: the
embedded broker when no URL is configured, then one `HallBus` (bus client + publisher + window
command server) per hall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hallq.broker import EmbeddedBroker
from hallq.bus import DISPATCHER_KIND, BusClient, PublishHandle, asyncio_dispatch
from hallq.contract import CallMessage, Topics
from server.outbox_marks import OutboxMarks
from server.store.handed import HandedRows
from server.views import HallView, WindowLine

if TYPE_CHECKING:
    from server.store import EventRow
    from server.usecases.bus import BusPort

log = logging.getLogger(__name__)

CALL_EVENT = "ticket_called"
HANDED_ROWS = 5000  # committed rows kept for the publisher; more than that waiting: it reads the database
BATCH = 500
ACK_PATIENCE_S = 60.0  # connected this long without a PUBACK: publish the batch again
RETRY_S = (1.0, 30.0)  # backoff after a store error or refused messages
MARK_EVERY_S = 0.5
RECENT_SNAPSHOTS = 256


CALL_FIELDS = ("type", "window", "window_name", "service", "service_name", "priority", "at", "announce")


def call_message(row: EventRow) -> CallMessage:
    """The `calls` payload of a ticket_called row: the engine's TicketCalled event as stored, every
    field present (a row that lacks one is refused with KeyError, never filled in with a guess)."""
    data = row.payload
    return CallMessage(seq=row.seq, ticket=data["number"], **{name: data[name] for name in CALL_FIELDS})


class Publisher:
    """Drains one hall's outbox to the bus. Runs as an asyncio task in the dispatcher's loop."""

    def __init__(
        self, dispatcher: BusPort, hall: str, bus: BusClient, batch: int = BATCH, marks: OutboxMarks | None = None
    ) -> None:
        self.dispatcher = dispatcher
        self._marks = marks  # shared by the dispatcher's halls (run_bus); made on first use otherwise
        self.hall = hall
        self.bus = bus
        self.topics = Topics(hall)
        self.batch = batch
        self._wake = asyncio.Event()
        self._republish_all = True
        self._published_windows: dict[str, WindowLine] = {}
        self._task: asyncio.Task[None] | None = None
        self._mark_task: asyncio.Task[None] | None = None
        self._recent: OrderedDict[int, HallView] = OrderedDict()
        self._sealed: dict[int, HallView] = {}  # taken as a batch went to the database, until it is back
        self._acked_seq = 0  # highest seq the broker acknowledged (this run)
        self.published_seq = 0  # highest seq marked published in the store
        # Rows the dispatcher just committed, handed over so the usual case reads no database.
        self._handed = HandedRows(HANDED_ROWS)

    # --- control ---------------------------------------------------------------------------------

    def notify(self, _hall: str | None = None, seq: int | None = None) -> None:
        """Wake the publisher; called in the event loop right after each commit (dispatcher.on_commit)."""
        if seq is not None:
            try:
                self.remember_snapshot(seq)
            except Exception:
                log.exception("MQTT publisher (%s): snapshot at seq %s failed", self.hall, seq)
        self._wake.set()

    def take_rows(self, _hall: str, rows: list[EventRow]) -> None:
        """The rows of a commit, in the event loop right after it (before `notify`)."""
        self._handed.add(rows)

    def _handed_after(self, seq: int) -> list[EventRow] | None:
        """The next rows after `seq` from what was handed over, when they run without a gap up to the
        newest commit (or fill a batch); None when only the database knows them (a start, a take-over,
        a publisher far behind)."""
        rows = self._handed.run_after(seq, self.batch)
        if not rows:
            return None
        return rows if len(rows) == self.batch or rows[-1].seq == self._handed.newest else None

    def broker_connected(self, connected: bool) -> None:
        if connected:
            self._republish_all = True  # the broker may have lost its retained messages
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"publisher-{self.hall}")

    async def stop(self) -> None:
        for task in (self._task, self._mark_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.mark_now(at_once=True)

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = RETRY_S[0]
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
                delay = RETRY_S[0]
            except asyncio.CancelledError:
                raise
            except _Refused as exc:
                self._republish_all = True  # the windows thought sent may not have been: send them all
                log.error("MQTT publisher (%s): %s; retrying in %.0f s", self.hall, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_S[1])
                self._wake.set()
            except Exception:
                self._republish_all = True
                log.exception("MQTT publisher (%s) failed; retrying in %.0f s", self.hall, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_S[1])
                self._wake.set()

    async def _drain(self) -> None:
        runtime = self.dispatcher.runtime(self.hall)
        if not runtime.active:
            self._handed.clear()  # what another dispatcher commits meanwhile is never handed over
            return  # another dispatcher holds the hall; on take-over a commit notification wakes us
        while True:
            # Committed rows need no lock. The snapshot published after them must be the hall at
            # exactly the last row's seq (so no subscriber sees a board ahead of the calls it has):
            # it comes from the snapshot sealed as its batch went to the database, else it is built under
            # the hall's lock (a start, a take-over, a publisher far behind).
            handed = self._handed_after(self._acked_seq) if self._acked_seq else None
            rows = handed if handed is not None else await asyncio.to_thread(self._fetch)
            complete = len(rows) < self.batch
            last = rows[-1].seq if rows else self._acked_seq
            snapshot = None
            if complete:
                snapshot = self._recent.get(last)
                if snapshot is None:
                    async with runtime.lock:  # no command is handled meanwhile
                        settled = not runtime.committing  # then nothing commits meanwhile either
                        rows += await asyncio.to_thread(self._fetch_rest, last if rows or self._acked_seq else None)
                        # A batch on its way to the disk is in the engine already: its commit brings the
                        # board sealed with it (and wakes this loop), so none is taken now.
                        snapshot = self._take_snapshot() if settled else None
            everything = self._republish_all and snapshot is not None
            handles = [self.bus.publish(self.topics.calls, msg) for msg in self._call_messages(rows)]
            if snapshot is not None:
                handles += [self.bus.publish(t, p, retain=True) for t, p in self._retained(snapshot, everything)]
            if everything:
                self._republish_all = False
                handles.append(self.bus.publish_status(True))
            await self._acknowledged(handles)
            if rows:
                self._acked_seq = max(self._acked_seq, rows[-1].seq)
                self._forget_published()
                self._schedule_mark()
                log.debug("MQTT publisher (%s): published up to seq %d", self.hall, self._acked_seq)
            if complete:
                return

    def _forget_published(self) -> None:
        """Drop the snapshots and handed rows the broker has acknowledged: only later ones are ever
        looked up. Kept, they were 256 boards and 5 000 rows per hall (hundreds of MB for 200 halls)."""
        while self._recent and next(iter(self._recent)) <= self._acked_seq:
            self._recent.popitem(last=False)
        self._handed.drop_through(self._acked_seq)

    # --- outbox reads and marks --------------------------------------------------------------------

    def _fetch(self) -> list[EventRow]:
        """The next unpublished events. Once this publisher has had PUBACKs, everything after them is
        unpublished (one publisher per hall), which also covers acked events not yet marked."""
        if self._acked_seq:
            return self._fetch_after(self._acked_seq, self.batch)
        return list(self.dispatcher.store.fetch_unpublished(self.hall, self.batch))

    def _fetch_after(self, seq: int, limit: int) -> list[EventRow]:
        return list(self.dispatcher.store.events_since(self.hall, seq, limit))

    def _fetch_rest(self, after: int | None) -> list[EventRow]:
        """Everything unpublished after `after` (None: nothing fetched yet this run)."""
        if after is None:
            return list(self.dispatcher.store.fetch_unpublished(self.hall, 1_000_000))
        return self._fetch_after(after, 1_000_000)

    def _schedule_mark(self) -> None:
        # Marking is a database write (an fsync): done at most every MARK_EVERY_S, not per batch. A
        # crash before it only means those events are published again, and subscribers dedupe by seq.
        if self._mark_task is None or self._mark_task.done():
            self._mark_task = asyncio.create_task(self._mark_later())

    async def _mark_later(self) -> None:
        """Mark until everything acknowledged is marked: events acknowledged while a mark was under
        way (on SQLite it waits for the burst's commits) or a mark that failed get the next round,
        instead of waiting for the next event to come. Each mark waits for the shared round
        (MARK_EVERY_S), so no sleep of its own unless the store refused."""
        delay = 0.0
        while True:
            if delay:
                await asyncio.sleep(delay)
            marked = await self.mark_now()
            if self._acked_seq <= self.published_seq:
                return
            delay = 0.0 if marked else min(max(delay * 2, RETRY_S[0]), RETRY_S[1])

    async def mark_now(self, *, at_once: bool = False) -> bool:
        """Mark what the broker acknowledged, with the other halls' marks of the round (`at_once`:
        without waiting for it); False when the store refused (the caller retries)."""
        seq = self._acked_seq
        if seq > self.published_seq:
            if self._marks is None:
                self._marks = OutboxMarks(self.dispatcher.store, MARK_EVERY_S)
            try:
                await self._marks.mark(self.hall, seq, at_once=at_once)
            except Exception:
                log.exception("MQTT publisher (%s): cannot mark events up to %d published; will retry", self.hall, seq)
                return False
            self.published_seq = max(self.published_seq, seq)
        return True

    # --- snapshots ------------------------------------------------------------------------------------

    def seal(self, _hall: str, seq: int) -> None:
        """A batch goes to the database (dispatcher.on_seal): the hall now is the hall at its last event
        `seq`. Taken when the commit is back, it would also show the commands handled meanwhile, whose
        own commit is still on the disk (and may fail)."""
        if not self.dispatcher.runtime(self.hall).active:
            return
        try:
            self._sealed[seq] = self._take_snapshot(seq)
        except Exception:
            log.exception("MQTT publisher (%s): snapshot at seq %s failed", self.hall, seq)

    def remember_snapshot(self, seq: int) -> None:
        """Right after a commit: the snapshot sealed as its batch went to the database. Without one (a
        commit already under way when the publisher started) the hall now, as close as there is."""
        runtime = self.dispatcher.runtime(self.hall)
        snapshot = self._sealed.pop(seq, None)
        self._sealed = {s: v for s, v in self._sealed.items() if s > seq}  # a failed batch's seal is let go
        if not runtime.active or runtime.last_seq != seq:
            return
        self._recent[seq] = snapshot if snapshot is not None else self._take_snapshot()
        while len(self._recent) > RECENT_SNAPSHOTS:
            self._recent.popitem(last=False)

    def _take_snapshot(self, seq: int | None = None) -> HallView:
        return self.dispatcher.hall_view(self.hall, seq)

    def _retained(self, snapshot: HallView, everything: bool) -> list[tuple[str, Any]]:
        """The board, and the windows whose state changed (all of them when `everything`)."""
        out: list[tuple[str, Any]] = [(self.topics.board, snapshot.board)]
        for window, line in snapshot.windows.items():
            if everything or self._published_windows.get(window) != line:
                self._published_windows[window] = line
                out.append((self.topics.window(window), snapshot.window_message(window)))
        return out

    def _call_messages(self, rows: list[EventRow]) -> list[CallMessage]:
        messages = []
        for row in rows:
            if row.kind != CALL_EVENT:
                continue
            try:
                messages.append(call_message(row))
            except (KeyError, ValidationError) as exc:
                # A row we cannot render must not block every later event; it stays in the store.
                log.error("MQTT publisher (%s): event seq %d cannot be a calls message: %s", self.hall, row.seq, exc)
        return messages

    async def _acknowledged(self, handles: list[PublishHandle]) -> None:
        """Wait for every PUBACK. Disconnected time does not count: paho resends after the reconnect.
        The loop is woken once, by the last PUBACK, not once per message."""
        loop = asyncio.get_running_loop()
        all_done: asyncio.Future[None] = loop.create_future()
        remaining = len(handles)
        count_lock = threading.Lock()

        def settle() -> None:
            if not all_done.done():
                all_done.set_result(None)

        def one_done(_handle: PublishHandle) -> None:  # on paho's thread, or here when already done
            nonlocal remaining
            with count_lock:
                remaining -= 1
                last = remaining == 0
            if last:
                loop.call_soon_threadsafe(settle)

        for handle in handles:
            handle.add_done_callback(one_done)
        if not handles:
            settle()
        waited_connected = 0.0
        while not all_done.done():
            try:
                async with asyncio.timeout(1.0):
                    await asyncio.shield(all_done)
            except TimeoutError:
                waited_connected += 1.0 if self.bus.connected else 0.0
                if waited_connected >= ACK_PATIENCE_S:
                    missing = sum(not h.done for h in handles)
                    raise _Refused(f"no PUBACK for {missing} messages in {ACK_PATIENCE_S:.0f} s") from None
        refused = [h for h in handles if not h.accepted]
        if refused:
            first = refused[0]
            raise _Refused(f"the broker refused {len(refused)} messages, first on {first.topic} ({first.reason})")


class _Refused(Exception):
    pass


# --- one hall's bus: client + publisher + command server ----------------------------------------------


class HallBus:
    """The dispatcher's MQTT presence for one hall."""

    def __init__(
        self, dispatcher: BusPort, hall: str, url: str, *, require_token: bool, marks: OutboxMarks | None = None
    ) -> None:
        from server.commands_mqtt import CommandServer

        self.hall = hall
        self.runtime = dispatcher.runtime(hall)
        self._waiting: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        self.bus = BusClient(url, hall=hall, kind=DISPATCHER_KIND, dispatch=asyncio_dispatch(loop))
        self.publisher = Publisher(dispatcher, hall, self.bus, marks=marks)
        self.commands = CommandServer(dispatcher, hall, self.bus, require_token=require_token)
        self._unlisten: list[Any] = []

    async def start(self) -> None:
        self._unlisten.append(self.bus.on_connection_change(self.publisher.broker_connected))
        self.commands.start()
        self.publisher.start()
        if self.runtime.active:
            self.bus.start()
        else:
            # A standby dispatcher stays off the bus: its status and Last Will would contradict the
            # active one's. It connects once it has taken the hall over.
            self._waiting = asyncio.create_task(self._connect_when_active())

    async def _connect_when_active(self) -> None:
        while not self.runtime.active:
            await asyncio.sleep(1.0)
        self.bus.start()
        self.publisher.notify()

    async def stop(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
        self.commands.stop()
        await self.publisher.stop()
        await asyncio.to_thread(self.bus.stop)
        for unlisten in self._unlisten:
            unlisten()


@contextlib.asynccontextmanager
async def run_bus(
    dispatcher: BusPort, *, mqtt_url: str | None, embedded_port: int = 1883
) -> AsyncIterator[list[HallBus]]:
    """The MQTT side of `hallq server`: the embedded broker when `mqtt_url` is None (raises
    hallq.broker.BrokerPortInUse naming the option when its port is taken), then one HallBus per hall."""
    broker: EmbeddedBroker | None = None
    if mqtt_url is None:
        broker = EmbeddedBroker(port=embedded_port, port_option="--broker-port")
        await broker.start()
        mqtt_url = broker.url
    marks = OutboxMarks(dispatcher.store, MARK_EVERY_S)  # one transaction marks every hall's outbox
    buses = [
        HallBus(dispatcher, hall, mqtt_url, require_token=broker is not None, marks=marks) for hall in dispatcher.halls
    ]

    def on_commit(hall: str, seq: int) -> None:
        for hall_bus in buses:
            if hall_bus.hall == hall:
                hall_bus.publisher.notify(hall, seq)

    def on_events(hall: str, rows: list[EventRow]) -> None:
        for hall_bus in buses:
            if hall_bus.hall == hall:
                hall_bus.publisher.take_rows(hall, rows)

    def on_seal(hall: str, seq: int) -> None:
        for hall_bus in buses:
            if hall_bus.hall == hall:
                hall_bus.publisher.seal(hall, seq)

    dispatcher.on_commit.append(on_commit)
    dispatcher.on_events.append(on_events)
    dispatcher.on_seal.append(on_seal)
    try:
        for hall_bus in buses:
            await hall_bus.start()
        yield buses
    finally:
        with contextlib.suppress(ValueError):
            dispatcher.on_commit.remove(on_commit)
        with contextlib.suppress(ValueError):
            dispatcher.on_events.remove(on_events)
        with contextlib.suppress(ValueError):
            dispatcher.on_seal.remove(on_seal)
        for hall_bus in buses:
            await hall_bus.stop()
        if broker is not None:
            await broker.stop()
