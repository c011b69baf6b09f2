"""Statistics: what the roll-up costs the issue path, how fast events fold, and how fast a month or a
year of a big hall reads back.

  1. issue rate: CLIENTS concurrent issuers send TICKETS tickets through `Dispatcher.execute`
     (in process, durable group commits), with the folding worker off and on, alternating ROUNDS;
  2. folding: `rebuild` of everything issued above, events per second;
  3. reading: a month and a year of a big hall (3 000 tickets a day, 12 windows) folded from synthetic
     events into the roll-ups, then `hall_stats` by day and by window, p50 of REPEAT reads;
  4. the cases' numbers: a year of CASES_PER_DAY one-window cases a working day written as rows, then
     `case_stats` (server/stats/cases.py) over a month and over the year, p50 of REPEAT reads.

    .venv/bin/python bench/stats_bench.py [--tickets 1500] [--clients 8] [--rounds 2] [--pg]
                                          [--only issue|read|cases]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hallq.config import example_config_path, load_hall_config  # noqa: E402
from server.cases import tables as case_tables  # noqa: E402
from server.engine import commands as c  # noqa: E402
from server.runtime import Dispatcher  # noqa: E402
from server.stats.cases import case_stats  # noqa: E402
from server.stats.folding import Fold  # noqa: E402
from server.stats.queries import hall_stats  # noqa: E402
from server.stats.rollups import add_cells, rebuild  # noqa: E402
from server.stats.worker import StatsFolder  # noqa: E402
from server.store import Store  # noqa: E402
from server.usecases.common import nothing  # noqa: E402
from tests.server.conftest import fresh_pg_database, make_settings  # noqa: E402
from tests.stats.scenario import small_hall  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST_DAY = dt.date(2026, 1, 1)


async def issue_rate(url: str, tickets: int, clients: int, folding: bool) -> tuple[float, float]:
    """Tickets per second and p50 latency (ms) of issuing through the dispatcher."""
    store = Store(url)
    dispatcher = Dispatcher(make_settings(url, small_hall()), store)
    await dispatcher.start()
    folder = StatsFolder(dispatcher)
    if folding:
        folder.start()
    latencies: list[float] = []
    queue = list(range(tickets))

    async def client() -> None:
        while queue:
            queue.pop()
            started = time.perf_counter()
            command = c.IssueTicket(service="A", ticket_id=uuid.uuid4().hex, access="k" * 16)
            await dispatcher.execute("demo", command, nothing)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    if folding:
        await asyncio.to_thread(folder.wait_folded, 120)
        await asyncio.to_thread(folder.stop)
    await dispatcher.stop()
    return tickets / elapsed, statistics.median(latencies) * 1000


def synthetic_day(fold: Fold, day: dt.date, rng: random.Random, tickets: int) -> None:
    """A big hall's day as events: issues over 08:30-17:00, each called at one of 12 windows and finished."""
    windows = [str(n) for n in range(1, 13)]
    for n, window in enumerate(windows):
        opened = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)
        fold.apply("window_changed", {"at": opened.isoformat(), "window": window, "state": "open",
                                      "clerk": f"clerk{n + 1}"})  # fmt: skip
    for n in range(tickets):
        issued = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI) + dt.timedelta(seconds=rng.randrange(30600))
        called = issued + dt.timedelta(seconds=rng.randrange(60, 3600))
        finished = called + dt.timedelta(seconds=rng.randrange(120, 1200))
        ticket, service, window = f"{day}-{n}", rng.choice("ABCDEFGHJK"), rng.choice(windows)
        fold.apply("ticket_issued", {"at": issued.isoformat(), "ticket_id": ticket, "service": service})
        fold.apply("ticket_called", {"at": called.isoformat(), "ticket_id": ticket, "service": service,
                                     "window": window, "type": "call"})  # fmt: skip
        served_s = int((finished - called).total_seconds())
        fold.apply("ticket_finished", {"at": finished.isoformat(), "ticket_id": ticket, "service": service,
                                       "window": window, "duration_s": served_s})  # fmt: skip
    for window in windows:
        closed = dt.datetime.combine(day, dt.time(17, 30), SHANGHAI)
        fold.apply("window_changed", {"at": closed.isoformat(), "window": window, "state": "closed", "clerk": None})


def fill_rollups(store: Store, first: dt.date, days: int, tickets_per_day: int) -> int:
    """Fold `days` synthetic days from `first` into the roll-ups; returns the roll-up rows written."""
    rng = random.Random(first.toordinal())
    rows = 0
    for n in range(days):
        fold = Fold(SHANGHAI, {}, {})
        synthetic_day(fold, first + dt.timedelta(days=n), rng, tickets_per_day)
        with store.engine.begin() as conn:
            add_cells(conn, "demo", fold.cells)
        rows += len(fold.cells)
    return rows


def read_latency(store: Store, days: int, by: str, repeat: int) -> float:
    config = small_hall()
    end = FIRST_DAY + dt.timedelta(days=days - 1)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        hall_stats(store, config, FIRST_DAY, end, by)  # type: ignore[arg-type]
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


@contextlib.contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.sqlite3"


Databases = Callable[[], contextlib.AbstractContextManager[str]]


def issue_part(label: str, database: Databases, args: argparse.Namespace) -> None:
    with database() as url:
        results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(args.rounds):  # alternating, so both see the same load on a shared machine
            for folding in (False, True):
                results[folding].append(asyncio.run(issue_rate(url, args.tickets, args.clients, folding)))
        for folding in (False, True):
            rate = statistics.median(r for r, _ in results[folding])
            p50 = statistics.median(p for _, p in results[folding])
            state = "on " if folding else "off"
            print(f"{label}: issue, folding {state}: {rate:7.1f} tickets/s, p50 {p50:.1f} ms")
        store = Store(url)
        began = time.perf_counter()
        events = rebuild(store, "demo", SHANGHAI)
        print(f"{label}: rebuild folded {events} events at {events / (time.perf_counter() - began):.0f} events/s")
        store.close()


def read_part(label: str, database: Databases, args: argparse.Namespace) -> None:
    with database() as url:
        store = Store(url)
        store.migrate()
        written = 0
        for days in (30, 365):
            began = time.perf_counter()
            written += fill_rollups(store, FIRST_DAY + dt.timedelta(days=written and 30), days - (30 if written else 0),
                                    args.per_day)  # fmt: skip
            print(f"{label}: {days} days of {args.per_day} tickets a day: {written} hourly roll-up rows"
                  f" (folded and written in {time.perf_counter() - began:.1f} s)")  # fmt: skip
            for by in ("day", "window"):
                p50 = read_latency(store, days, by, args.repeat)
                print(f"{label}:   stats by {by} over {days} days: p50 {p50:.0f} ms")
        store.close()


def fill_cases(store: Store, year: int, per_day: int) -> int:
    """A year of cases of the example hall's items, written as rows: accepted 0-2 days after 收件 (one in
    31 after 4 days), decided within the promised days (one in 31 late), 3 % still undecided; 10 % 容缺."""
    config = load_hall_config(example_config_path())
    items = [(s.code, i.code, i.kind.value == "instant") for s in config.services for i in s.items]
    rng = random.Random(year)
    cases, history = [], []
    day = dt.date(year, 1, 1)
    while day.year == year:
        for k in range(per_day if day.weekday() < 5 else 0):
            service, item, instant = rng.choice(items)
            received = dt.datetime.combine(day, dt.time(9), SHANGHAI) + dt.timedelta(minutes=k)
            accepted = received + dt.timedelta(days=0 if instant else rng.choice([0, 0, 1, 1, 2] * 6 + [4]))
            late = rng.choice([1, 2, 3, 4, 5] * 6 + [12])
            decided = accepted + dt.timedelta(days=0 if instant else late) if rng.random() < 0.97 else None
            case_id = f"{day:%Y%m%d}-{k}"
            cases.append({"hall": "demo", "id": case_id, "receipt_no": f"SJ{day:%Y%m%d}{k + 1:04d}", "item": item,
                          "service": service, "status": "approved" if decided else "accepted", "channel": "kiosk",
                          "access_sha256": "-", "created_at": received, "received_at": received,
                          "accepted_at": accepted, "decided_at": decided, "updated_at": received})  # fmt: skip
            if k % 10 == 0:
                history.append({"hall": "demo", "case_id": case_id, "at": received, "actor": "device:kiosk",
                                "role": "kiosk", "action": "defer", "to_status": "draft"})  # fmt: skip
        day += dt.timedelta(days=1)
    with store.engine.begin() as conn:
        conn.execute(case_tables.cases.insert(), cases)
        conn.execute(case_tables.case_history.insert(), history)
    return len(cases)


def cases_part(label: str, database: Databases, args: argparse.Namespace) -> None:
    config = load_hall_config(example_config_path())
    with database() as url:
        store = Store(url)
        store.migrate()
        written = fill_cases(store, 2025, args.cases_per_day)
        print(f"{label}: {written} cases in 2025 ({args.cases_per_day} a working day)")
        for name, start, end in (("June", dt.date(2025, 6, 1), dt.date(2025, 6, 30)),
                                 ("the year", dt.date(2025, 1, 1), dt.date(2025, 12, 31))):  # fmt: skip
            times, cpu = [], []  # wall, and this process's CPU (the shared machine's load inflates the wall)
            for _ in range(args.repeat):
                began, began_cpu = time.perf_counter(), time.process_time()
                found = case_stats(store.engine, config, start, end, dt.date(2026, 1, 5))
                times.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
            wall, used = statistics.median(times) * 1000, statistics.median(cpu) * 1000
            print(f"{label}:   cases over {name}: {found.total.received} received, {found.total.overdue} overdue,"
                  f" p50 {wall:.0f} ms (CPU {used:.0f} ms)")  # fmt: skip
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--per-day", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--cases-per-day", type=int, default=200)
    parser.add_argument("--only", choices=("issue", "read", "cases"), help="run one part only")
    args = parser.parse_args()
    databases: list[tuple[str, Databases]] = [("sqlite", sqlite_url)]
    if args.pg:
        databases.append(("postgresql", fresh_pg_database))
    for label, database in databases:
        if args.only in (None, "issue"):
            issue_part(label, database, args)
        if args.only in (None, "read"):
            read_part(label, database, args)
        if args.only in (None, "cases"):
            cases_part(label, database, args)


if __name__ == "__main__":
    main()
