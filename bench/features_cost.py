"""What the wave 2 features cost the queue's hot path (issue 18): the HTTP bench's load (8 kiosks
issue, 3 windows call next) on a fresh dispatcher per variant, each feature switched on alone and all
of them together, beside the bare one-commit endpoint of the same round.

    .venv/bin/python bench/features_cost.py [--tickets 2000] [--rounds 2] [--pg]

Variants (every one serves and closes `--served` tickets first, untimed, so all start from the same
hall):
  base         the demo hall as it runs: 好差评 and the statistics roll-ups are always on (the folder
               runs in every variant)
  uplink       a live `hallq hub` (PostgreSQL) taking every event as it is committed; the bench waits
               until the hub holds them all
  phones       one citizen in `--phone-every` follows their ticket on the phone: its live place stream
               (Server-Sent Events) opens as the ticket is issued and moves with every call
  ratings      the citizens served before rate while the kiosks issue (one in five 差评, each opening
               a rectification order), one rating per `--rate-every` tickets issued
  supervisors  `--supervisors` supervisors watch the live numbers (Server-Sent Events)
  all on       uplink, phones and supervisors at once (好差评 and the roll-ups are on in every variant)
  all on + ratings  and the ratings arriving too

Reported per variant: issued/s and call-next/s, the dispatcher's CPU per request (user + system from
/proc), hallq ÷ bare of the same round, the extra CPU per ticket and per call over `base`, and with
ratings arriving, the dispatcher's CPU per rating (the issue phase's extra CPU over the ratings).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_bench import (  # noqa: E402
    DEMO,
    call_phase,
    cpu_seconds,
    fresh_pg,
    hallq_command,
    issue_phase,
    log_in,
    mosquitto,
    profiled,
    reference_command,
    server,
)
from bench.hub_ingest import admin_headers, hub_process, hub_rows, register, wait_for  # noqa: E402

FEATURES = ("uplink", "phones", "supervisors", "ratings")
SWITCHED_ON = FEATURES[:3]  # ratings are always on: "ratings" adds the citizens' rating requests to the load
VARIANTS: dict[str, tuple[str, ...]] = {
    "base": (),
    **{f: (f,) for f in FEATURES},
    "all on": SWITCHED_ON,
    "all on + ratings": FEATURES,
}


@dataclass
class Result:
    issued_per_s: float
    called_per_s: float
    cpu_issue_ms: float
    cpu_call_ms: float
    streamed: int = 0  # SSE events the phones and supervisors received
    rated: int = 0


class EventStream:
    """One Server-Sent Events stream on a raw socket (a phone or a supervisor's screen): counts events."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
        self.request += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + "\r\n"
        self.address = (host, port)
        self.events = 0

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection(*self.address)
        writer.write(self.request.encode())
        try:
            while line := await reader.readline():
                self.events += line.startswith(b"data:")
        finally:
            writer.close()


@dataclass
class Extras:
    """The features' clients, running in the bench's event loop beside the kiosks and the windows."""

    url: str
    features: tuple[str, ...]
    phone_every: int
    rate_every: int
    supervisors: int
    served: list[tuple[str, str]]  # (ticket id, access key) of the tickets served before
    streams: list[EventStream] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)  # the streams
    ratings: list[asyncio.Task[None]] = field(default_factory=list)
    rated: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.client = httpx.AsyncClient(base_url=self.url, timeout=30)

    def open(self, path: str, headers: dict[str, str] | None = None) -> None:
        stream = EventStream(self.host, self.port, path, headers)
        self.streams.append(stream)
        self.tasks.append(asyncio.create_task(stream.run()))

    async def start(self) -> None:
        if "supervisors" in self.features:
            headers = await _logged_in(self.client, "supervisor")
            for _ in range(self.supervisors):
                ticket = await self.client.post("/halls/demo/stats/live/ticket", headers=headers)
                ticket.raise_for_status()
                self.open(ticket.json()["stream_url"])

    def on_ticket(self, i: int, answer: dict[str, Any]) -> None:
        """A kiosk's ticket was issued: every `phone_every`-th citizen opens its status page; every
        `rate_every`-th ticket, a citizen served earlier rates."""
        if "phones" in self.features and i % self.phone_every == 0:
            query = urlsplit(answer["status_url"]).query
            self.open(f"/api/v1/halls/demo/tickets/{answer['id']}/events?{query}")
        if "ratings" in self.features and i % self.rate_every == 0 and self.served:
            self.ratings.append(asyncio.create_task(self._rate(*self.served.pop())))

    async def _rate(self, ticket: str, key: str) -> None:
        bad = len(self.served) % 5 == 0
        body = {"ticket_id": ticket, "score": 2 if bad else 5, "reasons": ["attitude"] if bad else []}
        answer = await self.client.post("/halls/demo/evaluations", params={"k": key}, json=body)
        answer.raise_for_status()
        self.rated += 1

    async def stop(self) -> int:
        """Wait for the ratings, close the streams; the number of SSE events received."""
        await asyncio.gather(*self.ratings)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
        return sum(s.events for s in self.streams)


async def _logged_in(client: httpx.AsyncClient, username: str, window: str | None = None) -> dict[str, str]:
    body = {"username": username, "password": "demo", **({"window": window} if window else {})}
    login = await client.post("/auth/login", json=body)
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def serve_first(url: str, count: int) -> list[tuple[str, str]]:
    """`count` tickets issued, called and finished at window 12 (untimed): citizens who can rate."""
    served = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        clerk = await _logged_in(client, "clerk12", "12")
        for _ in range(count):
            answer = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            answer.raise_for_status()
            ticket = answer.json()
            for step in ("call-next", "finish"):
                (await client.post(f"/halls/demo/windows/12/{step}", headers=clerk)).raise_for_status()
            served.append((ticket["id"], dict(_query(ticket["status_url"]))["k"]))
    return served


def _query(url: str) -> Iterator[tuple[str, str]]:
    for pair in urlsplit(url).query.split("&"):
        key, _, value = pair.partition("=")
        yield key, value


async def measured(url: str, pid: int, args: argparse.Namespace, features: tuple[str, ...]) -> Result:
    served = await serve_first(url, args.served)
    extras = Extras(url, features, args.phone_every, args.rate_every, args.supervisors, served)
    await extras.start()
    label = "-".join(features) or "base"
    cpu = cpu_seconds(pid)
    with profiled(pid, args.profile, f"{label}-issue", gil=args.gil):
        issue_s, _ = await issue_phase(url, args.tickets, args.clients, extras.on_ticket)
    cpu_issue = cpu_seconds(pid) - cpu
    logins = await log_in(url, args.windows)
    cpu = cpu_seconds(pid)
    with profiled(pid, args.profile, f"{label}-call", gil=args.gil):
        call_s, _, called = await call_phase(url, logins)
    cpu_call = cpu_seconds(pid) - cpu
    streamed = await extras.stop()
    assert called == args.tickets, f"called {called} of {args.tickets}"
    ms = 1000.0
    return Result(args.tickets / issue_s, called / call_s, cpu_issue / args.tickets * ms, cpu_call / called * ms,
                  streamed, extras.rated)  # fmt: skip


async def measured_bare(url: str, pid: int, args: argparse.Namespace) -> Result:
    cpu = cpu_seconds(pid)
    issue_s, _ = await issue_phase(url, args.tickets, args.clients)
    cpu_issue = cpu_seconds(pid) - cpu
    cpu = cpu_seconds(pid)
    call_s, _, called = await call_phase(url, {str(w): {} for w in range(1, args.windows + 1)})
    cpu_call = cpu_seconds(pid) - cpu
    ms = 1000.0
    return Result(args.tickets / issue_s, called / call_s, cpu_issue / args.tickets * ms, cpu_call / called * ms)


def run_variant(features: tuple[str, ...], database: str, workdir: Path, args: argparse.Namespace) -> Result:
    with contextlib.ExitStack() as stack:
        extra: list[str] = []
        hub: tuple[str, dict[str, str]] | None = None
        if "uplink" in features:
            hub_db = stack.enter_context(fresh_pg())
            if hub_db is None:
                raise SystemExit("the uplink variant needs PostgreSQL for its hub")
            register(hub_db, ["demo"])
            hub_url, _ = stack.enter_context(hub_process(hub_db, workdir))
            hub = (hub_url, admin_headers(hub_url))
            extra = ["--hub", hub_url, "--hub-token", "token-demo"]

        def command(db: str, wd: Path, port: int, broker: int) -> list[str]:
            return hallq_command(db, wd, port, broker) + extra

        with server(database, workdir, command=command) as (url, pid):
            result = asyncio.run(measured(url, pid, args, features))
            if hub is not None:  # the feature was really on: every event reached the hub
                last = httpx.get(f"{url}/health", timeout=10).json()["halls"]["demo"]["seq"]
                wait_for(lambda: hub_rows(*hub)["demo"]["acked_seq"] >= last, 60, "the hub to hold every event")
        return result


def run_bare(database: str, workdir: Path, args: argparse.Namespace) -> Result:
    with server(database, workdir, command=reference_command) as (url, pid):
        return asyncio.run(measured_bare(url, pid, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent kiosks issuing")
    parser.add_argument("--windows", type=int, default=3, choices=range(1, 12), help="windows calling at once")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--served", type=int, default=200, help="tickets served before, who rate")
    parser.add_argument("--phone-every", type=int, default=20, help="one phone stream per this many tickets")
    parser.add_argument("--rate-every", type=int, default=10, help="one rating per this many tickets issued")
    parser.add_argument("--supervisors", type=int, default=3)
    parser.add_argument("--pg", action="store_true", help="the halls on PostgreSQL (default SQLite)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--profile", type=Path, metavar="FOLDER",
                        help="py-spy on the dispatcher during each phase, raw stacks into FOLDER")  # fmt: skip
    parser.add_argument("--gil", action="store_true", help="with --profile: only the samples holding the GIL")
    args = parser.parse_args()
    kind = "PostgreSQL" if args.pg else "SQLite (WAL, synchronous=FULL)"
    print(f"{kind}: {args.tickets} tickets, {args.clients} kiosks issuing, {args.windows} windows calling")
    print("| round, variant | issued/s | CPU/issue | call-next/s | CPU/call | issue ratio | call ratio "
          "| + CPU/issue | + CPU/call | SSE events, ratings |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, mosquitto(Path(tmp)):
        for round_no in range(1, args.rounds + 1):
            run_round(round_no, Path(tmp), args)


def run_round(round_no: int, workdir: Path, args: argparse.Namespace) -> None:
    def database(name: str) -> contextlib.AbstractContextManager[str | None]:
        if args.pg:
            return fresh_pg()
        return contextlib.nullcontext(f"sqlite:///{workdir / f'{name}-{round_no}.sqlite3'}")

    with database("bare") as db:
        assert db is not None, "PostgreSQL not reachable"
        bare = run_bare(db, workdir, args)
    print(f"| {round_no}, bare | {bare.issued_per_s:.0f} | {bare.cpu_issue_ms:.2f} ms | {bare.called_per_s:.0f} "
          f"| {bare.cpu_call_ms:.2f} ms | | | | | |", flush=True)  # fmt: skip
    base: Result | None = None
    for name in args.variants:
        with database(name) as db:
            assert db is not None, "PostgreSQL not reachable"
            result = run_variant(VARIANTS[name], db, workdir, args)
        base = result if name == "base" else base
        extra, per_rating = " | ", ""
        if base is not None and name != "base":
            more_issue, more_call = result.cpu_issue_ms - base.cpu_issue_ms, result.cpu_call_ms - base.cpu_call_ms
            extra = f"{more_issue:+.2f} ms | {more_call:+.2f} ms"
            if result.rated:
                per_rating = f" ({more_issue * args.tickets / result.rated:.1f} ms CPU a rating)"
        print(
            f"| {round_no}, {name} | {result.issued_per_s:.0f} | {result.cpu_issue_ms:.2f} ms "
            f"| {result.called_per_s:.0f} | {result.cpu_call_ms:.2f} ms "
            f"| {result.issued_per_s / bare.issued_per_s:.2f}× | {result.called_per_s / bare.called_per_s:.2f}× "
            f"| {extra} | {result.streamed}, {result.rated}{per_rating} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
