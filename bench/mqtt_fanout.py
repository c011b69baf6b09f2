"""Fan-out cost as hall boards grow: one `calls` stream through the real Mosquitto to N subscribers.

    .venv/bin/python bench/mqtt_fanout.py [--boards 50,100,200,500] [--rate 20] [--seconds 10] [--burst 500]

For each N: a real Mosquitto (config/mosquitto.conf), N board connections (minimal asyncio MQTT 3.1.1
subscribers, QoS 1 with PUBACK, all in one asyncio loop in a worker process — more processes only
fight the broker for this machine's 2 cores; FANOUT_WORKERS=N spreads them), one dispatcher-like
publisher. Two phases:

- steady: `--rate` calls a second for `--seconds`: publish → received latency per delivery (the
  send time travels in the payload; all processes share the wall clock), and the broker's CPU time
  per second;
- burst: `--burst` calls published at once: time until every board has every one, deliveries/s.

This is the broker's share of the end-to-end latency (bench/mqtt_latency.py has HTTP + dispatcher).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hallq.bus import BusClient  # noqa: E402
from hallq.contract import Topics  # noqa: E402
from tests.support.broker import start_mosquitto  # noqa: E402

WORKERS = int(os.environ.get("FANOUT_WORKERS", "1"))
T = Topics("demo")


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def _packet(kind: int, body: bytes) -> bytes:
    length, encoded = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes([kind]) + bytes(encoded) + body


def subscriber_hello(client_id: str, topic: str, user: str | None = None, password: str | None = None) -> bytes:
    """CONNECT (clean session, no keep-alive: no pings to send; a user and password if given) and
    SUBSCRIBE `topic` at QoS 1, as one write."""
    flags = 0x02 | (0xC0 if user is not None else 0)
    credentials = _utf8(user) + _utf8(password or "") if user is not None else b""
    connect = _utf8("MQTT") + bytes([4, flags, 0, 0]) + _utf8(client_id) + credentials
    return _packet(0x10, connect) + _packet(0x82, (1).to_bytes(2, "big") + _utf8(topic) + bytes([1]))


class MiniSubscriber(asyncio.Protocol):
    """A minimal MQTT 3.1.1 subscriber (CONNECT, SUBSCRIBE QoS 1, PUBACK) parsing whole reads at once:
    hundreds fit in one asyncio loop, so the numbers are the broker's, not those of 500 client threads.
    `on_publish` gets each message's payload; `ready` is set at the SUBACK."""

    def __init__(self, hello: bytes, on_publish: Any, ready: asyncio.Event) -> None:
        self.hello = hello
        self.on_publish = on_publish
        self.ready = ready
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.hello)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data
        pos, acks = 0, []
        while True:
            if len(buf) - pos < 2:
                break
            length, shift, i = 0, 0, pos + 1
            while i < len(buf):
                byte = buf[i]
                length += (byte & 0x7F) << shift
                shift += 7
                i += 1
                if not byte & 0x80:
                    break
            else:
                break
            if len(buf) - i < length:
                break
            header, body = buf[pos], buf[i : i + length]
            pos = i + length
            kind = header & 0xF0
            if kind == 0x30:
                offset = 2 + int.from_bytes(body[:2], "big")
                if (header >> 1) & 3:
                    acks.append(body[offset : offset + 2])
                    offset += 2
                self.on_publish(body[offset:])
            elif kind == 0x90:
                self.ready.set()
        self.buffer = buf[pos:]
        if acks:
            self.transport.write(b"".join(b"\x40\x02" + packet_id for packet_id in acks))


Subscriber = tuple[str, int, Callable[[asyncio.Event], MiniSubscriber]]  # host, port, make(ready event)


async def host_subscribers(subscribers: list[Subscriber], ready: Any, stop: Any) -> None:
    """Connect every subscriber, put how many on `ready` once all are subscribed, hold them until
    `stop` is set."""
    loop = asyncio.get_running_loop()
    events, transports = [], []
    for host, port, make in subscribers:
        event = asyncio.Event()
        transport, _ = await loop.create_connection(lambda make=make, event=event: make(event), host, port)
        events.append(event)
        transports.append(transport)
    for event in events:
        await event.wait()
    ready.put(len(events))
    await asyncio.to_thread(stop.wait)
    for transport in transports:
        transport.close()


Board = tuple[str, str, bytes]  # hall, client id, the CONNECT + SUBSCRIBE it sends


def boards_worker(port: int, boards: list[Board], ready: Any, stop: Any, results: Any) -> None:
    """A worker process hosting many boards (MiniSubscribers on 127.0.0.1:`port`) in one asyncio loop:
    puts the number of boards subscribed on `ready`, then, once `stop` is set, the list of every
    delivery (hall, ticket number, time.monotonic()) on `results` (CLOCK_MONOTONIC: the same clock in
    every process of this machine)."""
    seen: list[tuple[str, str, float]] = []

    def board(hall: str, hello: bytes, ready_event: asyncio.Event) -> MiniSubscriber:
        def called(payload: bytes) -> None:
            seen.append((hall, json.loads(payload)["ticket"], time.monotonic()))

        return MiniSubscriber(hello, called, ready_event)

    subscribers = [
        ("127.0.0.1", port, lambda event, h=hall, b=hello: board(h, b, event)) for hall, _client_id, hello in boards
    ]
    asyncio.run(host_subscribers(subscribers, ready, stop))
    results.put(seen)


def _hello(url: str, client_id: str) -> bytes:
    user, rest = url.split("//", 1)[1].split(":", 1)
    return subscriber_hello(client_id, T.calls, user, rest.split("@", 1)[0])


def worker(urls: list[str], ready: Any, stop: Any, results: Any) -> None:
    """Host some boards in one asyncio loop; record every delivery; report when stopped."""
    steady: list[float] = []
    counts: dict[str, int] = {"steady": 0, "burst": 0}
    last_burst = [0.0]

    def received(payload: bytes) -> None:
        now = time.time()
        phase, _seq, sent = payload.decode().split(" ")
        counts[phase] += 1
        if phase == "steady":
            steady.append(now - float(sent))
        else:
            last_burst[0] = now

    subscribers = []
    for i, url in enumerate(urls):
        host, port = url.rsplit("@", 1)[1].split(":")
        hello = _hello(url, f"fan-{os.getpid()}-{i}")
        subscribers.append((host, int(port), lambda event, hello=hello: MiniSubscriber(hello, received, event)))
    asyncio.run(host_subscribers(subscribers, ready, stop))
    results.put({"steady": steady, "counts": counts, "last_burst": last_burst[0]})


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def run(boards: int, rate: float, seconds: float, burst: int) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="hallq-bench-fanout-"))
    broker = start_mosquitto(tmp)
    urls = broker.add_devices([f"fan-{i}" for i in range(boards)])
    ctx = mp.get_context("fork")
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker, args=(urls[w::WORKERS], ready, stop, results)) for w in range(WORKERS)]
    for proc in procs:
        proc.start()
    try:
        connected = sum(ready.get(timeout=300) for _ in procs)
        publisher = BusClient(broker.url, hall="demo", kind="dispatcher")
        publisher.start()
        publisher.wait_connected(30)
        assert broker.proc is not None
        cpu0, t0 = cpu_seconds(broker.proc.pid), time.perf_counter()
        count = int(rate * seconds)
        for seq in range(count):
            delay = t0 + seq / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            publisher.publish(T.calls, f"steady {seq} {time.time():.6f}".encode())
        time.sleep(2.0)
        cpu_steady = (cpu_seconds(broker.proc.pid) - cpu0) / (time.perf_counter() - t0)
        burst_start = time.time()
        handles = [publisher.publish(T.calls, f"burst {seq} 0".encode()) for seq in range(burst)]
        for handle in handles:
            handle.wait(60)
        time.sleep(max(3.0, burst * boards / 40000))  # let the deliveries drain
        stop.set()
        reports = [results.get(timeout=120) for _ in procs]
        publisher.stop()
    finally:
        stop.set()
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
        broker.stop()
    steady = [v * 1000 for r in reports for v in r["steady"]]
    burst_got = sum(r["counts"]["burst"] for r in reports)
    burst_end = max(r["last_burst"] for r in reports)
    return {
        "boards": connected,
        "steady_deliveries": len(steady),
        "steady_expected": count * boards,
        "p50_ms": pct(steady, 50),
        "p99_ms": pct(steady, 99),
        "mean_ms": statistics.fmean(steady) if steady else float("nan"),
        "broker_cpu_pct": cpu_steady * 100,
        "burst_got": burst_got,
        "burst_expected": burst * boards,
        "burst_s": burst_end - burst_start if burst_got else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boards", default="50,100,200,500")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    print("| boards | steady deliveries | p50 | p99 | mean | broker CPU | burst delivered | burst time "
          "| deliveries/s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for boards in (int(b) for b in args.boards.split(",")):
        r = run(boards, args.rate, args.seconds, args.burst)
        rate = r["burst_got"] / r["burst_s"] if r["burst_s"] == r["burst_s"] and r["burst_s"] > 0 else 0
        print(
            f"| {r['boards']:.0f} | {r['steady_deliveries']:.0f}/{r['steady_expected']:.0f} | {r['p50_ms']:.1f} ms "
            f"| {r['p99_ms']:.1f} ms | {r['mean_ms']:.1f} ms | {r['broker_cpu_pct']:.1f} % "
            f"| {r['burst_got']:.0f}/{r['burst_expected']:.0f} | {r['burst_s']:.2f} s | {rate:,.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
