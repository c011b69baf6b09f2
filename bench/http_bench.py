"""Dispatcher over HTTP with durable commits: tickets issued per second and call-next per second,
with p50/p99 latency, on SQLite (WAL, synchronous=FULL) and PostgreSQL (synchronous_commit on).

Starts the real `hallq server --demo` as a subprocess on a free port for each database, then:
  1. issue: CLIENTS concurrent kiosks issue TICKETS tickets in total (service A, quota lifted);
  2. call-next: WINDOWS windows (clerks logged in) call next concurrently until nobody waits.

    hallq bench http [--tickets 2000] [--clients 8] [--windows 3] [--no-pg]
    .venv/bin/python bench/http_bench.py --compare OLD_TREE NEW_TREE --rounds 3 --no-pg

Each run is paired with the same load on bench/bare_ticket_server.py (a bare FastAPI endpoint doing
one durable INSERT per request on the same kind of database) and the ratio hallq / bare is printed
(issue 18's yardstick; `--no-reference` skips it). A phase lasts a few seconds, and on a shared
2-core machine either side of one pair can catch a slow moment, so `--rounds N` (default 3) runs N
pairs, hallq first in odd rounds and the bare endpoint first in even ones, and ends with each
ratio's median and range over the rounds.

Besides wall-clock rates it reports the server process's CPU time per request (user + system, from
/proc): on a shared, loaded machine that is the steadier measure of what the code costs. `--compare`
runs the server from two source trees (e.g. a `git worktree` of an older commit) in alternating
rounds, so both see the same load.

PostgreSQL: a fresh database on 127.0.0.1:5432 (user postgres, trust) is created and dropped; it is
skipped with a message when the server is not reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httptools
import httpx
import yaml

from hallq.ports import free_ports

REPO = Path(__file__).resolve().parents[1]
DEMO = {"Authorization": "Bearer demo-device-token"}
SECRET = "bench-hmac-secret-0123456789abcdef0123456789"


def bench_config(workdir: Path) -> Path:
    """The demo hall with service A's daily quota and per-person limit lifted (a bench issues thousands),
    and every window serving A (so up to 12 windows can call the same line at once)."""
    data = yaml.safe_load((REPO / "config" / "hall.example.yaml").read_text(encoding="utf-8"))
    for service in data["services"]:
        if service["code"] == "A":
            service["daily_quota"] = None
            service["per_person_daily_limit"] = None
    for window in data["windows"]:
        window["services"] = sorted({"A", *window["services"]})
    path = workdir / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


BROKER: dict[str, str] = {}  # "url" of the Mosquitto the run started (production's broker), if any


def hallq_command(database: str, workdir: Path, port: int, broker_port: int) -> list[str]:
    broker = ["--mqtt", BROKER["url"]] if "url" in BROKER else ["--broker-port", str(broker_port)]
    return [
        sys.executable, "-m", "hallq.cli", "--log-level", "WARNING", "server", "--demo",
        "--config", str(bench_config(workdir)), "--database", database, "--port", str(port), *broker,
    ]  # fmt: skip


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[None]:
    """A local Mosquitto for the run, as a hall runs one (the embedded broker costs the dispatcher's
    own CPU, which production does not pay)."""
    (port,) = free_ports([0])
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    BROKER["url"] = f"mqtt://127.0.0.1:{port}"
    try:
        yield
    finally:
        BROKER.pop("url", None)
        proc.terminate()
        proc.wait(10)


def reference_command(database: str, _workdir: Path, port: int, _broker_port: int) -> list[str]:
    """The bare one-commit-per-request FastAPI endpoint (bench/bare_ticket_server.py)."""
    return [sys.executable, str(REPO / "bench" / "bare_ticket_server.py"), database, str(port)]


@contextlib.contextmanager
def server(
    database: str, workdir: Path, tree: Path | None = None, command: Any = hallq_command
) -> Iterator[tuple[str, int]]:
    port, broker_port = free_ports([0, 0])  # distinct: two calls could hand out the same port
    cmd = command(database, workdir, port, broker_port)
    env = {**os.environ, "HALLQ_HMAC_SECRET": SECRET}
    if tree is not None:  # the server's code from another source tree
        env["PYTHONPATH"] = str(tree)
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=tree or REPO
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/halls/demo", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None:
                raise RuntimeError((workdir / "server.log").read_text())
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have died already (its log says why)
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


def settle(pid: int, timeout: float = 120.0) -> float:
    """Wait until the dispatcher is idle (under 10 % of a core for a second): what was committed before
    (a filling, a backlog) is folded into the statistics and published before anything is timed. Returns the wait."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.1:
            break
    return time.perf_counter() - began


@contextlib.contextmanager
def profiled(pid: int, folder: Path | None, label: str, rate: int = 700, gil: bool = False) -> Iterator[None]:
    """With --profile: py-spy on the server while the block runs (the threads at work, raw collapsed
    stacks, `--gil`: only samples holding the GIL) into FOLDER/LABEL.txt."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "-r", str(rate), "-f", "raw", "--nonblocking",
         *(["--gil"] if gil else []), "-p", str(pid), "-o", str(folder / f"{label}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class KeepAlive:
    """One keep-alive HTTP/1.1 connection, as a kiosk or a terminal holds one: the request written as
    bytes, the answer read with httptools' C parser (what uvicorn parses requests with). httpx spent
    1.1-1.4 ms of CPU per request, as much as the server: on this 2-core machine the bare reference
    was then bound by its client, and every ratio flattered hallq (bench/README.md, "An honest
    client"). This client costs about 0.1 ms, as wrk would, which issue 18 was measured with."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
        """POST and wait for the whole answer: (status, the JSON body or None)."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        data = b"" if body is None else json.dumps(body).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._writer.write(
            f"POST {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}\r\n{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        return await self._answer()

    async def _answer(self) -> tuple[int, Any]:
        assert self._reader is not None
        answer = _Answer()
        parser = httptools.HttpResponseParser(answer)
        while not answer.complete:
            chunk = await self._reader.read(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            parser.feed_data(chunk)
        return parser.get_status_code(), json.loads(answer.body) if answer.body else None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()


class _Answer:
    """httptools' callbacks for one response."""

    def __init__(self) -> None:
        self.body = b""
        self.complete = False

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


def raise_for_status(status: int, body: Any) -> None:
    if status >= 400:
        raise RuntimeError(f"HTTP {status}: {body}")


async def issue_phase(
    url: str, tickets: int, clients: int, on_ticket: Callable[[int, dict[str, Any]], None] | None = None
) -> tuple[float, list[float]]:
    """`on_ticket(i, answer)`: told of each ticket issued (a citizen who then opens its status page)."""
    latencies: list[float] = []
    counter = iter(range(tickets))

    async def kiosk() -> None:
        client = KeepAlive(url)
        try:
            for i in counter:
                start = time.perf_counter()
                status, answer = await client.post("/halls/demo/tickets", {**DEMO, "Idempotency-Key": f"b-{i}"},
                                                   {"service": "A"})  # fmt: skip
                latencies.append(time.perf_counter() - start)
                raise_for_status(status, answer)
                if on_ticket is not None:
                    on_ticket(i, answer)
        finally:
            await client.close()

    began = time.perf_counter()
    await asyncio.gather(*(kiosk() for _ in range(clients)))
    return time.perf_counter() - began, latencies


async def log_in(url: str, windows: int) -> dict[str, dict[str, str]]:
    """Clerks logged in to windows 1..n (before the timed call phase: a login costs an argon2 hash)."""
    headers = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for window in (str(w) for w in range(1, windows + 1)):
            login = await client.post("/auth/login", json={"username": f"clerk{window}", "password": "demo",
                                                           "window": window})  # fmt: skip
            login.raise_for_status()
            headers[window] = {"Authorization": f"Bearer {login.json()['access_token']}"}
    return headers


async def call_phase(url: str, logins: dict[str, dict[str, str]]) -> tuple[float, list[float], int]:
    """Every window calls next until nobody waits; returns the time, the latencies and how many
    tickets were called. A ticket called twice (two windows given one person) stops the bench."""
    latencies: list[float] = []
    called = 0
    seen: set[str] = set()

    async def terminal(window: str, headers: dict[str, str]) -> None:
        nonlocal called
        client = KeepAlive(url)
        try:
            for n in itertools.count():
                start = time.perf_counter()
                status, answer = await client.post(f"/halls/demo/windows/{window}/call-next",
                                                   {**headers, "Idempotency-Key": f"w{window}-{n}"})  # fmt: skip
                latencies.append(time.perf_counter() - start)
                if status == 204:
                    return
                raise_for_status(status, answer)
                ticket = answer["ticket"]["id"]
                assert ticket not in seen, f"ticket {ticket} called twice"
                seen.add(ticket)
                called += 1
        finally:
            await client.close()

    began = time.perf_counter()
    await asyncio.gather(*(terminal(w, h) for w, h in logins.items()))
    return time.perf_counter() - began, latencies, called


@contextlib.contextmanager
def fresh_pg() -> Iterator[str | None]:
    import sqlalchemy as sa

    try:
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        print(f"PostgreSQL not reachable, skipped: {exc}")
        yield None
        return
    name = f"hallq_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Run:
    issued_per_s: float
    called_per_s: float


_PG_DATABASES: list[contextlib.ExitStack] = []


def pg_database(_which: str) -> str:
    """A fresh PostgreSQL database for one server (dropped at exit); exits when none is reachable."""
    stack = contextlib.ExitStack()
    url = stack.enter_context(fresh_pg())
    if url is None:
        raise SystemExit("PostgreSQL not reachable: run with --no-pg")
    _PG_DATABASES.append(stack)
    return url


def run_one(
    label: str, database: str, workdir: Path, args: argparse.Namespace, tree: Path | None = None,
    reference: bool = False,
) -> Run:  # fmt: skip
    command = reference_command if reference else hallq_command
    with server(database, workdir, tree, command) as (url, pid):
        profile = None if reference else args.profile
        cpu_start, client_start = cpu_seconds(pid), time.process_time()
        with profiled(pid, profile, f"{slug(label)}-issue", gil=args.gil):
            issue_s, issue_lat = asyncio.run(issue_phase(url, args.tickets, args.clients))
        cpu_issue = cpu_seconds(pid) - cpu_start
        logins = (
            {str(w): {} for w in range(1, args.windows + 1)} if reference else asyncio.run(log_in(url, args.windows))
        )
        client_issue = time.process_time() - client_start
        cpu_start, client_start = cpu_seconds(pid), time.process_time()  # the logins' argon2 is not call-next's
        with profiled(pid, profile, f"{slug(label)}-call", gil=args.gil):
            call_s, call_lat, called = asyncio.run(call_phase(url, logins))
        cpu_call = cpu_seconds(pid) - cpu_start
        client_call = time.process_time() - client_start
    assert called == args.tickets, f"called {called} of {args.tickets}"
    ms = 1000.0
    print(
        f"| {label} | {args.tickets / issue_s:.0f} | {percentile(issue_lat, 50) * ms:.1f} ms "
        f"| {percentile(issue_lat, 99) * ms:.1f} ms | {cpu_issue / args.tickets * ms:.2f} ms "
        f"| {called / call_s:.0f} | {percentile(call_lat, 50) * ms:.1f} ms | {percentile(call_lat, 99) * ms:.1f} ms "
        f"| {cpu_call / max(called, 1) * ms:.2f} ms "
        f"| {client_issue / args.tickets * ms:.2f} / {client_call / max(len(call_lat), 1) * ms:.2f} ms |",
        flush=True,
    )
    return Run(args.tickets / issue_s, called / call_s)


def slug(label: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in label.lower()).split())


def run_pair(
    label: str, database_for: Any, workdir: Path, args: argparse.Namespace, tree: Path | None, bare_first: bool
) -> Run | None:
    """hallq and the bare reference on fresh databases of the same kind, one after the other (the bare
    one first when `bare_first`), and the ratio hallq / bare (None with --no-reference)."""
    if args.no_reference:
        run_one(label, database_for("hallq"), workdir, args, tree)
        return None
    runs: dict[bool, Run] = {}
    for reference in (True, False) if bare_first else (False, True):
        name = f"{label} — bare reference" if reference else label
        runs[reference] = run_one(name, database_for("bare" if reference else "hallq"), workdir, args, tree, reference)
    ours, bare = runs[False], runs[True]
    ratio = Run(ours.issued_per_s / bare.issued_per_s, ours.called_per_s / bare.called_per_s)
    print(f"| {label} — ratio hallq / bare | {ratio.issued_per_s:.2f}× | | | | {ratio.called_per_s:.2f}× | | | | |",
          flush=True)  # fmt: skip
    return ratio


def print_medians(ratios: dict[str, list[Run]]) -> None:
    """Each ratio's median over the rounds, and its lowest and highest."""
    for label, runs in ratios.items():
        if len(runs) < 2:
            continue
        issue = sorted(r.issued_per_s for r in runs)
        call = sorted(r.called_per_s for r in runs)
        print(
            f"| {label} — median of {len(runs)} rounds (lowest–highest) | {statistics.median(issue):.2f}× "
            f"({issue[0]:.2f}–{issue[-1]:.2f}) | | | | {statistics.median(call):.2f}× ({call[0]:.2f}–{call[-1]:.2f}) "
            "| | | | |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent kiosks issuing")
    parser.add_argument("--windows", type=int, default=3, choices=range(1, 13), help="windows calling at once (1-12)")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD_TREE", "NEW_TREE"),
                        help="run the server from two source trees in alternating rounds")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="pairs of runs (the ratios' median is printed)")
    parser.add_argument("--no-reference", action="store_true", help="skip the bare one-commit endpoint")
    parser.add_argument("--embedded-broker", action="store_true",
                        help="the dispatcher's in-process broker instead of a local Mosquitto")  # fmt: skip
    parser.add_argument("--profile", type=Path, metavar="FOLDER",
                        help="py-spy on the dispatcher during each phase, raw stacks into FOLDER")  # fmt: skip
    parser.add_argument("--gil", action="store_true", help="with --profile: only the samples holding the GIL")
    args = parser.parse_args()
    print(f"{args.tickets} tickets, {args.clients} kiosks issuing, {args.windows} windows calling, durable commits")
    print("| run | issued/s | issue p50 | issue p99 | server CPU/issue | call-next/s | call p50 | call p99 "
          "| server CPU/call | bench client CPU/issue / call |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as broker_dir, contextlib.ExitStack() as broker:
        if not args.embedded_broker and shutil.which("mosquitto"):
            broker.enter_context(mosquitto(Path(broker_dir)))
        print(f"broker: {BROKER.get('url', 'embedded (in the dispatcher process)')}")
        run_rounds(args)


def run_rounds(args: argparse.Namespace) -> None:
    trees: list[Path | None] = list(args.compare) if args.compare else [None]
    ratios: dict[str, list[Run]] = {}
    for round_no in range(1, args.rounds + 1):
        for tree in trees:
            name = f"{tree.name} " if tree is not None else ""
            prefix = f"round {round_no} " if args.rounds > 1 else ""
            with tempfile.TemporaryDirectory() as tmp:
                workdir = Path(tmp)

                def sqlite(which: str, folder: Path = workdir) -> str:
                    return f"sqlite:///{folder / f'{which}.sqlite3'}"

                kinds: list[tuple[str, Callable[[str], str]]] = []
                if not args.no_sqlite:
                    kinds.append((f"{name}SQLite (WAL, synchronous=FULL)", sqlite))
                if not args.no_pg:
                    kinds.append((f"{name}PostgreSQL 127.0.0.1", pg_database))
                for label, database_for in kinds:
                    ratio = run_pair(prefix + label, database_for, workdir, args, tree, bare_first=round_no % 2 == 0)
                    if ratio is not None:
                        ratios.setdefault(label, []).append(ratio)
    print_medians(ratios)


if __name__ == "__main__":
    try:
        main()
    finally:
        for database in _PG_DATABASES:
            database.close()
