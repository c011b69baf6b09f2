"""The notifier: one asyncio task per dispatcher, woken by every commit (`dispatcher.on_commit`) and
every `IDLE_WAKE_S` on its own. For each hall it serves with a gateway configured:

1. plan: read the hall's events after its cursor (the queue's outbox, committed only), read the phones
   left for tickets, decide the messages against the live engine (server/notify/planner.py, in the
   event loop between awaits) and store them with the cursor in one transaction;
2. deliver: send the waiting messages in order; delete each once the gateway took it. A gateway that
   is down is tried again with a doubling wait up to `notify.sms.retry_max_s`; nothing is lost
   meanwhile, and a restart (even a kill -9) goes on from what is stored.

Log lines name halls, counts and error kinds; never a phone or a message's text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from hallq.api_models import NotifyStatus
from server.notify import outbox
from server.notify.gateways import Gateway, gateway_for
from server.notify.planner import plan
from server.runtime import Dispatcher, utcnow

log = logging.getLogger(__name__)
IDLE_WAKE_S = 30.0
EVENTS_BATCH = 500
SEND_BATCH = 50
FIRST_RETRY_S = 1.0


class Notifier:
    def __init__(self, dispatcher: Dispatcher, gateways: dict[str, Gateway] | None = None) -> None:
        self.dispatcher = dispatcher
        self.gateways = gateways if gateways is not None else _configured(dispatcher)
        self._wake = asyncio.Event()
        self._retry_s: dict[str, float] = {}
        self._next_try: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.sent = 0
        self.errors: dict[str, str] = {}  # hall → why its last delivery stopped

    def on_commit(self, _hall: str, _seq: int) -> None:
        self._wake.set()

    def start(self) -> None:
        if not self.gateways:
            return
        self.dispatcher.on_commit.append(self.on_commit)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.on_commit in self.dispatcher.on_commit:
            self.dispatcher.on_commit.remove(self.on_commit)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for gateway in self.gateways.values():
            gateway.close()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            for hall, gateway in self.gateways.items():
                if self.dispatcher.halls[hall].active:  # a standby dispatcher leaves it to the writer
                    await self._round(hall, gateway)
            self.rounds += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_s())

    def _idle_s(self) -> float:
        now = time.monotonic()
        return max(0.05, min((at - now for at in self._next_try.values()), default=IDLE_WAKE_S))

    async def _round(self, hall: str, gateway: Gateway) -> None:
        try:
            while not await self._plan(hall):
                pass
        except Exception as exc:  # the database away for a moment, a take-over moving the cursor
            log.error("notifier (%s): planning failed (%s); trying again", hall, type(exc).__name__)
            self._next_try[hall] = time.monotonic() + FIRST_RETRY_S
            return
        if time.monotonic() >= self._next_try.get(hall, 0.0):
            await self._deliver(hall, gateway)

    async def _plan(self, hall: str) -> bool:
        """Plan one batch of events; True when the hall's events are all read."""
        engine = self.dispatcher.store.engine
        after = await asyncio.to_thread(outbox.cursor, engine, hall)
        rows = await asyncio.to_thread(self.dispatcher.store.events_since, hall, after, EVENTS_BATCH)
        phones = await asyncio.to_thread(outbox.phones, engine, hall)  # after the events: theirs are in
        runtime = self.dispatcher.runtime(hall)
        caught_up = len(rows) < EVENTS_BATCH
        decided = plan(runtime, rows, phones, after, caught_up)  # no await: one moment of the engine
        if decided.last_seq != after or not decided.empty:
            await asyncio.to_thread(outbox.save_plan, engine, hall, after, decided, utcnow())
        return caught_up

    async def _deliver(self, hall: str, gateway: Gateway) -> None:
        engine = self.dispatcher.store.engine
        try:
            while batch := await asyncio.to_thread(outbox.pending, engine, hall, SEND_BATCH):
                result = await asyncio.to_thread(gateway.deliver, [p.message for p in batch])
                if result.count:
                    await asyncio.to_thread(outbox.delivered, engine, hall, [p.seq for p in batch[: result.count]])
                    self.sent += result.count
                if result.error is not None:
                    self._failed(hall, gateway, result.error)
                    return
        except Exception as exc:
            self._failed(hall, gateway, f"{type(exc).__name__} in the store")
            return
        if self._retry_s.pop(hall, None) is not None:
            log.info("notifier (%s): the %s gateway is delivering again", hall, gateway.name)
        self._next_try.pop(hall, None)
        self.errors.pop(hall, None)

    def _failed(self, hall: str, gateway: Gateway, error: str) -> None:
        limit = self.dispatcher.runtime(hall).config.notify.sms.retry_max_s
        wait = min(limit, self._retry_s.get(hall, FIRST_RETRY_S / 2) * 2)
        self._retry_s[hall] = wait
        self._next_try[hall] = time.monotonic() + wait
        self.errors[hall] = error
        log.warning("notifier (%s): the %s gateway failed (%s); again in %.1f s", hall, gateway.name, error, wait)


def notify_status(dispatcher: Dispatcher, notifier: Notifier | None, hall: str) -> NotifyStatus:
    """The supervisor's view: the gateway, what waits, the last failure's reason (read in a thread)."""
    kind = dispatcher.runtime(hall).config.notify.sms.kind.value
    engine = dispatcher.store.engine
    return NotifyStatus(
        sms=kind,
        waiting=outbox.waiting_count(engine, hall),
        phones=outbox.phone_count(engine, hall),
        sent=notifier.sent if notifier is not None else 0,
        last_error=notifier.errors.get(hall) if notifier is not None else None,
    )


def _configured(dispatcher: Dispatcher) -> dict[str, Gateway]:
    gateways = {}
    for hall, runtime in dispatcher.halls.items():
        gateway = gateway_for(runtime.config.notify.sms, hall)
        if gateway is not None:
            gateways[hall] = gateway
    return gateways
