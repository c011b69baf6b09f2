"""Call-next over HTTP with a deep queue against a shallow one (issue 18: ratio ≤ 2 for 100 000
waiting against 10).

For each depth: the hall's database is filled with that many waiting tickets by the real dispatcher
in process (the engine and the group commit; SQLite with synchronous=NORMAL to fill it quickly), then
the real `hallq server --demo` is started on it (it rebuilds its engine from the rows), a clerk logs
in to window 1 and calls next CALLS times, one after the other (a ticket issued before each, so the
depth stays), each call timed from request to answer.

    .venv/bin/python bench/deep_queue.py [--deep 100000] [--shallow 10] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from http_bench import DEMO, bench_config, percentile, profiled, server, settle  # bench/ is this script's folder

from server.engine import commands as c
from server.runtime import Dispatcher
from server.settings import build_settings
from server.store import Store
from server.usecases.common import nothing
from server.usecases.tickets import new_access, new_ticket_id

CHUNK = 500  # tickets handled together: the group commit writes them in a few transactions


async def fill(database: str, config: Path, waiting: int) -> None:
    settings = build_settings(demo=True, config=str(config), database=database, environ={})
    store = Store(database, sqlite_synchronous="NORMAL")
    dispatcher = Dispatcher(settings, store)
    await dispatcher.start()
    try:
        for start in range(0, waiting, CHUNK):
            count = min(CHUNK, waiting - start)
            issues = [c.IssueTicket(service="A", ticket_id=new_ticket_id(), access=new_access()) for _ in range(count)]
            await asyncio.gather(*(dispatcher.execute("demo", command, nothing) for command in issues))
    finally:
        await dispatcher.stop()


def call_next_latencies(url: str, calls: int) -> list[float]:
    with httpx.Client(base_url=url, timeout=30) as client:
        login = client.post("/auth/login", json={"username": "clerk1", "password": "demo", "window": "1"})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        latencies = []
        for n in range(calls):
            # one more ticket before each call, untimed: the queue stays as deep as it was filled
            client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO).raise_for_status()
            began = time.perf_counter()
            answer = client.post("/halls/demo/windows/1/call-next", headers={**headers, "Idempotency-Key": f"d{n}"})
            latencies.append(time.perf_counter() - began)
            answer.raise_for_status()
        return latencies


def measure(waiting: int, calls: int, profile: Path | None = None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database = f"sqlite:///{workdir / 'deep.sqlite3'}"
        began = time.perf_counter()
        asyncio.run(fill(database, bench_config(workdir), waiting))
        print(f"  {waiting} waiting tickets issued in {time.perf_counter() - began:.1f} s", flush=True)
        with server(database, workdir) as (url, pid):
            # the filling's events are folded and published first, as they would have been as they came
            print(f"  dispatcher idle after {settle(pid, 600):.1f} s", flush=True)
            with profiled(pid, profile, f"depth-{waiting}", rate=100):
                latencies = call_next_latencies(url, calls)
    return percentile(latencies, 50), percentile(latencies, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deep", type=int, default=100_000)
    parser.add_argument("--shallow", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--profile", type=Path, metavar="FOLDER", help="py-spy on the dispatcher while it calls")
    args = parser.parse_args()
    results = {}
    for depth in (args.shallow, args.deep):
        print(f"depth {depth}:", flush=True)
        results[depth] = measure(depth, args.calls, args.profile)
    print("| waiting | call-next p50 | p99 |\n|---|---|---|")
    for depth, (p50, p99) in results.items():
        print(f"| {depth} | {p50 * 1000:.1f} ms | {p99 * 1000:.1f} ms |")
    (deep50, _), (shallow50, _) = results[args.deep], results[args.shallow]
    print(f"ratio p50 deep / shallow: {deep50 / shallow50:.2f}× (target ≤ 2)")


if __name__ == "__main__":
    main()
