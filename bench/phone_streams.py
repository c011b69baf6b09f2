"""Phones on one dispatcher: N phones each holding the live place stream of its own ticket
(`GET …/tickets/{id}/events`, Server-Sent Events), then call-next after call-next.

    .venv/bin/python bench/phone_streams.py [--phones 500] [--calls 20] [--gap 0.5]

Starts a real dispatcher (`hallq server --demo`, SQLite, the demo hall around the clock with no
quotas), issues N tickets of one service and opens one stream per ticket (plain asyncio sockets, so
the phones cost this process little). Every call-next then moves every ticket (the worst case: one
line), so every phone gets an update. For each call it measures, from the moment the request is sent,
the time until each phone has the new place; the next call is made `--gap` seconds after every phone
has it (or after 10 s): back to back, the coalescing (at most ten passes a second) would be measured.
Prints the dispatcher's RSS before and with the streams, and the latencies (p50, p99) of every
phone's update and of the last phone's per call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hallq.config import example_config_path  # noqa: E402
from tests.support.dispatcher import Dispatcher, start_dispatcher  # noqa: E402

SERVICE, WINDOW = "A", "1"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_config(workdir: Path) -> Path:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    data["hall"]["around_the_clock"] = True
    for service in data["services"]:
        service["daily_quota"] = None
    path = workdir / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class Phone:
    """One stream on a raw socket: notes when each `ahead` value first arrives."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: dict[int, float] = {}  # ahead → arrival (monotonic)
        self.initial = -1  # the ahead of the first event
        self.opened = asyncio.Event()
        self.changed = asyncio.Event()

    async def run(self, host: str, port: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET {self.path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        try:
            while line := await reader.readline():
                if line.startswith(b"data:"):
                    place = json.loads(line[5:])
                    if self.initial < 0:
                        self.initial = place["ahead"]
                    self.seen.setdefault(place["ahead"], time.monotonic())
                    self.opened.set()
                    self.changed.set()
        finally:
            writer.close()


async def issue_all(d: Dispatcher, count: int) -> list[str]:
    """`count` tickets of one service; the path of each one's stream."""
    paths: list[str] = []
    async with httpx.AsyncClient(timeout=30, headers=d.headers) as client:
        for start in range(0, count, 50):
            answers = await asyncio.gather(*(
                client.post(f"{d.api}/halls/demo/tickets", json={"service": SERVICE, "channel": "phone"})
                for _ in range(start, min(count, start + 50))
            ))  # fmt: skip
            for answer in answers:
                answer.raise_for_status()
                body: dict[str, Any] = answer.json()
                query = urlsplit(body["status_url"]).query
                paths.append(f"/api/v1/halls/demo/tickets/{body['id']}/events?{query}")
    return paths


async def run(phones_n: int, calls: int, gap_s: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="hallq-phones-"))
    d = start_dispatcher(workdir, extra_args=["--config", str(bench_config(workdir))])
    assert d.proc is not None
    try:
        rss_idle = rss_mib(d.proc.pid)
        phones = [Phone(p) for p in await issue_all(d, phones_n)]
        tasks = [asyncio.create_task(p.run(d.host, d.port)) for p in phones]
        opened = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(p.opened.wait() for p in phones)), 120)
        open_s = time.monotonic() - opened
        rss_streams = rss_mib(d.proc.pid)
        clerk = d.clerk_headers(WINDOW)
        every, last = [], []
        async with httpx.AsyncClient(timeout=30, headers=clerk) as client:
            for call in range(1, calls + 1):
                await asyncio.sleep(gap_s)  # a hall's pace, not back to back (updates are coalesced at 0.1 s)
                waiting = [p for p in phones if p.initial >= call]  # the rest were called already
                sent = time.monotonic()
                (await client.post(f"{d.api}/halls/demo/windows/{WINDOW}/call-next")).raise_for_status()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*(_moved(p, p.initial - call) for p in waiting)), 10)
                got = [p.seen[p.initial - call] - sent for p in waiting if p.initial - call in p.seen]
                every += got
                last.append(max(got) if len(got) == len(waiting) else float("inf"))
        rss_after = rss_mib(d.proc.pid)
        for task in tasks:
            task.cancel()
        return {"phones": phones_n, "calls": calls, "open_all_s": open_s, "rss_idle_mib": rss_idle,
                "rss_streams_mib": rss_streams, "rss_after_mib": rss_after, "every": every, "last": last}  # fmt: skip
    finally:
        d.terminate()


async def _moved(phone: Phone, ahead: int) -> None:
    while ahead not in phone.seen:
        phone.changed.clear()
        await phone.changed.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between a call's last update and the next")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the dispatcher inherits it
    result = asyncio.run(run(args.phones, args.calls, args.gap))
    every, last = result["every"], result["last"]
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"phones {result['phones']} (open files {soft} → {hard}), calls {result['calls']} {args.gap} s apart, "
          f"all streams open in {result['open_all_s']:.2f} s")  # fmt: skip
    print(f"dispatcher RSS: {result['rss_idle_mib']:.1f} MiB idle, {result['rss_streams_mib']:.1f} MiB with the "
          f"streams, {result['rss_after_mib']:.1f} MiB after the calls")  # fmt: skip
    for name, values in (("every phone's update", every), ("last phone per call", last)):
        p50, p99 = 1000 * percentile(values, 0.5), 1000 * percentile(values, 0.99)
        print(f"{name}: p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(values)} values)")


if __name__ == "__main__":
    main()
