"""The one-window cases' numbers (DESIGN §12, docs/stats.md "办件"): received, accepted within 2
working days, decided, 按时办结率, overdue, 即办件 share, 容缺 count.

Read with queries over the cases' own rows, not folded like the queue's events: a case's row keeps
the time of every step, its deadlines are in working days of a calendar the hall may still correct
(a year's holidays published late make deadlines 暂定), and "overdue" happens when nothing happens.
So deadlines are worked out when the numbers are asked for, with the calendar of that moment. Each
step is read by its own indexed time column (`ix_cases_hall_received` / `_accepted` / `_decided`), and
the receipts by their number (SJ + the local day of 收件, the unique `uq_cases_receipt`), so a month or a
year reads only the cases of its range.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hallq.config import HallConfig, ServiceKind
from hallq.stats_models import CaseNumbers, DepartmentNumbers
from server.cases import tables as t
from server.cases.calendar import WorkingCalendar
from server.cases.workflow import ACCEPT_WITHIN_WORKING_DAYS, CaseStatus
from server.store.database import aware

# No 2 working days span more than this many calendar days (the Spring Festival's week included).
ACCEPT_LOOKBACK = dt.timedelta(days=31)
STEP_LABELS = {"accept": "受理", "decide": "办结"}


@dataclass
class CaseTally:
    received: int = 0
    instant: int = 0
    deferred: int = 0
    accepted: int = 0
    accepted_in_time: int = 0
    decided: int = 0
    decided_in_time: int = 0
    overdue: int = 0
    handed_over: int = 0
    handovers_late: int = 0
    prereviewed: int = 0
    prereviewed_first_time: int = 0

    def numbers(self) -> CaseNumbers:
        return CaseNumbers(
            received=self.received,
            instant=self.instant,
            instant_pct=_pct(self.instant, self.received),
            deferred=self.deferred,
            accepted=self.accepted,
            accepted_in_time=self.accepted_in_time,
            accepted_in_time_pct=_pct(self.accepted_in_time, self.accepted),
            decided=self.decided,
            decided_in_time=self.decided_in_time,
            on_time_pct=_pct(self.decided_in_time, self.decided),
            overdue=self.overdue,
        )

    def department_numbers(self) -> DepartmentNumbers:
        return DepartmentNumbers(
            **self.numbers().model_dump(),
            handed_over=self.handed_over,
            handovers_late=self.handovers_late,
            prereviewed=self.prereviewed,
            prereviewed_first_time=self.prereviewed_first_time,
            prereviewed_first_time_pct=_pct(self.prereviewed_first_time, self.prereviewed),
        )


@dataclass(frozen=True)
class OverdueCase:
    """One missed deadline; no citizen data (the receipt number and the item only)."""

    receipt_no: str
    item: str
    item_name: str
    service: str
    step: str  # accept / decide
    due: dt.date
    done: dt.date | None  # the day the step was done (None: not done by the range's end)
    days_over: int  # calendar days past the deadline, to the step or to the range's end

    @property
    def label(self) -> str:
        return f"逾期{STEP_LABELS[self.step]}" if self.done else f"逾期未{STEP_LABELS[self.step]}"


@dataclass
class CaseStats:
    by_day: dict[str, CaseTally] = field(default_factory=dict)
    by_service: dict[str, CaseTally] = field(default_factory=dict)
    by_item: dict[str, CaseTally] = field(default_factory=dict)
    by_department: dict[str, CaseTally] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)  # service code → department
    total: CaseTally = field(default_factory=CaseTally)
    overdue: list[OverdueCase] = field(default_factory=list)
    item_names: dict[str, str] = field(default_factory=dict)  # code → name, in the hall config's order

    def items(self) -> list[tuple[str, str, CaseTally]]:
        """(code, name, tally) of the items with any number, in the hall config's order."""
        known = [code for code in self.item_names if code in self.by_item]
        rest = sorted(code for code in self.by_item if code not in self.item_names)
        return [(code, self.item_names.get(code, code), self.by_item[code]) for code in known + rest]

    def add(self, counts: Iterable[tuple[tuple[str, dt.date, str, str], int]]) -> None:
        """Add counts keyed (number's name, day, service, item) to every grouping."""
        for (name, day, service, item), amount in counts:
            for tally in (
                self.by_day.setdefault(day.isoformat(), CaseTally()),
                self.by_service.setdefault(service, CaseTally()),
                self.by_item.setdefault(item, CaseTally()),
                self.by_department.setdefault(self.departments.get(service, service), CaseTally()),
                self.total,
            ):
                setattr(tally, name, getattr(tally, name) + amount)


class _CachedCalendar(WorkingCalendar):
    """The hall's calendar for one request: each day asked about once (chinese-calendar is slow)."""

    def __init__(self, holidays: Iterable[dt.date], workdays: Iterable[dt.date]) -> None:
        super().__init__(holidays, workdays)
        self._known: dict[dt.date, bool] = {}

    def is_working_day(self, day: dt.date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = super().is_working_day(day)
        return known


class _Reader:
    """One request's range, clock and calendar; counts in a Counter, added to the groupings at the end."""

    def __init__(self, engine: Engine, config: HallConfig, start: dt.date, end: dt.date, today: dt.date) -> None:
        self.engine, self.config, self.hall = engine, config, config.hall.id
        self.tz = config.hall.tz()
        self.start, self.end, self.as_of = start, end, min(today, end)
        self.calendar = _CachedCalendar(config.hall.holidays, config.hall.workdays)
        self._due: dict[tuple[dt.date, int], dt.date] = {}
        self._days: dict[tuple[int, ...], dt.date] = {}
        self._items: dict[str, tuple[str, int | None, bool]] = {}  # code → name, promised days, instant
        self.counts: Counter[tuple[str, dt.date, str, str]] = Counter()
        self.stats = CaseStats()

    def count(self, name: str, day: dt.date, row: Any) -> None:
        self.counts[(name, day, row.service, row.item)] += 1

    def utc(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), self.tz).astimezone(dt.UTC)

    def day(self, moment: dt.datetime) -> dt.date:
        """The hall's local day of a moment; memoised by the quarter hour (every zone's offset is a
        multiple of 15 minutes, so all moments of one quarter share a local day)."""
        key = (moment.year, moment.month, moment.day, moment.hour, moment.minute // 15)
        found = self._days.get(key)
        if found is None:
            found = self._days[key] = (aware(moment) or moment).astimezone(self.tz).date()
        return found

    def due(self, start: dt.date, days: int) -> dt.date:
        key = (start, days)
        if key not in self._due:
            self._due[key] = self.calendar.add_working_days(start, days)
        return self._due[key]

    def item(self, code: str) -> tuple[str, int | None, bool]:
        """(name, promised working days, is a 即办件); an item no longer in the config: no deadline."""
        known = self._items.get(code)
        if known is None:
            found = self.config.item(code)
            if found is None:
                known = (code, None, False)
            else:
                kind = found[1].kind
                known = (found[1].name, found[1].promised_days if kind == ServiceKind.promised else 0,
                         kind == ServiceKind.instant)  # fmt: skip
            self._items[code] = known
        return known

    def rows(self, column: str, since: dt.date, *columns: str) -> list[Any]:
        c = t.cases.c
        time = c[column]
        # the times read as the driver gives them (naive UTC on SQLite): `day` makes them aware, once
        plain = [sa.type_coerce(c[n], sa.DateTime()).label(n) if n.endswith("_at") else c[n] for n in columns]
        query = sa.select(c.item, c.service, *plain).where(
            c.hall == self.hall, time >= self.utc(since), time < self.utc(self.end + dt.timedelta(days=1))
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    # ---- the numbers ----------------------------------------------------------------------------

    def received(self) -> None:
        c, h = t.cases.c, t.case_history.c
        promised = sa.exists().where(h.hall == c.hall, h.case_id == c.id, h.action == "defer")
        query = sa.select(c.receipt_no, c.item, c.service, promised.label("deferred")).where(
            c.hall == self.hall,
            c.receipt_no >= f"SJ{self.start:%Y%m%d}",
            c.receipt_no < f"SJ{self.end + dt.timedelta(days=1):%Y%m%d}",
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            number = row.receipt_no
            day = dt.date(int(number[2:6]), int(number[6:8]), int(number[8:10]))
            self.count("received", day, row)
            if self.item(row.item)[2]:
                self.count("instant", day, row)
            if row.deferred:
                self.count("deferred", day, row)

    def accepted(self) -> None:
        for row in self.rows("accepted_at", self.start, "received_at", "accepted_at"):
            day = self.day(row.accepted_at)
            self.count("accepted", day, row)
            if row.received_at is not None and day <= self.due(self.day(row.received_at), ACCEPT_WITHIN_WORKING_DAYS):
                self.count("accepted_in_time", day, row)

    def decided(self) -> None:
        for row in self.rows("decided_at", self.start, "accepted_at", "decided_at"):
            day = self.day(row.decided_at)
            self.count("decided", day, row)
            days = self.item(row.item)[1]
            if days is not None and row.accepted_at is not None and day <= self.due(self.day(row.accepted_at), days):
                self.count("decided_in_time", day, row)

    def overdue(self) -> None:
        fields = ("id", "receipt_no", "status", "received_at", "accepted_at", "decided_at")
        for row in self.rows("received_at", self.start - ACCEPT_LOOKBACK, *fields):
            due = self.due(self.day(row.received_at), ACCEPT_WITHIN_WORKING_DAYS)
            if self.start <= due <= self.end:
                self.missed(row, "accept", due, self._answered(row))
        longest = max((i.promised_days for s in self.config.services for i in s.items), default=0)
        for row in self.rows("accepted_at", self.start - dt.timedelta(days=2 * longest) - ACCEPT_LOOKBACK, *fields):
            days = self.item(row.item)[1]
            if days is not None:
                due = self.due(self.day(row.accepted_at), days)
                if self.start <= due <= self.end:
                    self.missed(row, "decide", due, self.day(row.decided_at) if row.decided_at else None)

    def handovers(self) -> None:
        """材料交接 signed for in the range, each on its signing day; late if after its deadline."""
        items, sheets, c = t.handover_items.c, t.handovers.c, t.cases.c
        signed = sa.type_coerce(sheets.signed_at, sa.DateTime()).label("signed_at")
        due = sa.type_coerce(items.due_at, sa.DateTime()).label("due_at")
        query = (
            sa.select(c.item, c.service, signed, due)
            .select_from(
                t.handover_items.join(t.handovers, (sheets.hall == items.hall) & (sheets.id == items.handover_id))
            )
            .join(t.cases, (c.hall == items.hall) & (c.id == items.case_id))
            .where(
                items.hall == self.hall,
                sheets.kind == "materials",
                sheets.signed_at >= self.utc(self.start),
                sheets.signed_at < self.utc(self.end + dt.timedelta(days=1)),
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            day = self.day(row.signed_at)
            self.count("handed_over", day, row)
            if row.due_at is not None and aware(row.signed_at) > aware(row.due_at):  # type: ignore[operator]
                self.count("handovers_late", day, row)

    def prereviews(self) -> None:
        """网上预审 passed in the range; first time when the phone sent the materials once."""
        for row in self.rows("prereviewed_at", self.start, "prereviewed_at", "prereview_rounds"):
            day = self.day(row.prereviewed_at)
            self.count("prereviewed", day, row)
            if row.prereview_rounds == 1:
                self.count("prereviewed_first_time", day, row)

    def _answered(self, row: Any) -> dt.date | None:
        """The day the receipt was answered: accepted, or told to correct (一次性告知)."""
        if row.accepted_at is not None:
            return self.day(row.accepted_at)
        if row.status == CaseStatus.correction.value:
            with self.engine.connect() as conn:  # few: only cases waiting for a correction now
                correction = conn.execute(
                    sa.select(t.cases.c.correction).where(t.cases.c.hall == self.hall, t.cases.c.id == row.id)
                ).scalar()
            if correction and correction.get("at"):
                return self.day(dt.datetime.fromisoformat(correction["at"]))
        return None

    def missed(self, row: Any, step: str, due: dt.date, done: dt.date | None) -> None:
        reference = min(done, self.as_of) if done else self.as_of
        if reference <= due:
            return
        self.count("overdue", due, row)
        self.stats.overdue.append(
            OverdueCase(
                receipt_no=row.receipt_no or row.id,
                item=row.item,
                item_name=self.item(row.item)[0],
                service=row.service,
                step=step,
                due=due,
                done=done if done and done <= self.as_of else None,
                days_over=(reference - due).days,
            )
        )


def case_stats(engine: Engine, config: HallConfig, start: dt.date, end: dt.date, today: dt.date) -> CaseStats:
    """The cases' numbers of the local days `start` to `end` (both included), each counted on the day of
    its own step; "overdue" as of `today` (or the range's end if that is earlier)."""
    reader = _Reader(engine, config, start, end, today)
    steps: tuple[Callable[[], None], ...] = (
        reader.received,
        reader.accepted,
        reader.decided,
        reader.overdue,
        reader.handovers,
        reader.prereviews,
    )
    for step in steps:
        step()
    reader.stats.departments = {s.code: s.department for s in config.services}
    reader.stats.add(reader.counts.items())
    reader.stats.item_names = {i.code: i.name for s in config.services for i in s.items}
    reader.stats.overdue.sort(key=lambda case: (case.due, case.receipt_no, case.step))
    return reader.stats


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
