"""The platform feeder: one thread per dispatcher that sends each hall's new rating records to the
hall's sink (DESIGN.md §11), like the statistics' folder (server/stats/worker.py).

Woken after every committed rating or order step, and every `IDLE_WAKE_S` on its own (a change made by
another dispatcher on the same database, a platform come back). Per hall it reads the outbox after the
sink's cursor, delivers a batch, and moves the cursor past what arrived. A platform that is down is
tried again with a doubling wait up to `evaluation.sink.retry_max_s`; nothing is skipped meanwhile,
and a restart goes on from the cursor, so every record reaches the platform once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from server.evaluations import outbox
from server.evaluations.sinks import Sink, sink_for
from server.evaluations.usecases import service_for
from server.runtime import Dispatcher, utcnow
from server.woken_thread import WokenThread

log = logging.getLogger(__name__)
IDLE_WAKE_S = 30.0
BATCH = 50
FIRST_RETRY_S = 1.0


class RatingFeeder(WokenThread):
    def __init__(self, dispatcher: Dispatcher, sinks: dict[str, Sink] | None = None) -> None:
        super().__init__("hallq-rating-feeder", stop_wait_s=30)
        self.dispatcher = dispatcher
        self.sinks = sinks if sinks is not None else _configured_sinks(dispatcher)
        self._wakes = 1  # one to start with: send what was committed while the server was down
        self._done = 0  # the wake count the last complete round started from
        self._retry_s: dict[str, float] = {}
        self.rounds = 0  # rounds of deliveries done (tests wait on it)
        self.errors: dict[str, str] = {}  # hall → why its last delivery stopped (for logs and tests)

    def wake(self) -> None:
        with self._changed:
            self._wakes += 1
            self._changed.notify_all()

    def start(self) -> None:
        if not self.sinks:
            return
        for hall in self.sinks:
            service_for(self.dispatcher, hall).listeners.append(self.wake)
        super().start()

    def stop(self) -> bool:
        for hall in self.sinks:
            listeners = service_for(self.dispatcher, hall).listeners
            if self.wake in listeners:
                listeners.remove(self.wake)
        stopped = super().stop()
        for sink in self.sinks.values():
            sink.close()
        return stopped

    def wait_delivered(self, timeout: float) -> bool:
        """Block until every hall's sink has everything its outbox holds (tests, a clean shutdown)."""
        return self.wait_until(self.all_delivered, timeout)

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Block until `condition` holds, looked at again after each round of deliveries."""
        with self._changed:
            return self._changed.wait_for(condition, timeout)

    def all_delivered(self) -> bool:
        engine = self.dispatcher.store.engine
        return all(outbox.cursor(engine, h, s.name) >= outbox.head(engine, h) for h, s in self.sinks.items())

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._wakes > self._done, IDLE_WAKE_S)
                if self._stopping:
                    return
                target = self._wakes
            complete = True
            for hall, sink in self.sinks.items():
                if self.dispatcher.halls[hall].active:  # a standby dispatcher leaves it to the writer
                    complete = self._drain(hall, sink) and complete
            with self._changed:
                self.rounds += 1
                if complete:
                    self._done = target
                self._changed.notify_all()
            if not complete:  # the platform is down: wait (only a stop cuts it short), then retry
                self._pause(self._wait_s())

    def _wait_s(self) -> float:
        return min(self._retry_s.values(), default=IDLE_WAKE_S)

    def _drain(self, hall: str, sink: Sink) -> bool:
        """Deliver the hall's records until none is left (True) or the sink fails (False, retried later)."""
        engine = self.dispatcher.store.engine
        try:
            while records := outbox.after(engine, hall, done := outbox.cursor(engine, hall, sink.name), BATCH):
                result = sink.deliver(records)
                if result.count:
                    outbox.advance(engine, hall, sink.name, done, records[result.count - 1].seq, utcnow())
                if result.error is not None:
                    return self._failed(hall, sink, result.error)
        except Exception as exc:  # the database away for a moment, a take-over moving the cursor
            log.exception("rating feed (%s): reading or advancing the outbox failed", hall)
            return self._failed(hall, sink, f"{type(exc).__name__}: {exc}")
        if self._retry_s.pop(hall, None) is not None:
            log.info("rating feed (%s): the %s sink is delivering again", hall, sink.name)
        self.errors.pop(hall, None)
        return True

    def _failed(self, hall: str, sink: Sink, error: str) -> bool:
        limit = self.dispatcher.runtime(hall).config.evaluation.sink.retry_max_s
        wait = min(limit, self._retry_s.get(hall, FIRST_RETRY_S / 2) * 2)
        self._retry_s[hall] = wait
        self.errors[hall] = error
        log.warning("rating feed (%s): the %s sink failed (%s); trying again in %.1f s", hall, sink.name, error, wait)
        return False


def feed_status(dispatcher: Dispatcher, feeder: RatingFeeder | None, hall: str) -> dict[str, object]:
    """The supervisor's view of the feed: recorded, delivered, pending, and the last failure's reason."""
    kind = dispatcher.runtime(hall).config.evaluation.sink.kind.value
    engine = dispatcher.store.engine
    recorded = outbox.head(engine, hall)
    delivered = outbox.cursor(engine, hall, kind) if kind != "none" else 0
    error = feeder.errors.get(hall) if feeder is not None else None
    return {"sink": kind, "recorded": recorded, "delivered": delivered, "pending": recorded - delivered,
            "last_error": error}  # fmt: skip


def _configured_sinks(dispatcher: Dispatcher) -> dict[str, Sink]:
    sinks = {}
    for hall, runtime in dispatcher.halls.items():
        sink = sink_for(runtime.config.evaluation.sink, hall)
        if sink is not None:
            sinks[hall] = sink
    return sinks
