"""Does a login flood slow the kiosks? Kiosk ticket-issue latency (p50, p90) on the real `hallq server
--demo` (SQLite), first idle, then while LOOPS parallel clients send wrong-password logins as fast
as they get answers, from a process of their own (issue 12: 16 loops made a ticket take 6 s).

    .venv/bin/python bench/login_flood.py [--tickets 60] [--loops 16] [--unthrottled]

`--unthrottled` lifts the login rate limits and the lock-out (HALLQ_LOGIN_* settings), so every
attempt is hashed: what the password hasher's own pool does alone. The demo users have the shipped
argon2 parameters, so each wrong password costs what it costs in a hall. The server inherits
PYTHONPATH, so pointing it at an older checkout measures that code with the same script.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import httpx
import yaml

from hallq.ports import free_ports

REPO = Path(__file__).resolve().parents[1]
DEMO = {"Authorization": "Bearer demo-device-token"}
SECRET = "bench-hmac-secret-0123456789abcdef0123456789"
UNTHROTTLED = {
    "HALLQ_LOGIN_PER_ADDRESS": "1000000/minute",
    "HALLQ_LOGIN_PER_USER": "1000000/minute",
    "HALLQ_LOCKOUT_FAILURES": "1000000",
}


def bench_config(workdir: Path) -> Path:
    """The demo hall with service E's daily quota lifted (a bench issues more than a day's 80)."""
    data = yaml.safe_load((REPO / "config" / "hall.example.yaml").read_text(encoding="utf-8"))
    for service in data["services"]:
        if service["code"] == "E":
            service["daily_quota"] = None
    path = workdir / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@contextlib.contextmanager
def server(workdir: Path, extra_env: dict[str, str]) -> Iterator[str]:
    port, broker_port = free_ports([0, 0])
    cmd = [
        sys.executable, "-m", "hallq.cli", "server", "--demo", "--config", str(bench_config(workdir)),
        "--database", f"sqlite:///{workdir / 'hall.sqlite3'}", "--port", str(port), "--broker-port", str(broker_port),
    ]  # fmt: skip
    env = {**os.environ, "HALLQ_HMAC_SECRET": SECRET, **extra_env}
    with (workdir / "server.log").open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{api}/halls/demo", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError((workdir / "server.log").read_text(errors="replace")[-3000:])
        yield api
    finally:
        proc.terminate()
        proc.wait(20)


async def issue_latencies(client: httpx.AsyncClient, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        reply = await client.post("/halls/demo/tickets", json={"service": "E", "channel": "kiosk"}, headers=DEMO)
        latencies.append((time.perf_counter() - start) * 1000)
        assert reply.status_code == 201, reply.text
        await asyncio.sleep(0.05)  # a kiosk's pace, not a burst
    return latencies


async def wrong_logins(api: str, loops: int, stop: EventType) -> collections.Counter[int]:
    answers: collections.Counter[int] = collections.Counter()

    async def loop(n: int) -> None:
        names = [f"clerk{n % 12 + 1}", f"nobody{n}"]
        attempt = 0
        while not stop.is_set():
            attempt += 1
            body = {"username": names[attempt % 2], "password": f"wrong-{attempt}"}
            answers[(await client.post("/auth/login", json=body)).status_code] += 1

    async with httpx.AsyncClient(base_url=api, timeout=120, limits=httpx.Limits(max_connections=loops)) as client:
        await asyncio.gather(*(loop(n) for n in range(loops)))
    return answers


def flood(api: str, loops: int, stop: EventType, results: multiprocessing.Queue[dict[int, int]]) -> None:
    """In its own process, as an attacker on another machine: its client work is not the kiosk's."""
    results.put(dict(asyncio.run(wrong_logins(api, loops, stop))))


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"p50 {statistics.median(ordered):.1f} ms, p90 {p90:.1f} ms, max {ordered[-1]:.1f} ms (n={len(ordered)})"


async def measure(api: str, tickets: int, loops: int) -> None:
    async with httpx.AsyncClient(base_url=api, timeout=120) as client:
        idle = await issue_latencies(client, tickets)
        print(f"idle:                 {summary(idle)}")
        stop = multiprocessing.Event()
        results: multiprocessing.Queue[dict[int, int]] = multiprocessing.Queue()
        attacker = multiprocessing.Process(target=flood, args=(api, loops, stop, results))
        attacker.start()
        await asyncio.sleep(3)  # let the flood reach its pace
        started = time.monotonic()
        try:
            loaded = await issue_latencies(client, tickets)
        finally:
            seconds = time.monotonic() - started + 3
            stop.set()
            answers = results.get(timeout=120)
            attacker.join(30)
        print(f"{loops} login loops:       {summary(loaded)}")
        rate = ", ".join(f"{status}: {count / seconds:.1f}/s" for status, count in sorted(answers.items()))
        print(f"login answers during the flood: {rate}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=60)
    parser.add_argument("--loops", type=int, default=16)
    parser.add_argument("--unthrottled", action="store_true", help="lift the login limits: every attempt is hashed")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="hallq-login-flood-") as tmp,
        server(Path(tmp), UNTHROTTLED if args.unthrottled else {}) as api,
    ):
        print(f"hallq server --demo (SQLite), {'unthrottled' if args.unthrottled else 'default login limits'}")
        asyncio.run(measure(api, args.tickets, args.loops))


if __name__ == "__main__":
    main()
