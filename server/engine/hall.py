"""The queue engine of one hall: pure rules, no I/O, deterministic.

How the store / API uses it
---------------------------
    from server.engine import HallEngine, IssueTicket, CallNext, EngineError
    from server.hall_rules import rules_from_config         # the config → frozen rules, outside

    engine = HallEngine(rules_from_config(config))          # empty hall, or:
    engine = HallEngine.restore(rules, tickets, windows, counters, day)   # rebuilt from the rows

    try:
        events = engine.handle(IssueTicket(service="A", ticket_id=tid, access=token), now)
    except EngineError as exc:        # nothing changed; exc.http_status is 404, 409 or 422
        raise HTTPException(exc.http_status, str(exc))
    for event in events:              # in order; one transaction writes them all
        if event.ticket_id: upsert(engine.ticket(event.ticket_id))
        if event.window:    upsert(engine.window(event.window))
        insert_event(seq=next_seq(), kind=event.kind, data=event.to_dict())

* `now` is an aware datetime (UTC is fine); the engine never reads the clock. Ticket ids and access
  tokens are random values the caller makes and passes in (`IssueTicket.ticket_id`, `.access`).
* `handle` is atomic: it returns every event of the command, or raises `EngineError` and leaves the
  state exactly as it was (including the day roll-over below).
* Time passing is an input: `advance(now)`. At the first moment of a new local day of the hall it
  closes the old day's queue as the transition table's `expire` rows say (waiting and parked
  tickets → `TicketExpired`, called ones → `TicketFinished`), lets every window go of its ticket (a
  `WindowChanged` per window) and emits one `DayReset(closed_day=old, day=new)`; numbering, quotas
  and per-person limits restart (A001). Otherwise it returns [], so calling it again at the same or
  a later moment of the day (or an earlier one: a clock that jumps back) does nothing. Call it from
  the dispatcher's timer and store and publish its events like a command's. `handle` runs the same
  step first, so the midnight tick followed by a command, and the command alone, give the same events.
  Windows keep their state over midnight (open, paused with its reason, closed; the clerk stays):
  closing them is a clerk's `CloseWindow` or the supervisor's `CloseDay()`, which closes the queue
  the same way at any time without changing the day, closes every window and emits a `DayReset`
  naming today twice. The opening hour is no event: nothing in the queue changes then (the day's
  restart is at midnight) and `rules.is_open` answers from the calendar at any moment; an event
  would need one more persisted fact to stay idempotent over a restart. The old day's tickets stay
  readable by `ticket(id)` for one more day. Open tickets of an earlier day handed to `restore` (the
  server was down over midnight) are closed the same way by the first input.
* Call-next with nobody waiting returns no `TicketCalled` (maybe a `TicketFinished` for the ticket
  it finished first): answer 204. `TicketCalled.finished` names the ticket finished first.
* Queries for responses and the board: `ticket(id)`, `ticket_by_number(number)`, `ahead(id)`,
  `estimated_wait_s(service or ticket)`, `waiting_counts()`, `waiting_for_window(window)`,
  `targeted_count(window)`,
  `window(id)`, `windows()`, `tickets()`, `recent_calls(n)`, `served_today(window)`, `counters()`,
  `day`. The returned `Ticket` / `WindowStatus` objects are the engine's own: read, don't modify.
* Persist every field of `Ticket` and `WindowStatus`, and `counters()` (the last number per prefix
  today); `restore` rebuilds queues, quotas, limits, service-time averages and recent calls from them.
  Pass `restore` today's tickets (yesterday's too if you have them: they stay readable).

Rules (DESIGN.md §3): numbers per service prefix per local day (A001…A999, A1000); priority classes
appointment, green, normal with anti-starvation (after `max_consecutive_priority` priority calls in a
row by call-next at a window, it takes the longest-waiting normal ticket); routing by longest wait
over the window's services; tickets transferred to a window are called there first; any call at a
window finishes its current called ticket; estimated wait = people ahead ÷ staffed windows serving
the service × EWMA of service time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import commands as c
from .events import (
    DayReset,
    Event,
    TicketCalled,
    TicketCancelled,
    TicketEvaluated,
    TicketExpired,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketParked,
    TicketRejoined,
    TicketTransferred,
    WindowChanged,
)
from .model import Ticket, WindowStatus
from .queues import OrderedQueue
from .rules import CHANNELS, PRIORITIES, HallRules, ServiceRules
from .states import (
    Action,
    AlreadyEvaluated,
    BadCommand,
    HallClosed,
    NoCurrentTicket,
    PersonLimitReached,
    QuotaExceeded,
    RejoinTooLate,
    Status,
    UnknownService,
    UnknownTicket,
    UnknownWindow,
    WindowAction,
    WindowNotOpen,
    WindowState,
    has_transition,
    next_status,
    next_window_state,
)

PRIORITY_CLASSES = ("appointment", "green")  # the classes served before normal, in this order
_NUMBER = re.compile(r"^([A-Z]{1,2})(\d+)$")
_CALLED_ONCE = (Status.called, Status.done, Status.no_show, Status.parked)  # listed in recent calls
_MAX_SERVICE_S = 4 * 3600.0  # a ticket left open for hours must not wreck the average
_EMPTY = OrderedQueue()  # what reading a line that was never filled gives; never written to


def format_number(prefix: str, n: int) -> str:
    return f"{prefix}{n:03d}"


@dataclass
class _Day:
    """Everything that starts afresh with the hall's local day."""

    day: dt.date | None
    tickets: dict[str, Ticket] = field(default_factory=dict)
    by_number: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)  # prefix → last number issued
    issued: dict[str, int] = field(default_factory=dict)  # service → tickets counting towards its quota
    per_person: dict[tuple[str, str], int] = field(default_factory=dict)  # (service, id_hash) → issued
    queues: dict[tuple[str, str], OrderedQueue] = field(default_factory=dict)  # (service, class)
    targeted: dict[str, OrderedQueue] = field(default_factory=dict)  # window → transferred to it
    waiting: dict[str, int] = field(default_factory=dict)  # service → waiting tickets (all queues)
    ewma_s: dict[str, float] = field(default_factory=dict)  # service → recent service time
    recent: OrderedDict[str, TicketCalled] = field(default_factory=OrderedDict)
    next_pos: int = 0
    next_sub: int = 1


class HallEngine:
    def __init__(self, rules: HallRules, day: dt.date | None = None) -> None:
        self.rules = rules
        self._today = self._new_day(day)
        self._previous: dict[str, Ticket] = {}
        self._stale: list[Ticket] = []  # restored tickets of an earlier day still open: closed first
        self._windows: dict[str, WindowStatus] = {
            w.id: WindowStatus(id=w.id, name=w.name) for w in rules.windows.values()
        }
        self._handlers: dict[type, Callable[[Any, dt.datetime], list[Event]]] = {
            c.IssueTicket: self._issue,
            c.CallNext: self._call_next,
            c.Recall: self._recall,
            c.NoShow: self._no_show,
            c.Finish: self._finish_cmd,
            c.Park: self._park,
            c.CallBack: self._call_back,
            c.QuickServe: self._quick_serve,
            c.Cancel: self._cancel,
            c.Rejoin: self._rejoin,
            c.Transfer: self._transfer,
            c.CallNumber: self._call_number,
            c.OpenWindow: self._open_window,
            c.PauseWindow: self._pause_window,
            c.ResumeWindow: self._resume_window,
            c.CloseWindow: self._close_window,
            c.Evaluate: self._evaluate,
            c.CloseDay: self._close_day,
        }

    # ------------------------------------------------------------------ the one entry point

    def handle(self, command: c.Command, now: dt.datetime) -> list[Event]:
        """Apply one command at `now`; every event it caused, or EngineError and no change at all."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        handler = self._handlers.get(type(command))
        if handler is None:
            raise BadCommand(f"未知命令 Unknown command {type(command).__name__}.")
        events: list[Event] = []
        undo = self._catch_up(now, events)
        try:
            events += handler(command, now)
        except BaseException:
            for step in reversed(undo):
                step()
            raise
        return events

    def advance(self, now: dt.datetime) -> list[Event]:
        """Time passing, as an input: close the old day if a new local day has begun since the last
        input (see the module's notes). Returns [] when nothing is due.

        `handle` does this first by itself; call `advance` from a timer (say every minute) so that
        boards and kiosks stop showing yesterday's queue before the first command of the morning.
        Store and publish its events like any command's."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        events: list[Event] = []
        self._catch_up(now, events)
        return events

    def _catch_up(self, now: dt.datetime, events: list[Event]) -> list[Callable[[], None]]:
        """Close stale tickets and roll the day over if due; returns the undo steps."""
        day = self.rules.local_day(now)
        undo: list[Callable[[], None]] = []
        if self._stale:
            undo.append(self._close_stale(now, events))
        if self._today.day is None:
            self._today.day = day
            undo.append(self._forget_day)
        elif day > self._today.day:  # a clock that jumps back keeps the current day
            undo.append(self._roll_over(day, now, events))
        return undo

    # ------------------------------------------------------------------ queries

    @property
    def day(self) -> dt.date | None:
        """The hall's current local day (None before the first command of a fresh engine)."""
        return self._today.day

    def ticket(self, ticket_id: str) -> Ticket | None:
        """Today's or the previous day's ticket by id."""
        return self._today.tickets.get(ticket_id) or self._previous.get(ticket_id)

    def ticket_by_number(self, number: str) -> Ticket | None:
        """Today's ticket with this number (A012), as printed."""
        ticket_id = self._today.by_number.get(number.strip().upper())
        return self._today.tickets[ticket_id] if ticket_id else None

    def tickets(self) -> Iterator[Ticket]:
        """Today's tickets, in issue order."""
        return iter(self._today.tickets.values())

    def window(self, window_id: str) -> WindowStatus | None:
        return self._windows.get(window_id)

    def windows(self) -> Iterator[WindowStatus]:
        return iter(self._windows.values())

    def counters(self) -> dict[str, int]:
        """The last number issued today per prefix: persist it with the day."""
        return dict(self._today.counters)

    def served_today(self, window_id: str) -> int:
        status = self._windows.get(window_id)
        return status.served_today if status else 0

    def recent_calls(self, n: int | None = None) -> list[TicketCalled]:
        """The latest calls, newest first, one per ticket (a recall moves it to the front)."""
        calls = list(reversed(self._today.recent.values()))
        return calls[: n if n is not None else self.rules.recent_calls]

    def ahead(self, ticket_id: str) -> int:
        """How many tickets will be called before this waiting one (0 when not waiting)."""
        ticket = self._today.tickets.get(ticket_id)
        if ticket is None or ticket.status != Status.waiting:
            return 0
        if ticket.target_window is not None:
            return self._targeted(ticket.target_window).count_less(ticket.rank)
        before = 0
        for cls in PRIORITIES:
            queue = self._queue(ticket.service, cls)
            if cls == ticket.priority:
                return before + queue.count_less(ticket.rank)
            before += len(queue)
        return before

    def ewma_service_s(self, service: str) -> float:
        """The recent service time of a service in seconds (its configured average until it learns)."""
        learned = self._today.ewma_s.get(service)
        if learned is not None:
            return learned
        rules = self.rules.services.get(service)
        return rules.avg_service_s if rules else 0.0

    def estimated_wait_s(self, what: str | Ticket) -> int:
        """Seconds until a call: for a ticket, or for a new ticket of a service (code)."""
        if isinstance(what, Ticket):
            if what.status != Status.waiting:
                return 0
            ahead, service = self.ahead(what.id), what.service
            if what.target_window is not None:  # only its target window will call it
                return round(ahead * self.ewma_service_s(service))
        else:
            ahead, service = self._today.waiting.get(what, 0), what
        return round(ahead * self.ewma_service_s(service) / self._staffed(service))

    def waiting_count(self, service: str) -> int:
        return self._today.waiting.get(service, 0)

    def waiting_counts(self) -> dict[str, tuple[int, int]]:
        """Every service of the hall → (waiting tickets, estimated wait in seconds for a new one)."""
        return {code: (self.waiting_count(code), self.estimated_wait_s(code)) for code in self.rules.services}

    def oldest_waiting(self, service: str) -> Ticket | None:
        """The earliest-issued ticket at the head of the service's lines, one per priority class (the
        live statistics' longest wait; tickets sent to one window are left out); no scan."""
        heads = (self._queue(service, cls).first() for cls in (*PRIORITY_CLASSES, "normal"))
        tickets = [self._today.tickets[head[2]] for head in heads if head is not None]
        return min(tickets, key=lambda t: t.issued_at, default=None)

    def waiting_for_window(self, window_id: str) -> dict[str, int]:
        """Waiting tickets per service this window serves, in its order (tickets sent to it included)."""
        rules = self.rules.windows.get(window_id)
        return {code: self.waiting_count(code) for code in rules.services} if rules else {}

    def targeted_count(self, window_id: str) -> int:
        """Tickets transferred to this window explicitly and waiting for it (it calls them first)."""
        return len(self._targeted(window_id))

    # ------------------------------------------------------------------ restore

    @classmethod
    def restore(
        cls,
        rules: HallRules,
        tickets: Iterable[Ticket],
        windows: Iterable[WindowStatus],
        counters: Mapping[str, int],
        day: dt.date | None,
    ) -> HallEngine:
        """Rebuild an engine from persisted rows; it then behaves as the one that wrote them."""
        tickets = list(tickets)
        if day is None and tickets:  # no saved day: the newest ticket's day, so numbering continues
            day = max(t.day for t in tickets)
        engine = cls(rules, day)
        today = engine._today
        for status in windows:
            if status.id in engine._windows:
                name = rules.windows[status.id].name
                engine._windows[status.id] = replace(status, name=name, state=WindowState(status.state))
        for window in engine._windows.values():
            window.served_today = 0
        finished: list[Ticket] = []
        called: list[Ticket] = []
        for row in sorted(tickets, key=lambda t: (t.issued_at, t.queue_pos, t.id)):
            ticket = replace(row, status=Status(row.status))
            if day is None or ticket.day != day:
                engine._previous[ticket.id] = ticket
                if ticket.day < (day or ticket.day) and has_transition(Action.expire, ticket.status):  # left open
                    engine._stale.append(ticket)
                continue
            engine._register(ticket)
            today.next_pos = max(today.next_pos, ticket.queue_pos + 1)
            today.next_sub = max(today.next_sub, ticket.queue_sub + 1)
            if ticket.status == Status.waiting:
                engine._enqueue(ticket)
            if ticket.status == Status.done and ticket.window in engine._windows:
                engine._windows[ticket.window].served_today += 1
            if ticket.status == Status.done and ticket.finished_at and ticket.called_at:
                finished.append(ticket)
            if ticket.called_at is not None:
                called.append(ticket)
        for prefix, last in counters.items():
            today.counters[prefix] = max(today.counters.get(prefix, 0), last)
        for ticket in sorted(finished, key=lambda t: (t.finished_at, t.called_at, t.id)):
            if ticket.finished_by != "day-closed":
                engine._learn_service_time(ticket)
        for ticket in sorted(called, key=lambda t: (t.called_at, t.id)):
            if ticket.window in engine._windows and _still_listed(ticket):
                engine._remember_call(engine._call_event(ticket, ticket.called_via or "next"))
        return engine

    def _register(self, ticket: Ticket) -> None:
        """Index a ticket of today: numbering, quota and per-person counts."""
        today = self._today
        today.tickets[ticket.id] = ticket
        today.by_number[ticket.number] = ticket.id
        match = _NUMBER.match(ticket.number)
        if match:
            prefix, n = match.group(1), int(match.group(2))
            today.counters[prefix] = max(today.counters.get(prefix, 0), n)
        issued_for = ticket.issued_service or ticket.service
        if ticket.status != Status.cancelled:
            today.issued[issued_for] = today.issued.get(issued_for, 0) + 1
        if ticket.id_hash:
            key = (issued_for, ticket.id_hash)
            today.per_person[key] = today.per_person.get(key, 0) + 1

    # ------------------------------------------------------------------ lookups that raise

    def _service(self, code: str) -> ServiceRules:
        service = self.rules.services.get(code)
        if service is None:
            raise UnknownService(code)
        return service

    def _window(self, window_id: str) -> WindowStatus:
        status = self._windows.get(window_id)
        if status is None:
            raise UnknownWindow(window_id)
        return status

    def _open_window_status(self, window_id: str) -> WindowStatus:
        status = self._window(window_id)
        if status.state != WindowState.open:
            raise WindowNotOpen(status.name, status.state)
        return status

    def _today_ticket(self, ticket_id: str) -> Ticket:
        ticket = self._today.tickets.get(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        return ticket

    def _current(self, window: WindowStatus, action: Action) -> Ticket:
        """The window's current ticket, if `action` is legal for it."""
        ticket = self._today.tickets.get(window.ticket) if window.ticket else None
        if ticket is None:
            raise NoCurrentTicket(window.name)
        next_status(action, ticket.number, ticket.status)
        return ticket

    def _serving(self, window: WindowStatus) -> Ticket | None:
        """The ticket still being served at `window`: the one a call there finishes first."""
        ticket = self._today.tickets.get(window.ticket) if window.ticket else None
        if ticket is None or ticket.status != Status.called or ticket.window != window.id:
            return None
        return ticket

    def _check_finish_current(self, window: WindowStatus) -> None:
        """Refuse, before anything changes, a call or close the table would not let finish the current ticket."""
        current = self._serving(window)
        if current is not None:
            next_status(Action.finish, current.number, current.status)

    # ------------------------------------------------------------------ queues

    def _queue(self, service: str, cls: str) -> OrderedQueue:
        """A line to read; reading never creates one (queries take any name)."""
        return self._today.queues.get((service, cls)) or _EMPTY

    def _targeted(self, window_id: str) -> OrderedQueue:
        return self._today.targeted.get(window_id) or _EMPTY

    def _enqueue(self, ticket: Ticket) -> None:
        today = self._today
        if ticket.target_window is not None:
            queue = today.targeted.get(ticket.target_window)
            if queue is None:
                queue = today.targeted[ticket.target_window] = OrderedQueue()
        else:
            queue = today.queues.get((ticket.service, ticket.priority))
            if queue is None:
                queue = today.queues[(ticket.service, ticket.priority)] = OrderedQueue()
        queue.add(ticket.rank)
        waiting = self._today.waiting
        waiting[ticket.service] = waiting.get(ticket.service, 0) + 1

    def _dequeue(self, ticket: Ticket) -> None:
        if ticket.target_window is not None:
            self._targeted(ticket.target_window).remove(ticket.rank)
        else:
            self._queue(ticket.service, ticket.priority).remove(ticket.rank)
        self._today.waiting[ticket.service] -= 1

    def _staffed(self, service: str) -> int:
        """Windows serving `service` with a clerk (open or paused); all of them before anyone logs in."""
        serving = self.rules.windows_serving(service)
        staffed = sum(1 for w in serving if self._windows[w].state != WindowState.closed)
        return staffed or len(serving) or 1

    def _pick(self, window: WindowStatus) -> tuple[Ticket, str] | None:
        """Whom call-next calls at `window`, and why ("targeted", "priority" or "next"); no scan."""
        head = self._targeted(window.id).first()
        if head is not None:
            return self._today.tickets[head[2]], "targeted"
        services = self.rules.windows[window.id].services
        priority_head = None
        for cls in PRIORITY_CLASSES:
            priority_head = _oldest(self._queue(s, cls).first() for s in services)
            if priority_head is not None:
                break
        normal_head = _oldest(self._queue(s, "normal").first() for s in services)
        starving = window.consecutive_priority >= self.rules.max_consecutive_priority
        if priority_head is not None and not (starving and normal_head is not None):
            return self._today.tickets[priority_head[2]], "priority"
        if normal_head is not None:
            return self._today.tickets[normal_head[2]], "next"
        return None

    # ------------------------------------------------------------------ shared moves

    def _new_day(self, day: dt.date | None) -> _Day:
        return _Day(day=day)

    def _new_ticket(
        self, service: ServiceRules, ticket_id: str, access: str, now: dt.datetime, **fields: Any
    ) -> Ticket:
        today = self._today
        assert today.day is not None
        ticket = Ticket(
            id=ticket_id,
            access=access,
            number=self._next_number(service.code),
            service=service.code,
            issued_service=service.code,
            day=today.day,
            issued_at=now,
            queue_pos=today.next_pos,
            **fields,
        )
        today.next_pos += 1
        self._register(ticket)
        return ticket

    def _next_number(self, prefix: str) -> str:
        return format_number(prefix, self._today.counters.get(prefix, 0) + 1)

    def _check_new_ticket(self, ticket_id: str, priority: str, green_reason: str | None) -> None:
        if not ticket_id or self.ticket(ticket_id) is not None:
            raise BadCommand(f"号码编号重复 Ticket id {ticket_id!r} is already used; retry with a new id.")
        if priority not in PRIORITIES:
            raise BadCommand(f"优先级无效 Priority must be one of {', '.join(PRIORITIES)}, not {priority!r}.")
        if green_reason is not None and green_reason not in self.rules.green_reasons:
            raise BadCommand(
                f"绿色通道理由无效 Green reason must be one of {', '.join(self.rules.green_reasons)}, "
                f"not {green_reason!r}."
            )

    def _attach(self, ticket: Ticket, window: WindowStatus) -> None:
        """Make `ticket` the window's current one, taking it from whichever window had it before."""
        if ticket.window is not None and ticket.window != window.id:
            previous = self._windows.get(ticket.window)
            if previous is not None and previous.ticket == ticket.id:
                previous.ticket = None
        ticket.window = window.id
        ticket.clerk = window.clerk
        window.ticket = ticket.id

    def _detach(self, ticket: Ticket) -> None:
        """The ticket goes back in line: its window lets go of it and the board forgets its call."""
        self._today.recent.pop(ticket.id, None)
        if ticket.window is not None:
            previous = self._windows.get(ticket.window)
            if previous is not None and previous.ticket == ticket.id:
                previous.ticket = None

    def _move(self, ticket: Ticket, action: Action) -> Status:
        """Every status write of a command: the table's next status. A ticket that stops waiting
        leaves its line, one that starts waiting joins it (place, service and target set before)."""
        was = ticket.status
        status = next_status(action, ticket.number, was)
        if was == Status.waiting and status != Status.waiting:
            self._dequeue(ticket)
        ticket.status = status
        if status == Status.waiting and was != Status.waiting:
            self._enqueue(ticket)
        return status

    def _call(self, ticket: Ticket, window: WindowStatus, now: dt.datetime, via: str, action: Action) -> TicketCalled:
        self._move(ticket, action)
        self._attach(ticket, window)
        ticket.called_at = now
        ticket.first_called_at = ticket.first_called_at or now
        ticket.called_via = via
        ticket.recall_count = 0
        ticket.target_window = None
        event = self._call_event(ticket, via)
        self._remember_call(event)
        return event

    def _call_event(self, ticket: Ticket, via: str, finished: str | None = None) -> TicketCalled:
        assert ticket.window is not None and ticket.called_at is not None
        window_name = self.rules.windows[ticket.window].name
        service = self.rules.services.get(ticket.service)
        service_name = service.name if service else ticket.service
        return TicketCalled(
            at=ticket.called_at,
            ticket_id=ticket.id,
            window=ticket.window,
            type="recall" if ticket.recall_count else "call",
            via="recall" if ticket.recall_count else via,
            number=ticket.number,
            window_name=window_name,
            service=ticket.service,
            service_name=service_name,
            priority=ticket.priority,
            announce=self.rules.announce(ticket.number, window_name, service_name),
            recall_count=ticket.recall_count,
            transferred_from=ticket.transferred_from,
            finished=finished,
        )

    def _remember_call(self, event: TicketCalled) -> None:
        recent = self._today.recent
        assert event.ticket_id is not None
        recent.pop(event.ticket_id, None)
        recent[event.ticket_id] = replace(event, finished=None)
        while len(recent) > self.rules.recent_calls:
            recent.popitem(last=False)

    def _finish(self, ticket: Ticket, now: dt.datetime, by: str) -> TicketFinished:
        self._move(ticket, Action.finish)
        return self._finished(ticket, now, by)

    def _finished(self, ticket: Ticket, now: dt.datetime, by: str, at_window: bool = True) -> TicketFinished:
        """What follows a move to done: counts, the learned service time, the event. A stale ticket
        (an earlier day's, closed late) counts at no window."""
        ticket.finished_at = now
        ticket.finished_by = by
        window = self._windows.get(ticket.window or "") if at_window else None
        if window is not None:
            window.served_today += 1
        if by != "day-closed":
            self._learn_service_time(ticket)
        return TicketFinished(
            at=now,
            ticket_id=ticket.id,
            window=ticket.window if at_window else None,
            number=ticket.number,
            service=ticket.service,
            duration_s=max(0, round((now - (ticket.called_at or now)).total_seconds())),
            automatic=by != "clerk",
            by=by,
        )

    def _learn_service_time(self, ticket: Ticket) -> None:
        assert ticket.finished_at is not None and ticket.called_at is not None
        if ticket.service not in self.rules.services:
            return
        seconds = min(max((ticket.finished_at - ticket.called_at).total_seconds(), 0.0), _MAX_SERVICE_S)
        alpha = self.rules.ewma_alpha
        self._today.ewma_s[ticket.service] = alpha * seconds + (1 - alpha) * self.ewma_service_s(ticket.service)

    def _finish_current(self, window: WindowStatus, now: dt.datetime, by: str) -> TicketFinished | None:
        """Call-next and friends finish the window's ticket that is still being served."""
        ticket = self._serving(window)
        return self._finish(ticket, now, by) if ticket is not None else None

    def _call_at(self, window: WindowStatus, ticket: Ticket, now: dt.datetime, via: str, action: Action) -> list[Event]:
        """Finish the window's current ticket, then call `ticket` there (both checked first)."""
        next_status(action, ticket.number, ticket.status)
        self._check_finish_current(window)
        events: list[Event] = []
        finished = self._finish_current(window, now, "call-next")
        if finished is not None:
            events.append(finished)
        called = self._call(ticket, window, now, via, action)
        events.append(replace(called, finished=finished.ticket_id) if finished else called)
        return events

    def _window_event(self, window: WindowStatus, now: dt.datetime) -> WindowChanged:
        return WindowChanged(
            at=now,
            window=window.id,
            state=window.state.value,
            reason=window.reason,
            clerk=window.clerk,
            window_name=window.name,
        )

    # ------------------------------------------------------------------ tickets in

    def _issue(self, cmd: c.IssueTicket, now: dt.datetime) -> list[Event]:
        service = self._service(cmd.service)
        self._check_new_ticket(cmd.ticket_id, cmd.priority, cmd.green_reason)
        if cmd.channel not in CHANNELS:
            raise BadCommand(f"渠道无效 Channel must be one of {', '.join(CHANNELS)}, not {cmd.channel!r}.")
        if not self.rules.is_open(now, service.code):
            raise HallClosed(service.name, self.rules.hours_text(now, service.code))
        today = self._today
        if service.daily_quota is not None and today.issued.get(service.code, 0) >= service.daily_quota:
            raise QuotaExceeded(service.name, service.daily_quota)
        limit = service.per_person_daily_limit
        if cmd.id_hash and limit is not None and today.per_person.get((service.code, cmd.id_hash), 0) >= limit:
            raise PersonLimitReached(service.name, limit)
        ticket = self._new_ticket(
            service,
            cmd.ticket_id,
            cmd.access,
            now,
            priority=cmd.priority,
            green_reason=cmd.green_reason,
            id_hash=cmd.id_hash,
            masked_name=cmd.masked_name,
            channel=cmd.channel,
            device=cmd.device,
        )
        self._enqueue(ticket)
        return [self._issued_event(ticket, now)]

    def _issued_event(self, ticket: Ticket, now: dt.datetime) -> TicketIssued:
        return TicketIssued(
            at=now,
            ticket_id=ticket.id,
            number=ticket.number,
            service=ticket.service,
            service_name=self._service(ticket.service).name,
            priority=ticket.priority,
            green_reason=ticket.green_reason,
            channel=ticket.channel,
            device=ticket.device,
            masked_name=ticket.masked_name,
            ahead=self.ahead(ticket.id),
            estimated_wait_s=self.estimated_wait_s(ticket),
        )

    def _quick_serve(self, cmd: c.QuickServe, now: dt.datetime) -> list[Event]:
        window = self._open_window_status(cmd.window)
        service = self._service(cmd.service)
        self._check_new_ticket(cmd.ticket_id, cmd.priority, cmd.green_reason)
        next_status(Action.quick_serve, self._next_number(service.code), Status.waiting)  # refuse before issuing
        self._check_finish_current(window)
        ticket = self._new_ticket(
            service,
            cmd.ticket_id,
            cmd.access,
            now,
            priority=cmd.priority,
            green_reason=cmd.green_reason,
            id_hash=cmd.id_hash,
            masked_name=cmd.masked_name,
            channel="counter",
        )
        self._enqueue(ticket)  # so that _call takes it out of the line like any other
        called = self._call_at(window, ticket, now, "quick-serve", Action.quick_serve)
        return [self._issued_event(ticket, now), *called]

    def _cancel(self, cmd: c.Cancel, now: dt.datetime) -> list[Event]:
        ticket = self._today_ticket(cmd.ticket_id)
        self._move(ticket, Action.cancel)
        ticket.cancelled_at = now
        ticket.cancelled_by = cmd.by
        issued_for = ticket.issued_service or ticket.service
        self._today.issued[issued_for] = self._today.issued.get(issued_for, 1) - 1
        return [TicketCancelled(at=now, ticket_id=ticket.id, number=ticket.number, service=ticket.service, by=cmd.by)]

    def _rejoin(self, cmd: c.Rejoin, now: dt.datetime) -> list[Event]:
        ticket = self._today_ticket(cmd.ticket_id)
        next_status(Action.rejoin, ticket.number, ticket.status)
        assert ticket.no_show_at is not None
        if now - ticket.no_show_at > self.rules.rejoin_within:
            raise RejoinTooLate(ticket.number, int(self.rules.rejoin_within.total_seconds() // 60))
        self._detach(ticket)
        self._place_behind(ticket, self.rules.rejoin_after_places)
        ticket.recall_count = 0
        ticket.target_window = None
        self._move(ticket, Action.rejoin)
        return [
            TicketRejoined(
                at=now, ticket_id=ticket.id, number=ticket.number, service=ticket.service, ahead=self.ahead(ticket.id)
            )
        ]

    def _place_behind(self, ticket: Ticket, places: int) -> None:
        """Give a rejoining ticket the place right behind the first `places` tickets of its line."""
        today = self._today
        queue = self._queue(ticket.service, ticket.priority)
        if len(queue) < max(places, 1):
            ticket.queue_pos, ticket.queue_sub = today.next_pos, 0
            today.next_pos += 1
            return
        if places == 0:
            head = queue.nth(0)
            ticket.queue_pos = head[0] - 1
        else:
            ticket.queue_pos = queue.nth(places - 1)[0]
        ticket.queue_sub = today.next_sub  # larger than any sub in use: behind every ticket at that pos
        today.next_sub += 1

    # ------------------------------------------------------------------ calls at a window

    def _call_next(self, cmd: c.CallNext, now: dt.datetime) -> list[Event]:
        window = self._open_window_status(cmd.window)
        picked = self._pick(window)
        if picked is not None:
            next_status(Action.call_next, picked[0].number, picked[0].status)
        self._check_finish_current(window)
        if cmd.clerk and not window.clerk:
            window.clerk = cmd.clerk
        finished = self._finish_current(window, now, "call-next")
        events: list[Event] = [finished] if finished else []
        if picked is None:
            return events
        ticket, why = picked
        if why == "priority":
            window.consecutive_priority += 1
        elif why == "next":
            window.consecutive_priority = 0
        called = self._call(ticket, window, now, why, Action.call_next)
        events.append(replace(called, finished=finished.ticket_id) if finished else called)
        return events

    def _call_number(self, cmd: c.CallNumber, now: dt.datetime) -> list[Event]:
        window = self._open_window_status(cmd.window)
        ticket = self.ticket_by_number(cmd.number)
        if ticket is None:
            raise UnknownTicket(cmd.number)
        return self._call_at(window, ticket, now, "number", Action.call_number)

    def _call_back(self, cmd: c.CallBack, now: dt.datetime) -> list[Event]:
        window = self._open_window_status(cmd.window)
        ticket = self._today_ticket(cmd.ticket_id)
        return self._call_at(window, ticket, now, "call-back", Action.call_back)

    def _recall(self, cmd: c.Recall, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        ticket = self._current(window, Action.recall)
        self._move(ticket, Action.recall)
        ticket.recall_count += 1
        ticket.called_at = now
        event = self._call_event(ticket, "recall")
        self._remember_call(event)
        return [event]

    def _no_show(self, cmd: c.NoShow, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        ticket = self._current(window, Action.no_show)
        self._move(ticket, Action.no_show)
        ticket.no_show_at = now
        return [
            TicketNoShow(
                at=now,
                ticket_id=ticket.id,
                window=window.id,
                number=ticket.number,
                service=ticket.service,
                recall_count=ticket.recall_count,
            )
        ]

    def _finish_cmd(self, cmd: c.Finish, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        ticket = self._current(window, Action.finish)
        return [self._finish(ticket, now, "clerk")]

    def _park(self, cmd: c.Park, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        ticket = self._current(window, Action.park)
        self._move(ticket, Action.park)
        ticket.parked_at = now
        return [
            TicketParked(at=now, ticket_id=ticket.id, window=window.id, number=ticket.number, service=ticket.service)
        ]

    def _transfer(self, cmd: c.Transfer, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        if (cmd.to_service is None) == (cmd.to_window is None):
            raise BadCommand("转移需要指定业务或窗口之一。 A transfer names either a service or a window.")
        if cmd.to_service is not None:
            self._service(cmd.to_service)
        if cmd.to_window is not None:
            target = self._window(cmd.to_window)
            if target.state == WindowState.closed:  # nobody would call it there
                raise WindowNotOpen(target.name, target.state)
            if cmd.to_window == window.id:
                raise BadCommand(f"不能转移到本窗口。 Cannot transfer a ticket to {window.name} itself.")
        ticket = self._current(window, Action.transfer)
        from_service = ticket.service
        self._detach(ticket)
        ticket.service = cmd.to_service or ticket.service
        ticket.target_window = cmd.to_window
        ticket.transferred_from = window.id
        ticket.transfer_count += 1
        ticket.recall_count = 0
        self._move(ticket, Action.transfer)  # back in line, under its new service or window
        return [
            TicketTransferred(
                at=now,
                ticket_id=ticket.id,
                window=window.id,
                number=ticket.number,
                from_window=window.id,
                from_service=from_service,
                to_service=ticket.service,
                to_window=cmd.to_window,
            )
        ]

    # ------------------------------------------------------------------ windows

    def _set_window(self, window: WindowStatus, action: WindowAction, now: dt.datetime) -> WindowState:
        state = next_window_state(action, window.name, window.state)
        window.state = state
        window.changed_at = now
        return state

    def _open_window(self, cmd: c.OpenWindow, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        self._set_window(window, WindowAction.open, now)
        window.reason = None
        window.clerk = cmd.clerk or window.clerk
        return [self._window_event(window, now)]

    def _pause_window(self, cmd: c.PauseWindow, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        self._set_window(window, WindowAction.pause, now)
        window.reason = cmd.reason or None
        return [self._window_event(window, now)]

    def _resume_window(self, cmd: c.ResumeWindow, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        self._set_window(window, WindowAction.resume, now)
        window.reason = None
        return [self._window_event(window, now)]

    def _close_window(self, cmd: c.CloseWindow, now: dt.datetime) -> list[Event]:
        window = self._window(cmd.window)
        next_window_state(WindowAction.close, window.name, window.state)
        self._check_finish_current(window)
        finished = self._finish_current(window, now, "window-closed")
        events: list[Event] = [finished] if finished else []
        events += self._release_targeted(window, now)
        self._set_window(window, WindowAction.close, now)
        window.reason = None
        window.clerk = None
        window.consecutive_priority = 0
        return events + [self._window_event(window, now)]

    def _release_targeted(self, window: WindowStatus, now: dt.datetime) -> list[Event]:
        """Tickets transferred to a window that closes go back to their service's line (same place)."""
        events: list[Event] = []
        for key in list(self._targeted(window.id)):
            ticket = self._today.tickets[key[2]]
            self._dequeue(ticket)
            ticket.target_window = None
            self._enqueue(ticket)
            events.append(
                TicketTransferred(
                    at=now,
                    ticket_id=ticket.id,
                    number=ticket.number,
                    from_window=window.id,
                    from_service=ticket.service,
                    to_service=ticket.service,
                    to_window=None,
                    reason="window-closed",
                )
            )
        return events

    # ------------------------------------------------------------------ after service

    def _evaluate(self, cmd: c.Evaluate, now: dt.datetime) -> list[Event]:
        ticket = self.ticket(cmd.ticket_id)
        if ticket is None:
            raise UnknownTicket(cmd.ticket_id)
        if not isinstance(cmd.score, int) or isinstance(cmd.score, bool) or not 1 <= cmd.score <= 5:
            raise BadCommand(f"评分应为1到5。 The score must be a whole number from 1 to 5, not {cmd.score!r}.")
        next_status(Action.evaluate, ticket.number, ticket.status)
        if ticket.score is not None:
            raise AlreadyEvaluated(ticket.number)
        self._move(ticket, Action.evaluate)
        ticket.score = cmd.score
        ticket.comment = cmd.comment
        ticket.evaluated_at = now
        return [
            TicketEvaluated(at=now, ticket_id=ticket.id, number=ticket.number, score=cmd.score, comment=cmd.comment)
        ]

    # ------------------------------------------------------------------ the day

    def _close_day(self, cmd: c.CloseDay, now: dt.datetime) -> list[Event]:
        """The supervisor closes the hall now: the day's close, the windows closed too, same day."""
        events, _ = self._close_queue(now, close_windows=True, new_day=False)
        assert self._today.day is not None
        return events + [self._day_reset(now, self._today.day, self._today.day, events)]

    def _day_reset(self, now: dt.datetime, day: dt.date, closed_day: dt.date, events: list[Event]) -> DayReset:
        expired = sum(1 for e in events if isinstance(e, TicketExpired))
        finished = sum(1 for e in events if isinstance(e, TicketFinished))
        return DayReset(at=now, day=day, closed_day=closed_day, expired=expired, finished=finished)

    def _close_queue(self, now: dt.datetime, close_windows: bool, new_day: bool) -> tuple[list[Event], list[_Before]]:
        """The day's close: each ticket as the table's `expire` row says (waiting and parked expire,
        called ones finish), the lines dropped; every window lets go of its ticket and gets a fresh
        row. Returns the events and what the tickets were, for undo."""
        windows = self._windows.values()
        if close_windows:  # refuse before anything changes
            for window in windows:
                next_window_state(WindowAction.close, window.name, window.state)
        events: list[Event] = []
        touched: list[_Before] = []
        self._windows = {w.id: replace(w) for w in windows}  # old rows kept for undo
        today = self._today
        self._today = replace(today, queues={}, targeted={}, waiting={})  # old lines kept for undo
        for ticket in today.tickets.values():
            if has_transition(Action.expire, ticket.status):
                touched.append(_Before.of(ticket))
                events.append(self._close_ticket(ticket, now, at_window=True))
            if not new_day and ticket.status == Status.waiting:  # the table kept it in line
                self._enqueue(ticket)
        for window in self._windows.values():
            window.ticket = None
            window.consecutive_priority = 0
            if new_day:
                window.served_today = 0
            if close_windows:
                self._close_for_the_day(window, now)
            events.append(self._window_event(window, now))
        return events, touched

    def _close_ticket(self, ticket: Ticket, now: dt.datetime, at_window: bool) -> Event:
        """One ticket at the day's close, whose status has an `expire` row. Its line is dropped
        whole by the caller, so it leaves it here without a dequeue."""
        was = ticket.status
        ticket.status = next_status(Action.expire, ticket.number, was)
        if ticket.status == Status.done:
            return self._finished(ticket, now, "day-closed", at_window=at_window)
        return TicketExpired(
            at=now, ticket_id=ticket.id, number=ticket.number, service=ticket.service, was=was.value, day=ticket.day
        )

    def _close_for_the_day(self, window: WindowStatus, now: dt.datetime) -> None:
        state = next_window_state(WindowAction.close, window.name, window.state)
        if state != window.state:
            window.state, window.reason, window.clerk, window.changed_at = state, None, None, now

    def _forget_day(self) -> None:
        self._today.day = None

    def _close_stale(self, now: dt.datetime, events: list[Event]) -> Callable[[], None]:
        """Close restored tickets of an earlier day that were still open (the server was down)."""
        stale, self._stale = self._stale, []
        touched = [_Before.of(t) for t in stale]
        for ticket in stale:  # kept in no line and at no window: only their status and counts change
            if has_transition(Action.expire, ticket.status):
                events.append(self._close_ticket(ticket, now, at_window=False))

        def undo() -> None:
            for before in touched:
                before.restore()
            self._stale = stale

        return undo

    def _roll_over(self, day: dt.date, now: dt.datetime, out: list[Event]) -> Callable[[], None]:
        """The first input of a new local day closes the old one (windows keep their state)."""
        old_today, old_previous, old_windows = self._today, self._previous, self._windows
        events, touched = self._close_queue(now, close_windows=False, new_day=True)
        self._previous = old_today.tickets
        self._today = self._new_day(day)
        assert old_today.day is not None
        events.append(self._day_reset(now, day, old_today.day, events))

        def undo() -> None:
            for before in touched:
                before.restore()
            self._today, self._previous, self._windows = old_today, old_previous, old_windows

        out.extend(events)
        return undo


@dataclass(frozen=True)
class _Before:
    """What the day's close changes on a ticket, to put back when the command that caused it fails."""

    ticket: Ticket
    status: Status
    finished_at: dt.datetime | None
    finished_by: str | None

    @classmethod
    def of(cls, ticket: Ticket) -> _Before:
        return cls(ticket, ticket.status, ticket.finished_at, ticket.finished_by)

    def restore(self) -> None:
        self.ticket.status, self.ticket.finished_at, self.ticket.finished_by = (
            self.status,
            self.finished_at,
            self.finished_by,
        )


def _still_listed(ticket: Ticket) -> bool:
    """Whether the ticket's last call is still among the recent calls: it has not gone back in line.
    A ticket parked and then expired by CloseDay keeps its call; one transferred or rejoined does not."""
    if ticket.status in _CALLED_ONCE:
        return True
    parked_last = ticket.parked_at is not None and ticket.called_at is not None and ticket.parked_at >= ticket.called_at
    return ticket.status == Status.expired and parked_last


def _oldest(keys: Iterable[tuple[int, int, str] | None]) -> tuple[int, int, str] | None:
    present = [k for k in keys if k is not None]
    return min(present) if present else None
