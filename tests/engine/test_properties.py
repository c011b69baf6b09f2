"""Property tests over random command sequences (hypothesis).

For any sequence of kiosk, clerk, citizen and clock commands:
- no ticket is ever called by two windows at once, and no window holds two called tickets;
- a refused command changes nothing;
- the anti-starvation bound holds at every window;
- numbers never repeat within a day;
- the queues agree with the tickets (counts, people ahead);
- every waiting ticket is served while a window serving its service stays open;
- an engine restored from the rows behaves exactly like the one that wrote them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine import (
    CallBack,
    CallNext,
    CallNumber,
    Cancel,
    CloseDay,
    CloseWindow,
    DayReset,
    EngineError,
    Evaluate,
    Event,
    Finish,
    HallEngine,
    HallRules,
    IssueTicket,
    NoShow,
    OpenWindow,
    Park,
    PauseWindow,
    QuickServe,
    Recall,
    Rejoin,
    ResumeWindow,
    Status,
    Ticket,
    TicketCalled,
    TicketIssued,
    Transfer,
    WindowState,
    WindowStatus,
)
from server.engine.commands import Command

from .conftest import START, small_rules


def snapshot(engine: HallEngine) -> tuple[Any, ...]:
    """A cheap picture of everything observable (field values are immutable)."""
    return (
        [tuple(getattr(t, f) for f in TICKET_FIELDS) for t in engine.tickets()],
        [tuple(getattr(w, f) for f in WINDOW_FIELDS) for w in engine.windows()],
        engine.waiting_counts(),
        engine.recent_calls(),
        engine.counters(),
        engine.day,
    )


TICKET_FIELDS = [f.name for f in dataclasses.fields(Ticket)]
WINDOW_FIELDS = [f.name for f in dataclasses.fields(WindowStatus)]
SERVICES = ["A", "B", "C"]
WINDOWS = ["1", "2", "3"]
RULES = small_rules(rejoin_after_places=2, max_consecutive_priority=2)

windows = st.sampled_from(WINDOWS)
services = st.sampled_from(SERVICES)
pick = st.integers(min_value=0, max_value=10_000)  # an index into the tickets issued so far

# How often each kind of command comes up: mostly tickets in and calls out, some of everything else.
WEIGHTS = {
    "issue": 10,
    "call": 10,
    "finish": 3,
    "recall": 2,
    "no_show": 2,
    "park": 2,
    "call_back": 2,
    "cancel": 2,
    "rejoin": 3,
    "to_service": 2,
    "to_window": 2,
    "call_number": 2,
    "open": 2,
    "pause": 1,
    "resume": 1,
    "close": 1,
    "quick": 1,
    "evaluate": 2,
    "wait": 2,
    "close_day": 1,
}
KINDS = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
ARGS: dict[str, Any] = {
    "issue": st.tuples(services, st.sampled_from(["normal", "normal", "normal", "green", "appointment"]), pick),
    "call_back": st.tuples(windows, pick),
    "cancel": st.tuples(pick),
    "rejoin": st.tuples(pick),
    "to_service": st.tuples(windows, services),
    "to_window": st.tuples(windows, windows),
    "call_number": st.tuples(windows, pick),
    "quick": st.tuples(windows, services),
    "evaluate": st.tuples(pick, st.integers(min_value=0, max_value=6)),
    "wait": st.tuples(st.sampled_from([60, 600, 3600, 20 * 3600])),
    "close_day": st.just(()),
}


@st.composite
def op(draw: st.DrawFn) -> tuple[Any, ...]:
    kind = draw(st.sampled_from(KINDS))
    args = draw(ARGS.get(kind, st.tuples(windows)))
    return (kind, *args)


ops = st.lists(op(), min_size=25, max_size=120)
OPENING = [("open", w) for w in WINDOWS]  # each run starts with the clerks logged in


class Run:
    """Plays ops against an engine and checks the invariants after every command."""

    def __init__(self, engine: HallEngine, now: dt.datetime = START) -> None:
        self.engine = engine
        self.now = now
        self.ids: list[str] = []
        self.serial = 0
        self.events: list[Event] = []
        self.numbers: set[tuple[dt.date, str]] = set()
        self.run_of_priority: Counter[str] = Counter()
        self.called_at: dict[str, str] = {}

    def ticket_id(self, index: int, wanted: Status | None = None) -> str:
        """Mostly a ticket in the state the command needs (so it can succeed), sometimes any ticket."""
        if not self.ids:
            return "none"
        candidates = self.ids
        if wanted is not None and index % 4:
            fitting = [i for i in self.ids if (t := self.engine.ticket(i)) is not None and t.status == wanted]
            candidates = fitting or self.ids
        return candidates[index % len(candidates)]

    def command(self, item: tuple[Any, ...]) -> Command | None:
        kind, *args = item
        ids = self.ticket_id
        if kind in ("issue", "quick"):
            self.serial += 1
            new_id = f"t{self.serial}"
            if kind == "quick":
                return QuickServe(window=args[0], service=args[1], ticket_id=new_id, access="k")
            return IssueTicket(
                service=args[0],
                ticket_id=new_id,
                access="k",
                priority=args[1],
                id_hash=f"person{args[2] % 4}",
                channel="appointment" if args[1] == "appointment" else "kiosk",
            )
        number = self.engine.ticket(ids(args[-1], Status.waiting)) if kind == "call_number" else None
        table: dict[str, Any] = {
            "call": lambda: CallNext(args[0]),
            "recall": lambda: Recall(args[0]),
            "no_show": lambda: NoShow(args[0]),
            "finish": lambda: Finish(args[0]),
            "park": lambda: Park(args[0]),
            "call_back": lambda: CallBack(args[0], ids(args[1], Status.parked)),
            "cancel": lambda: Cancel(ids(args[0], Status.waiting)),
            "rejoin": lambda: Rejoin(ids(args[0], Status.no_show)),
            "to_service": lambda: Transfer(window=args[0], to_service=args[1]),
            "to_window": lambda: Transfer(window=args[0], to_window=args[1]),
            "call_number": lambda: CallNumber(args[0], number.number if number else "A999"),
            "open": lambda: OpenWindow(args[0], clerk=f"clerk{args[0]}"),
            "pause": lambda: PauseWindow(args[0], reason="break"),
            "resume": lambda: ResumeWindow(args[0]),
            "close": lambda: CloseWindow(args[0]),
            "evaluate": lambda: Evaluate(ticket_id=ids(args[0], Status.done), score=args[1]),
            "close_day": lambda: CloseDay(),
        }
        if kind == "wait":
            self.now += dt.timedelta(seconds=args[0])
            return None
        command: Command = table[kind]()
        return command

    def play(self, item: tuple[Any, ...]) -> list[Event]:
        command = self.command(item)
        if command is None:
            return []
        return self.handle(command)

    def handle(self, command: Command) -> list[Event]:
        self.now += dt.timedelta(seconds=7)
        normal_waiting = self.normal_waiting_for(command.window) if isinstance(command, CallNext) else False
        before = snapshot(self.engine)
        try:
            events = self.engine.handle(command, self.now)
        except EngineError:
            assert snapshot(self.engine) == before, f"{command} was refused but changed the hall"
            return []
        self.events += events
        for event in events:
            self.observe(event, command, normal_waiting)
        self.check_state()
        return events

    def normal_waiting_for(self, window: str) -> bool:
        served = RULES.windows[window].services
        return any(
            t.status == Status.waiting and t.priority == "normal" and t.target_window is None and t.service in served
            for t in self.engine.tickets()
        )

    def observe(self, event: Event, command: Command, normal_waiting: bool) -> None:
        if isinstance(event, TicketIssued):
            assert event.ticket_id is not None
            self.ids.append(event.ticket_id)
            key = (RULES.local_day(event.at), event.number)
            assert key not in self.numbers, f"number {event.number} issued twice on {key[0]}"
            self.numbers.add(key)
        if isinstance(event, TicketCalled) and event.type == "call":
            assert event.ticket_id is not None and event.window is not None
            if event.via in ("priority", "next"):
                if event.via == "priority":
                    # the bound: a priority call after max in a row only when no normal ticket waits here
                    assert self.run_of_priority[event.window] < RULES.max_consecutive_priority or not normal_waiting
                    self.run_of_priority[event.window] += 1
                else:
                    self.run_of_priority[event.window] = 0
        if isinstance(command, CloseWindow):
            self.run_of_priority[command.window] = 0
        if isinstance(event, DayReset):
            self.run_of_priority.clear()

    def check_state(self) -> None:
        engine = self.engine
        tickets = list(engine.tickets())
        pointers = [w.ticket for w in engine.windows() if w.ticket]
        assert len(pointers) == len(set(pointers)), "two windows hold the same ticket"
        called_per_window = Counter(t.window for t in tickets if t.status == Status.called)
        assert all(n == 1 for n in called_per_window.values()), "a window holds two called tickets"
        for ticket in tickets:
            if ticket.status == Status.called:
                window = engine.window(ticket.window or "")
                assert window is not None and window.ticket == ticket.id
        waiting = Counter(t.service for t in tickets if t.status == Status.waiting)
        for code in SERVICES:
            assert engine.waiting_count(code) == waiting[code]
        targeted = Counter(t.target_window for t in tickets if t.status == Status.waiting)
        for ticket in tickets:
            if ticket.status == Status.waiting:
                line = targeted[ticket.target_window] if ticket.target_window else waiting[ticket.service]
                assert 0 <= engine.ahead(ticket.id) < line
                if ticket.target_window:
                    target = engine.window(ticket.target_window)
                    assert target is not None and target.state != WindowState.closed

    def drain(self) -> None:
        """Clerks keep calling at the open windows: everyone they may serve must be called."""
        engine = self.engine
        open_windows = [w.id for w in engine.windows() if w.state == WindowState.open]

        def servable(ticket: Any) -> bool:
            if ticket.target_window is not None:
                return ticket.target_window in open_windows
            return any(ticket.service in RULES.windows[w].services for w in open_windows)

        expected = [t for t in engine.tickets() if t.status == Status.waiting and servable(t)]
        for _ in range(len(expected) + 1):
            for window in open_windows:
                self.handle(CallNext(window))
        assert all(t.status != Status.waiting for t in expected), "an open window left a ticket waiting"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_random_days_keep_every_invariant(items: list[tuple[Any, ...]]) -> None:
    run = Run(HallEngine(RULES))
    for item in OPENING + items:
        run.play(item)
    run.drain()


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=6), st.integers(min_value=0, max_value=12), st.integers(0, 12))
def test_anti_starvation_bound_under_a_flood_of_priority(limit: int, greens: int, normals: int) -> None:
    rules = small_rules(max_consecutive_priority=limit)
    engine = HallEngine(rules)
    now = START
    engine.handle(OpenWindow("1"), now)
    for i in range(greens):
        engine.handle(IssueTicket(service="A", ticket_id=f"g{i}", access="k", priority="green"), now)
    for i in range(normals):
        engine.handle(IssueTicket(service="A", ticket_id=f"n{i}", access="k"), now)
    order = []
    for _ in range(greens + normals):
        now += dt.timedelta(minutes=1)
        call = engine.handle(CallNext("1"), now)[-1]
        assert isinstance(call, TicketCalled)
        order.append("g" if call.priority == "green" else "n")
    text = "".join(order)
    served_normals = 0
    for i, kind in enumerate(text):
        if kind == "n":
            served_normals += 1
        run = len(text[: i + 1]) - len(text[: i + 1].rstrip("g"))
        if served_normals < normals:
            assert run <= limit, text
    assert text.count("g") == greens and text.count("n") == normals


def rows_of(run: Run) -> tuple[list[Any], list[Any], dict[str, int], dt.date | None]:
    """What the store holds: copies of every ticket row it could load, every window row, the counters."""
    engine = run.engine
    tickets = [engine.ticket(i) for i in dict.fromkeys(run.ids)]
    return (
        [dataclasses.replace(t) for t in tickets if t is not None],
        [dataclasses.replace(w) for w in engine.windows()],
        engine.counters(),
        engine.day,
    )


def restored(rules: HallRules, run: Run) -> Run:
    tickets, windows_, counters, day = rows_of(run)
    twin = Run(HallEngine.restore(rules, tickets, windows_, counters, day), run.now)
    twin.ids, twin.serial = list(run.ids), run.serial
    twin.numbers, twin.run_of_priority = set(run.numbers), Counter(run.run_of_priority)
    return twin


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, ops)
def test_restore_round_trip_behaves_identically(first: list[tuple[Any, ...]], then: list[tuple[Any, ...]]) -> None:
    original = Run(HallEngine(RULES))
    for item in OPENING + first:
        original.play(item)
    twin = restored(RULES, original)
    assert snapshot(twin.engine) == snapshot(original.engine)
    for item in then:
        a = [e.to_dict() for e in original.play(item)]
        b = [e.to_dict() for e in twin.play(item)]
        assert a == b, item
        assert snapshot(twin.engine) == snapshot(original.engine)
    assert twin.engine.waiting_counts() == original.engine.waiting_counts()
    for ticket_id in original.ids:
        assert twin.engine.ahead(ticket_id) == original.engine.ahead(ticket_id)
