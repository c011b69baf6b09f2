"""Call-next cost of the queue engine with 10, 1 000 and 100 000 waiting tickets (no I/O, no HTTP).

    .venv/bin/python bench/engine_callnext.py [--calls 5000]

For each size it fills the demo hall's comprehensive services (A, B, H at windows 1-3) with that
many waiting tickets — a tenth green, the rest normal — then times call-next at the three windows,
issuing one new ticket after each call so the line keeps its length. It also times issue and the
"people ahead" query of a ticket in the middle of its line. Prints the median microseconds per
operation (median, because the machine may be shared) and the 99th percentile of call-next.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time

from hallq.config import example_config_path, load_hall_config
from server.engine import CallNext, HallEngine, IssueTicket, OpenWindow
from server.hall_rules import rules_from_config

SERVICES = ("A", "B", "H")
WINDOWS = ("1", "2", "3")


def filled_engine(waiting: int) -> tuple[HallEngine, dt.datetime, int]:
    config = load_hall_config(example_config_path())
    config = config.model_copy(update={"hall": config.hall.model_copy(update={"around_the_clock": True})})
    services = [
        s.model_copy(update={"daily_quota": None, "per_person_daily_limit": None}) if s.code in SERVICES else s
        for s in config.services
    ]
    rules = rules_from_config(config.model_copy(update={"services": services}))
    engine = HallEngine(rules)
    now = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
    for window in WINDOWS:
        engine.handle(OpenWindow(window, clerk=f"clerk{window}"), now)
    for i in range(waiting):
        engine.handle(issue(i), now)
    return engine, now, waiting


def issue(i: int) -> IssueTicket:
    priority = "green" if i % 10 == 0 else "normal"
    return IssueTicket(service=SERVICES[i % 3], ticket_id=f"t{i}", access="k", priority=priority)


def measure(waiting: int, calls: int) -> dict[str, float]:
    engine, now, serial = filled_engine(waiting)
    call_ns: list[int] = []
    issue_ns: list[int] = []
    ahead_ns: list[int] = []
    for n in range(calls):
        now += dt.timedelta(seconds=1)
        command = CallNext(WINDOWS[n % 3])
        start = time.perf_counter_ns()
        events = engine.handle(command, now)
        call_ns.append(time.perf_counter_ns() - start)
        assert events and events[-1].kind == "ticket_called"
        new = issue(serial)
        serial += 1
        start = time.perf_counter_ns()
        engine.handle(new, now)
        issue_ns.append(time.perf_counter_ns() - start)
        middle = f"t{serial - 1 - waiting // 2}"  # issued half a line ago: mid-queue, still waiting
        start = time.perf_counter_ns()
        engine.ahead(middle)
        ahead_ns.append(time.perf_counter_ns() - start)
    waiting_now = sum(count for count, _ in engine.waiting_counts().values())
    assert waiting_now == waiting, (waiting_now, waiting)
    return {
        "call_us": statistics.median(call_ns) / 1000,
        "call_p99_us": sorted(call_ns)[int(len(call_ns) * 0.99)] / 1000,
        "issue_us": statistics.median(issue_ns) / 1000,
        "ahead_us": statistics.median(ahead_ns) / 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="call-next operations per size")
    parser.add_argument("--sizes", default="10,1000,100000")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()} {platform.processor() or ''}".rstrip())
    print(f"{'waiting':>8} | {'call-next µs (median)':>21} | {'p99 µs':>7} | {'issue µs':>8} | {'ahead µs':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(size, args.calls)
        call, p99, issued, ahead = r["call_us"], r["call_p99_us"], r["issue_us"], r["ahead_us"]
        print(f"{size:>8} | {call:>21.1f} | {p99:>7.1f} | {issued:>8.1f} | {ahead:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
