"""The running dispatcher: one live engine per hall, its lock, and the write path.

Every write goes through `Dispatcher.execute`: under the hall's asyncio lock the engine handles the
command and the response is built from the engine's state; the changed rows, the events (outbox) and
the idempotency answer are queued and committed from a worker thread, together with any commands
handled while the previous commit was on the disk (group commit: one transaction, one fsync, commands
in handling order, each all-or-nothing). The caller gets its answer only after that commit. If a
commit fails, it and every command queued after it answer 503 and the hall's engine is rebuilt from
the database, so memory never runs ahead of what is stored for longer than one commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from hallq.config import HallConfig
from server.auth import Authenticator, Principal
from server.committer import Committer
from server.engine.commands import Command
from server.engine.hall import HallEngine
from server.engine.states import EngineError
from server.hall_rules import rules_from_config
from server.settings import ServerSettings
from server.store import AuditLog, CommandWrite, CredentialStore, EventRow, HallLocks, IdempotentAnswer, Store
from server.store.codec import event_payload, ticket_from_data, ticket_row, window_from_data, window_row

log = logging.getLogger(__name__)
T = TypeVar("T")
STANDBY_RETRY_S = 2.0
COMMIT_THREADS_PG = 6  # as many as the default executor had on the 2-core machine the benchmarks ran on
# Retries come within minutes; a day and a half covers a kiosk that retries after a night's outage.
IDEMPOTENCY_MEMORY = dt.timedelta(hours=36)
MAX_REMEMBERED_ANSWERS = 200_000


class HallUnknown(Exception):
    def __init__(self, hall: str) -> None:
        super().__init__(f"没有大厅“{hall}”。 There is no hall {hall!r} on this dispatcher.")


class HallStandby(Exception):
    def __init__(self, hall: str) -> None:
        super().__init__(
            f"本调度服务器处于备用状态，{hall} 由另一台服务器负责，请稍后重试。"
            f" This dispatcher is standing by; another one serves hall {hall!r}."
        )


class StoreUnavailable(Exception):
    def __init__(self) -> None:
        super().__init__("数据库暂时不可用，操作未生效，请重试。 The database is unavailable; nothing changed, retry.")


@dataclass
class Answer:
    """What a command returns to its caller: a status code and a body, a typed model of
    `hallq.api_models` (or, replayed from the idempotency table, the JSON it was stored as)."""

    status_code: int
    body: BaseModel | dict[str, Any] | None = None
    replayed: bool = False

    def json_body(self) -> dict[str, Any] | None:
        """The body as JSON-ready data, as stored for idempotent retries and sent over MQTT."""
        if isinstance(self.body, BaseModel):
            dumped: dict[str, Any] = self.body.model_dump(mode="json")
            return dumped
        return self.body


Responder = Callable[["HallRuntime", list[Any]], Answer]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class PendingWrite:
    """A handled command waiting for its transaction; `done` resolves when it is durable."""

    write: CommandWrite
    answer: Answer
    idempotency: tuple[str, str] | None
    done: asyncio.Future[None]


@dataclass
class HallRuntime:
    hall: str
    config: HallConfig
    engine: HallEngine | None = None
    last_seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # A commit failed and rebuilding from the database failed too: retried before the next command.
    needs_restore: bool = False
    # Committed answers of recent idempotent requests, (scope, key) → answer; loaded at restore.
    answers: dict[tuple[str, str], IdempotentAnswer] = field(default_factory=dict)
    answers_dropped: bool = False
    # Group commit: writes handled by the engine, waiting for the disk, in order.
    pending: list[PendingWrite] = field(default_factory=list)
    in_flight: dict[tuple[str, str], PendingWrite] = field(default_factory=dict)
    flusher: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.engine is not None

    @property
    def committing(self) -> bool:
        """Writes are on their way to the disk: the engine is ahead of what is committed."""
        return self.flusher is not None and not self.flusher.done()

    def remember(self, key: tuple[str, str], answer: IdempotentAnswer) -> None:
        if len(self.answers) >= MAX_REMEMBERED_ANSWERS:
            self.answers.clear()  # rare: fall back to the database lookup (answers_incomplete)
            self.answers_dropped = True
        self.answers[key] = answer

    def answers_incomplete(self, key: tuple[str, str]) -> bool:
        """Whether a miss in memory may still be in the database (memory was trimmed)."""
        return self.answers_dropped

    def live(self) -> HallEngine:
        if self.needs_restore:
            raise StoreUnavailable()
        if self.engine is None:
            raise HallStandby(self.hall)
        return self.engine


class Dispatcher:
    """Held in `app.state.dispatcher`; the publisher and the MQTT command handler use it too."""

    def __init__(self, settings: ServerSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.locks = HallLocks(store.engine)
        self.audit_log = AuditLog(store.engine)
        self.auth = Authenticator(
            CredentialStore(store.engine), settings.halls, settings.session_hours, settings.limits
        )
        self.halls: dict[str, HallRuntime] = {c.hall.id: HallRuntime(c.hall.id, c) for c in settings.halls}
        self.on_commit: list[Callable[[str, int], None]] = []
        # Called (hall, rows) in the event loop with each commit's event rows, before on_commit.
        self.on_events: list[Callable[[str, list[EventRow]], None]] = []
        # Called (hall, seq) in the event loop as a batch goes to the database: the engine is then exactly
        # at the batch's last event; when the commit is back, commands handled meanwhile are in it too.
        self.on_seal: list[Callable[[str, int], None]] = []
        self._standby_tasks: list[asyncio.Task[None]] = []
        # SQLite has one writer; PostgreSQL commits several halls' batches at once (its pool holds 8)
        # SQLite's group commits run on the event loop while they are quick and nothing else writes (run_here)
        self.committer = Committer(1 if store.is_sqlite else COMMIT_THREADS_PG, here=store.is_sqlite)

    # ---- start / stop ---------------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.store.migrate)
        await asyncio.to_thread(self.auth.load_sessions)
        for runtime in self.halls.values():
            if await asyncio.to_thread(self.locks.try_take_hall, runtime.hall):
                await self.restore(runtime)
            else:
                log.warning("hall %s is held by another dispatcher; standing by", runtime.hall)
                self._standby_tasks.append(asyncio.create_task(self._stand_by(runtime)))

    async def stop(self) -> None:
        for task in self._standby_tasks:
            task.cancel()
        await asyncio.to_thread(self.committer.stop)
        await asyncio.to_thread(self.locks.release_all)
        await asyncio.to_thread(self.store.close)

    async def check_ownership(self) -> None:
        """Step down from a hall whose advisory lock was lost, and stand by to take it back."""
        active = [runtime for runtime in self.halls.values() if runtime.engine is not None]
        if not active:
            return
        alive = await asyncio.to_thread(self.locks.halls_alive, [runtime.hall for runtime in active])
        for runtime in active:
            if runtime.hall not in alive:
                async with runtime.lock:
                    runtime.engine = None
                log.error("lost the lock on hall %s (database connection gone); standing by", runtime.hall)
                self._standby_tasks.append(asyncio.create_task(self._stand_by(runtime)))

    async def _stand_by(self, runtime: HallRuntime) -> None:
        while True:
            # wait first: a dispatcher that just lost its connection leaves a standby peer the first try
            await asyncio.sleep(STANDBY_RETRY_S)
            try:
                if await asyncio.to_thread(self.locks.try_take_hall, runtime.hall):
                    break
            except Exception:
                log.warning("hall %s: database unreachable while standing by; retrying", runtime.hall)
        while True:
            try:
                async with runtime.lock:
                    await self.restore(runtime)
                break
            except Exception:
                log.warning("hall %s: rebuilding from the database failed; retrying", runtime.hall)
                await asyncio.sleep(STANDBY_RETRY_S)
        log.warning("hall %s taken over by this dispatcher at seq %d", runtime.hall, runtime.last_seq)
        self._notify(runtime.hall, runtime.last_seq)

    async def restore(self, runtime: HallRuntime) -> None:
        """Rebuild the hall's engine from its rows (start, take-over, or after a failed commit)."""
        rules = rules_from_config(runtime.config)
        since = (rules.local_day(utcnow()) - dt.timedelta(days=1)).isoformat()
        rows = await asyncio.to_thread(self.store.load_hall, runtime.hall, since)
        state = rows.state or {}
        runtime.engine = HallEngine.restore(
            rules,
            tickets=[ticket_from_data(d) for d in rows.tickets],
            windows=[window_from_data(d) for d in rows.windows],
            counters=state.get("counters", {}),
            day=dt.date.fromisoformat(state["day"]) if state.get("day") else None,
        )
        runtime.last_seq = rows.last_seq
        runtime.answers = await asyncio.to_thread(
            self.store.idempotent_answers_since, runtime.hall, utcnow() - IDEMPOTENCY_MEMORY
        )
        log.info("hall %s restored: %d tickets, seq %d", runtime.hall, len(rows.tickets), rows.last_seq)

    async def recover(self, runtime: HallRuntime) -> None:
        """After a failed commit: rebuild the engine from the rows, so memory matches the database
        (call with the hall's lock held). Leaves `needs_restore` set while the database is down."""
        if not runtime.needs_restore:
            return
        try:
            await self.restore(runtime)
        except Exception:
            log.warning("hall %s: the database is still unavailable; will retry", runtime.hall)
            return
        runtime.needs_restore = False
        log.warning("hall %s rebuilt from the database at seq %d", runtime.hall, runtime.last_seq)

    # ---- lookups --------------------------------------------------------------------------------

    def runtime(self, hall: str) -> HallRuntime:
        runtime = self.halls.get(hall)
        if runtime is None:
            raise HallUnknown(hall)
        return runtime

    # ---- the write path -------------------------------------------------------------------------

    async def execute(
        self,
        hall: str,
        command: Command,
        respond: Responder,
        *,
        idempotency: tuple[str, str] | None = None,
        audit: list[dict[str, Any]] | None = None,
        inserts: list[tuple[str, dict[str, Any]]] | None = None,
        now: dt.datetime | None = None,
    ) -> Answer:
        """Run one engine command; answer only once its rows, events and idempotency answer are
        committed. `idempotency` = (scope, key): a retry gets the first answer. Engine errors propagate
        before anything is written. Commands waiting for the disk are committed together (group
        commit), in the order the engine handled them, in one transaction. `inserts`: rows of an area's
        table (CommandWrite.inserts) written with it, only when the command succeeds."""
        return await self._run(
            hall, lambda engine: engine.handle(command, now or utcnow()), respond, idempotency, audit or [],
            inserts or [],
        )  # fmt: skip

    async def advance(self, hall: str, now: dt.datetime | None = None) -> int:
        """Time passing as an input (the day closing at midnight): the engine's `advance(now)` events
        are stored and published like a command's. Returns how many events it made (0: nothing due)."""
        made: list[int] = []

        def respond(_runtime: HallRuntime, events: list[Any]) -> Answer:
            made.append(len(events))
            return Answer(200, None)

        await self._run(hall, lambda engine: engine.advance(now or utcnow()), respond, None, [])
        return made[0] if made else 0

    async def _run(
        self,
        hall: str,
        step: Callable[[HallEngine], list[Any]],
        respond: Responder,
        idempotency: tuple[str, str] | None,
        audit: list[dict[str, Any]],
        inserts: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> Answer:
        runtime = self.runtime(hall)
        async with runtime.lock:
            await self.recover(runtime)
            engine = runtime.live()
            replayed: PendingWrite | None = None
            if idempotency is not None:
                stored = runtime.answers.get(idempotency)
                if stored is None and runtime.answers_incomplete(idempotency):
                    stored = await asyncio.to_thread(self.store.idempotent_answer, hall, *idempotency)
                if stored is not None:
                    return Answer(stored.status_code, stored.body, replayed=True)
                replayed = runtime.in_flight.get(idempotency)
            if replayed is None:
                events = step(engine)
                answer = respond(runtime, events)
                if not events and not audit and idempotency is None:
                    return answer  # nothing changed, nothing to remember (e.g. 204 nobody waiting)
                pending = self._queue_write(runtime, engine, events, answer, idempotency, audit, inserts or [])
        if replayed is not None:  # the same key is being committed right now: share its fate
            await asyncio.shield(replayed.done)
            return Answer(replayed.answer.status_code, replayed.answer.body, replayed=True)
        await asyncio.shield(pending.done)  # a client that goes away must not cancel the commit
        return answer

    def _queue_write(self, runtime: HallRuntime, engine: HallEngine, events: list[Any], answer: Answer,
                     idempotency: tuple[str, str] | None, audit: list[dict[str, Any]],
                     inserts: list[tuple[str, dict[str, Any]]]) -> PendingWrite:  # fmt: skip
        """Serialize what changed NOW (later commands mutate the same objects) and queue it."""
        write = CommandWrite(
            tickets=[ticket_row(t) for t in _touched(engine.ticket, (e.ticket_id for e in events))],
            windows=[window_row(w) for w in _touched(engine.window, (e.window for e in events))],
            hall_state=hall_state(engine) if events else None,
            events=[event_payload(e) for e in events],
            idempotency=(*idempotency, answer.status_code, answer.json_body()) if idempotency else None,
            audit=audit,
            evaluation=_evaluation_row(engine, events),
            inserts=inserts,
        )
        pending = PendingWrite(write, answer, idempotency, asyncio.get_running_loop().create_future())
        runtime.pending.append(pending)
        if idempotency is not None:
            runtime.in_flight[idempotency] = pending
        if runtime.flusher is None or runtime.flusher.done():
            runtime.flusher = asyncio.create_task(self._flush(runtime))
        return pending

    async def _flush(self, runtime: HallRuntime) -> None:
        """Commit queued writes, a batch at a time, until none are left. The next batch goes to the
        database before this one's rows are handed to the publisher and the folder, so their work in
        the event loop overlaps the next commit instead of delaying it (one commit in flight at most:
        each batch is numbered on from the one before, committed)."""
        batch, committing = self._commit_next(runtime)
        while batch:
            assert committing is not None
            writes = [p.write for p in batch]
            try:
                batches = await committing
            except Exception:
                log.exception("commit failed for hall %s; rebuilding its engine from the database", runtime.hall)
                await self._fail(runtime, batch)
                batch, committing = self._commit_next(runtime)
                continue
            runtime.last_seq += sum(len(w.events) for w in writes)
            for pending in batch:
                if pending.idempotency is not None:
                    runtime.in_flight.pop(pending.idempotency, None)
                    assert pending.write.idempotency is not None  # (scope, key, status, body) as committed
                    _, _, status_code, body = pending.write.idempotency
                    runtime.remember(pending.idempotency, IdempotentAnswer(status_code, body))
                if not pending.done.done():
                    pending.done.set_result(None)
            committed_seq = runtime.last_seq
            batch, committing = self._commit_next(runtime)
            if any(w.events for w in writes):
                self._hand_over(runtime.hall, [row for rows in batches for row in rows])
                self._notify(runtime.hall, committed_seq)

    def _commit_next(self, runtime: HallRuntime) -> tuple[list[PendingWrite], asyncio.Future[Any] | None]:
        """Take what is queued and commit it on the event loop if it may (Committer.run_here), or start
        its commit on a commit thread (now, not at the next await)."""
        batch, runtime.pending = runtime.pending, []
        if not batch:
            return batch, None
        writes = [p.write for p in batch]
        hall, last_seq = runtime.hall, runtime.last_seq
        committing = self.committer.run_here(lambda: self.store.commit_batch_at_once(hall, writes, last_seq))
        if committing is None:
            committing = self.committer.submit(self.store.commit_batch, hall, writes, last_seq)
        if events := sum(len(w.events) for w in writes):  # committed or on its way; no command ran meanwhile
            _tell(self.on_seal, "on_seal", hall, last_seq + events)
        return batch, committing

    async def _fail(self, runtime: HallRuntime, batch: list[PendingWrite]) -> None:
        """A batch did not commit: it and everything handled after it (computed on top of it) fail with
        503, and the engine is rebuilt from the database so memory never runs ahead of the store."""
        async with runtime.lock:
            failed = batch + runtime.pending
            runtime.pending = []
            runtime.needs_restore = True
            for pending in failed:
                if pending.idempotency is not None:
                    runtime.in_flight.pop(pending.idempotency, None)
                if not pending.done.done():
                    pending.done.set_exception(StoreUnavailable())
            await self.recover(runtime)

    async def beside_commits(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """A write of its own transaction (a rating, a rectification order's step) on the group
        commits' threads. On SQLite that is the one writer's thread: from the loop's default executor,
        a rating's transaction and the group commits took SQLite's write lock from each other, and the
        loser slept in its busy handler (1, 2, 5, 10 ms…): ratings arriving halved the tickets issued a
        second (bench/features_cost.py, issue 18)."""
        return await self.committer.submit(functools.partial(function, *args, **kwargs))

    async def write_audit(self, hall: str | None, principal: Principal, action: str, target: str | None,
                          detail: dict[str, Any]) -> None:  # fmt: skip
        await asyncio.to_thread(self.audit_log.write, hall, principal.actor, principal.role, action, target, detail)

    def _hand_over(self, hall: str, rows: list[EventRow]) -> None:
        _tell(self.on_events, "on_events", hall, rows)

    def _notify(self, hall: str, seq: int) -> None:
        _tell(self.on_commit, "on_commit", hall, seq)


def _tell(callbacks: list[Callable[[str, Any], None]], what: str, hall: str, value: Any) -> None:
    """Each listener in turn; one that fails is logged and never stops the write path or the others."""
    for callback in callbacks:
        try:
            callback(hall, value)
        except Exception:
            log.exception("an %s callback failed", what)


def hall_state(engine: HallEngine) -> dict[str, Any]:
    """The per-hall state the rows do not hold: today's numbering counters and the day."""
    return {"counters": engine.counters(), "day": engine.day.isoformat() if engine.day else None}


def _evaluation_row(engine: HallEngine, events: list[Any]) -> dict[str, Any] | None:
    """好差评 row for statistics: score by window, service and clerk (never the citizen)."""
    for event in events:
        if event.kind == "ticket_evaluated" and event.ticket_id:
            ticket = engine.ticket(event.ticket_id)
            return {
                "ticket_id": event.ticket_id,
                "score": event.score,
                "comment": (event.comment or "")[:500],
                "window": ticket.window if ticket else None,
                "service": ticket.service if ticket else None,
                "clerk": ticket.clerk if ticket else None,
            }
    return None


def _touched(read: Callable[[str], Any], keys: Any) -> list[Any]:
    seen: dict[str, Any] = {}
    for key in keys:
        if key and key not in seen:
            value = read(key)
            if value is not None:
                seen[key] = value
    return list(seen.values())


__all__ = [
    "Answer",
    "Dispatcher",
    "EngineError",
    "HallRuntime",
    "HallStandby",
    "HallUnknown",
    "StoreUnavailable",
]
