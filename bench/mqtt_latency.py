"""End-to-end call latency through the real Mosquitto: HTTP call-next sent → `calls` received.

    .venv/bin/python bench/mqtt_latency.py [--boards 50] [--rate 20] [--calls 300]

Starts a real Mosquitto (config/mosquitto.conf, tests/support/broker.py) and a real dispatcher
(`hallq server --demo --mqtt …`, SQLite), subscribes `--boards` hall boards, issues tickets, then
makes `--calls` call-next requests at `--rate` per second from a few worker threads, rotating over
windows 1–5. For each call it records,
from the moment the HTTP request is sent:

- HTTP: until the dispatcher answered (the call is committed);
- first board: until the first subscriber had the `calls` message;
- every board: each (board, call) delivery;
- last board: until the last of the boards had it.

The boards are minimal MQTT subscribers (bench/mqtt_fanout.py, each its own connection and device
credentials) in one asyncio loop in a process of their own, as boards are other machines in a hall;
`--paho-boards` makes them hallq.bus clients (one paho thread each) in this process instead, where 50
threads share the bench's GIL with its HTTP clients and the last board's time is partly the bench's.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.mqtt_fanout import Board, boards_worker, subscriber_hello  # noqa: E402
from hallq.bus import BusClient, Message  # noqa: E402
from hallq.contract import CallMessage, Topics  # noqa: E402
from tests.support.broker import start_mosquitto  # noqa: E402
from tests.support.dispatcher import start_dispatcher  # noqa: E402

WINDOWS = ["1", "2", "3", "4", "5"]
# windows 1-3 serve A, B, H and windows 4-5 J, K, L in the demo hall; daily quotas allow ~500 calls
SERVICES = ["A", "B", "H", "J", "K"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def describe(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (
        f"{name:<12} n={len(ms):<6} p50={pct(ms, 50):8.1f} ms  p99={pct(ms, 99):8.1f} ms  "
        f"max={max(ms):8.1f} ms  mean={statistics.fmean(ms):8.1f} ms"
    )


class PahoBoards:
    """`count` hallq.bus subscribers to `calls` in this process, recording when each ticket number
    reached each of them."""

    def __init__(self, broker_url: str, count: int) -> None:
        self.arrived: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        topics = Topics("demo")
        self.clients = []
        for i in range(count):
            client = BusClient(broker_url(f"bench-board-{i}"), hall="demo", kind="board", device=f"bench-board-{i}")
            client.subscribe(topics.calls, self._received)
            self.clients.append(client)

    def _received(self, message: Message) -> None:
        now = time.monotonic()
        number = CallMessage.model_validate_json(message.payload).ticket
        with self.lock:
            self.arrived[number].append(now)

    def start(self) -> None:
        for client in self.clients:
            client.start()
        for client in self.clients:
            if not client.wait_connected(60):
                raise RuntimeError("a bench board did not connect")

    def wait(self, numbers: list[str], count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(len(self.arrived.get(n, [])) >= count for n in numbers):
                    return
            time.sleep(0.1)

    def stop(self) -> None:
        for client in self.clients:
            client.stop()


class ProcessBoards:
    """`count` minimal subscribers to `calls` in a worker process (bench/mqtt_fanout.boards_worker),
    each with its own device credentials; the deliveries come back when stopped."""

    def __init__(self, port: int, device_url: Any, count: int) -> None:
        calls = Topics("demo").calls
        self.boards: list[Board] = []
        for i in range(count):
            device = f"bench-board-{i}"
            user, rest = device_url(device).split("//", 1)[1].split(":", 1)
            self.boards.append(("demo", device, subscriber_hello(device, calls, user, rest.split("@", 1)[0])))
        self.port = port
        self.arrived: dict[str, list[float]] = defaultdict(list)
        ctx = mp.get_context("fork")
        self.ready, self.stopping, self.results = ctx.Queue(), ctx.Event(), ctx.Queue()
        self.worker = ctx.Process(target=boards_worker, args=(port, self.boards, self.ready, self.stopping,
                                                              self.results))  # fmt: skip

    def start(self) -> None:
        self.worker.start()
        self.ready.get(timeout=60)

    def wait(self, _numbers: list[str], _count: int, _timeout: float) -> None:
        time.sleep(2.0)  # the last deliveries (they are counted when the worker stops)

    def stop(self) -> None:
        if self.worker.is_alive():
            self.stopping.set()
            for _hall, number, at in self.results.get(timeout=60):
                self.arrived[number].append(at)
            self.worker.join(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="call-next requests per second")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--paho-boards", action="store_true", help="hallq.bus boards in this process")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hallq-bench-mqtt-"))
    broker = start_mosquitto(tmp)
    dispatcher = start_dispatcher(tmp, mqtt_url=broker.url)
    boards: PahoBoards | ProcessBoards
    if args.paho_boards:
        boards = PahoBoards(lambda device: broker.device_url(device), args.boards)
    else:
        boards = ProcessBoards(broker.port, broker.device_url, args.boards)
    try:
        boards.start()
        http = httpx.Client(base_url=dispatcher.api, timeout=30, limits=httpx.Limits(max_connections=16))
        print(f"issuing {args.calls} tickets …", flush=True)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: _issue(http, dispatcher.headers, SERVICES[i % len(SERVICES)]), range(args.calls)))
        clerks = {w: dispatcher.clerk_headers(w) for w in WINDOWS}
        sent: dict[str, float] = {}
        answered: list[float] = []
        lock = threading.Lock()

        def call(i: int) -> None:
            window = WINDOWS[i % len(WINDOWS)]
            start = time.monotonic()
            response = http.post(f"/halls/demo/windows/{window}/call-next", headers=clerks[window])
            done = time.monotonic()
            if response.status_code == 200:
                with lock:
                    sent[response.json()["ticket"]["number"]] = start
                    answered.append(done - start)

        print(f"{args.calls} call-next at {args.rate}/s to {args.boards} boards …", flush=True)
        begin = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            for i in range(args.calls):
                delay = begin + i / args.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(call, i)
        elapsed = time.perf_counter() - begin
        boards.wait(list(sent), args.boards, 30)
        boards.stop()
        first, every, last, missing = [], [], [], 0
        for number, start in sent.items():
            times = boards.arrived.get(number, [])
            missing += args.boards - len(times)
            if times:
                first.append(min(times) - start)
                last.append(max(times) - start)
                every += [t - start for t in times]
        print()
        where = "hallq.bus (paho) in the bench process" if args.paho_boards else "minimal subscribers, own process"
        machine = f"{platform.machine()} {platform.release()}, Python {platform.python_version()}"
        print(f"machine: {machine}; boards: {where}")
        print(f"achieved {len(sent) / elapsed:.1f} calls/s ({len(sent)} calls in {elapsed:.1f} s), "
              f"{args.boards} boards, deliveries missing: {missing}")  # fmt: skip
        print(describe("HTTP", answered))
        print(describe("first board", first))
        print(describe("every board", every))
        print(describe("last board", last))
        return 0
    finally:
        boards.stop()
        dispatcher.kill()
        broker.stop()


def _issue(http: httpx.Client, headers: dict[str, str], service: str) -> None:
    response = http.post("/halls/demo/tickets", json={"service": service, "channel": "kiosk"}, headers=headers)
    if response.status_code != 201:
        raise RuntimeError(f"issue failed: {response.status_code} {response.text}")


if __name__ == "__main__":
    sys.exit(main())
