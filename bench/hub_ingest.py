"""The city's hub (issue 16): events ingested per second from many halls at once, and a town's
catch-up after a day offline.

    .venv/bin/python bench/hub_ingest.py [--halls 50] [--days 2] [--per-day 220] [--town-per-day 220]

Both parts run a real `hallq hub` on a fresh PostgreSQL database and ship real events: a day (or
`--days`) of the demo hall's traffic made by the real engine (server/stats/demo_history.py, the
same simulation `hallq demo` seeds its month with: arrivals by the hour, windows, lunch pauses,
no-shows, transfers, ratings).

1. Ingestion: `--halls` halls registered, each shipping the same days of events under its own id, all
   at once, each in batches of 500 as the uplink sends them (`POST /hub/halls/{hall}/events`, its own
   token). Reported: events stored per second (all halls' events ÷ the time until the last batch is
   acknowledged), the batches' latency, and the time until the hub's statistics have folded them all.
2. Catch-up: a town's dispatcher (`hallq server --hub`) whose database holds a working day that never
   reached the hub (8 hours offline) starts; reported: the time from its start to the hub holding
   every event (acked_seq), and to the hub's numbers counting them (folded_seq).
3. The queue with the hub away: `--tickets` kiosk tickets from 8 clients at a hall whose uplink has
   no hub, a hub that accepts connections and never answers (a hung WAN line), and a live hub
   taking every event as it is committed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_bench import SECRET, cpu_seconds, fresh_pg, hallq_command, issue_phase, percentile, server  # noqa: E402
from hallq.ports import free_ports  # noqa: E402
from server.auth import sha256_hex  # noqa: E402
from server.network.registry import HallRegistry  # noqa: E402
from server.network.uplink import BATCH  # noqa: E402
from server.store import EventRow, Store  # noqa: E402

A_WEDNESDAY = dt.date(2026, 12, 3)  # the seeded days end the day before: Tue Dec 2 and before


def seeded_events(workdir: Path, days: int, per_day: int) -> list[EventRow]:
    """The demo hall's events over `days` calendar days before A_WEDNESDAY, through the real engine."""
    from server.settings import build_settings
    from server.stats.demo_history import HistoryPlan, seed_database

    database = f"sqlite:///{workdir / f'seed-{days}-{per_day}.sqlite3'}"
    settings = build_settings(demo=True, database=database, environ={})
    seed_database(settings, HistoryPlan(days=days, per_day=per_day), today=A_WEDNESDAY)
    store = Store(database)
    try:
        return store.events_since("demo", 0, 10_000_000)
    finally:
        store.close()


@contextlib.contextmanager
def hub_process(database: str, workdir: Path) -> Iterator[tuple[str, int]]:
    (port,) = free_ports([0])
    log = (workdir / "hub.log").open("ab")
    command = [sys.executable, "-m", "hallq.cli", "--log-level", "WARNING", "hub", "--demo",
               "--database", database, "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{url}/api/v1/hub/health"), 60, "the hub to start")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code == 200
    return False


def wait_for(condition: Any, timeout: float, what: str, every: float = 0.05) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if condition():
            return time.perf_counter() - start
        time.sleep(every)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def register(database: str, halls: list[str], parent: str | None = None) -> None:
    store = Store(database)
    store.migrate()
    registry = HallRegistry(store.engine)
    for hall in halls:
        registry.add(hall, name=f"{hall}便民服务中心", kind="town", parent=parent, timezone="Asia/Shanghai",
                     token_sha256=sha256_hex(f"token-{hall}"))  # fmt: skip
    store.close()


def batches(events: list[EventRow]) -> list[bytes]:
    """The uplink's bodies, made before the clock starts (the halls' serialisation is not the hub's)."""
    bodies = []
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        shipped = [{"seq": e.seq, "kind": e.kind, "payload": e.payload, "created_at": e.created_at.isoformat()}
                   for e in chunk]  # fmt: skip
        bodies.append(orjson.dumps({"from_seq": chunk[0].seq, "events": shipped}))
    return bodies


def ship(url: str, hall: str, bodies: list[bytes], latencies: list[float], start: threading.Barrier) -> None:
    headers = {"Authorization": f"Bearer token-{hall}", "Content-Type": "application/json"}
    with httpx.Client(base_url=f"{url}/api/v1/hub", timeout=120) as client:
        start.wait()
        for body in bodies:
            sent = time.perf_counter()
            answer = client.post(f"/halls/{hall}/events", content=body, headers=headers)
            latencies.append(time.perf_counter() - sent)
            answer.raise_for_status()


def admin_headers(url: str) -> dict[str, str]:
    answer = httpx.post(f"{url}/api/v1/auth/login", json={"username": "admin", "password": "demo"}, timeout=30)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def hub_rows(url: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = httpx.get(f"{url}/api/v1/hub/halls", headers=headers, timeout=60)
    answer.raise_for_status()
    return {row["hall"]: row for row in answer.json()}


def ingestion(args: argparse.Namespace, workdir: Path, events: list[EventRow]) -> None:
    halls = [f"t{n:03d}" for n in range(args.halls)]
    bodies = batches(events)
    with fresh_pg() as database:
        if database is None:
            return
        register(database, halls)
        with hub_process(database, workdir) as (url, pid):
            headers = admin_headers(url)
            latencies: list[float] = []
            gate = threading.Barrier(len(halls) + 1)
            threads = [threading.Thread(target=ship, args=(url, h, bodies, latencies, gate)) for h in halls]
            for thread in threads:
                thread.start()
            load_before = os.getloadavg()
            cpu_start = cpu_seconds(pid)
            gate.wait()
            start = time.perf_counter()
            for thread in threads:
                thread.join()
            stored_s = time.perf_counter() - start
            cpu_used = cpu_seconds(pid) - cpu_start
            total = len(events) * len(halls)
            last = events[-1].seq
            folded_s = stored_s + wait_for(
                lambda: all(r["folded_seq"] == last for r in hub_rows(url, headers).values()), 1800, "folding", 0.5
            )
            rows = hub_rows(url, headers)
            assert all(r["acked_seq"] == last for r in rows.values())
    ms = 1000.0
    print(f"ingestion: {len(halls)} halls × {len(events)} events ({len(bodies)} batches of ≤{BATCH} each)")
    print(f"  stored {total} events in {stored_s:.1f} s: {total / stored_s:.0f} events/s; hub CPU {cpu_used:.1f} s")
    print(f"  batch latency p50 {percentile(latencies, 50) * ms:.0f} ms, p99 {percentile(latencies, 99) * ms:.0f} ms")
    print(f"  every event counted in the hub's statistics after {folded_s:.1f} s ({total / folded_s:.0f} events/s)")
    print(f"  load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")


def catch_up(args: argparse.Namespace, workdir: Path) -> None:
    """A town that was offline for a working day: its dispatcher starts with the day in its outbox."""
    from server.settings import build_settings
    from server.stats.demo_history import HistoryPlan, seed_database

    town_db = f"sqlite:///{workdir / 'town.sqlite3'}"
    seeded = seed_database(
        build_settings(demo=True, database=town_db, environ={}),
        HistoryPlan(days=1, per_day=args.town_per_day),
        today=A_WEDNESDAY,
    )
    store = Store(town_db)
    last = store.last_seq("demo")
    store.close()
    with fresh_pg() as database:
        if database is None:
            return
        register(database, ["demo"])
        with hub_process(database, workdir) as (url, _pid):
            headers = admin_headers(url)
            (port, broker) = free_ports([0, 0])
            command = [sys.executable, "-m", "hallq.cli", "--log-level", "WARNING", "server", "--demo",
                       "--database", town_db, "--port", str(port), "--broker-port", str(broker),
                       "--hub", url, "--hub-token", "token-demo"]  # fmt: skip
            env = {**os.environ, "HALLQ_HMAC_SECRET": SECRET}
            with (workdir / "town.log").open("ab") as log:
                town = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env)
            try:
                load_before = os.getloadavg()
                started = time.perf_counter()
                ready_s = wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api/v1/halls/demo"), 60, "the town")
                wait_for(lambda: hub_rows(url, headers)["demo"]["acked_seq"] == last, 600, "catch-up", 0.02)
                acked_s = time.perf_counter() - started  # the uplink starts before the HTTP port answers
                wait_for(lambda: hub_rows(url, headers)["demo"]["folded_seq"] == last, 600, "folding", 0.05)
                folded_s = time.perf_counter() - started
            finally:
                town.terminate()
                town.wait(30)
    print(
        f"catch-up: a town's working day ({seeded.issued} tickets, {last} events) offline, then its dispatcher starts"
    )
    print(f"  from the dispatcher's start: answering after {ready_s:.1f} s, the hub holds every event after")
    print(f"  {acked_s:.2f} s and counts them in its statistics after {folded_s:.2f} s")
    print(f"  load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")


def queue_with_hub_away(args: argparse.Namespace, workdir: Path) -> None:
    """Issue rate and latency at a hall: no hub; a hub that never answers; a live hub."""
    import asyncio
    import socket

    black_hole = socket.create_server(("127.0.0.1", 0))
    with fresh_pg() as database:
        if database is None:
            return
        register(database, ["demo"])
        with hub_process(database, workdir) as (hub_url, _pid):
            variants = {
                "no hub": [],
                "hub never answers": ["--hub", f"http://127.0.0.1:{black_hole.getsockname()[1]}"],
                "hub live, shipping": ["--hub", hub_url],
            }
            print(f"the queue with the hub away: {args.tickets} kiosk tickets from 8 clients, SQLite hall")
            for label, extra in [*variants.items(), *variants.items()][: len(variants) * args.rounds]:
                token = ["--hub-token", "token-demo"] if extra else []
                hall_db = f"sqlite:///{workdir / f'hall-{time.monotonic_ns()}.sqlite3'}"

                def command(db: str, wd: Path, port: int, broker: int, more: list[str] = extra + token) -> list[str]:
                    return hallq_command(db, wd, port, broker) + more

                with server(hall_db, workdir, command=command) as (url, _):
                    seconds, latencies = asyncio.run(issue_phase(url, args.tickets, 8))
                p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
                print(f"  {label}: {args.tickets / seconds:.0f} tickets/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    black_hole.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--halls", type=int, default=50)
    parser.add_argument("--days", type=int, default=2, help="calendar days of traffic each hall ships")
    parser.add_argument("--per-day", type=int, default=220, help="tickets a weekday in each shipping hall")
    parser.add_argument("--town-per-day", type=int, default=220, help="tickets in the offline town's day")
    parser.add_argument("--tickets", type=int, default=1000, help="tickets per run of the queue part")
    parser.add_argument("--rounds", type=int, default=2, choices=(1, 2), help="runs of each variant, alternating")
    parser.add_argument("--skip-ingestion", action="store_true")
    parser.add_argument("--skip-catch-up", action="store_true")
    parser.add_argument("--skip-queue", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hallq-hub-bench-") as tmp:
        workdir = Path(tmp)
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
        if not args.skip_ingestion:
            ingestion(args, workdir, seeded_events(workdir, args.days, args.per_day))
        if not args.skip_catch_up:
            catch_up(args, workdir)
        if not args.skip_queue:
            queue_with_hub_away(args, workdir)


if __name__ == "__main__":
    main()
