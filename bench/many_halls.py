"""One dispatcher for many halls (issue 18): start time, memory, and call-next per hall against one hall.

    .venv/bin/python bench/many_halls.py [--halls 200] [--windows 20] [--boards 10] [--calls 300]
                                         [--rate 20] [--database sqlite|pg]

Two runs in one invocation, each on a fresh database and a fresh local Mosquitto (anonymous, the
dispatcher's and the boards' only broker):

1. one hall (the reference): `hallq server` with a single hall config;
2. many halls: `--halls` generated configs (the demo hall's services, `--windows` windows each, one
   device credential per hall) in one directory given to `hallq server --config DIR`.

For each run: the time from starting the process until every hall answers `GET /halls/{hall}`; the
dispatcher's RSS then, once `--boards` boards per hall are subscribed, and its peak (VmHWM); then
`--calls` call-next at `--rate` a second from 8 client threads, spread round-robin over every hall
and window served. Latency: HTTP sent → answered, and → the hall's last board had the `calls`
message. The boards are minimal asyncio MQTT 3.1.1 subscribers (bench/mqtt_fanout.py's), all in one
worker process: 2 000 paho clients (a thread each) measure this 2-core machine, not the dispatcher.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_bench import SECRET, fresh_pg, profiled, settle  # noqa: E402
from bench.mqtt_fanout import Board, boards_worker, pct, subscriber_hello  # noqa: E402
from hallq.contract import Topics  # noqa: E402
from hallq.ports import free_ports  # noqa: E402
from server.auth import sha256_hex  # noqa: E402


def hall_configs(folder: Path, halls: int, windows: int) -> list[str]:
    """`halls` copies of the demo hall (ids h000…), `windows` windows each, quotas lifted, one bridge
    credential per hall (token `tok-<hall>`) for every window, no clerk accounts."""
    base = yaml.safe_load((REPO / "config" / "hall.example.yaml").read_text(encoding="utf-8"))
    for service in base["services"]:
        service["daily_quota"] = None
        service["per_person_daily_limit"] = None
    first = base["windows"][0]
    rows = [*base["windows"], *({**first, "id": str(n), "name": f"{n}号窗口"} for n in range(13, windows + 1))]
    base["windows"] = [{**w, "services": sorted({"A", *w["services"]})} for w in rows[:windows]]  # all call A
    ids = [f"h{i:03d}" for i in range(halls)]
    folder.mkdir(parents=True)
    for hall in ids:
        data = {**base, "hall": {**base["hall"], "id": hall, "name": f"第{hall}政务服务中心"}}
        data["credentials"] = {
            "devices": [
                {
                    "id": f"bridge-{hall}",
                    "kind": "bridge",
                    "token_sha256": sha256_hex(f"tok-{hall}"),
                    "windows": [w["id"] for w in base["windows"]],
                }
            ],
            "users": [],
        }
        (folder / f"{hall}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return ids


# --- the boards: one worker process, minimal MQTT subscribers -----------------------------------------


def hall_boards(halls: list[str], per_hall: int) -> list[Board]:
    """`per_hall` anonymous boards following each hall's `calls`."""
    return [
        (hall, f"board-{hall}-{n}", subscriber_hello(f"board-{hall}-{n}", Topics(hall).calls))
        for hall in halls
        for n in range(per_hall)
    ]


# --- processes ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[int]:
    (port,) = free_ports([0])
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def memory_kib(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "VmHWM", "Threads") if key in fields}


@contextlib.contextmanager
def dispatcher(config: Path, database: str, mqtt_port: int, halls: list[str], workdir: Path) -> Iterator[Any]:
    (port,) = free_ports([0])
    cmd = [
        sys.executable, "-m", "hallq.cli", "--log-level", "WARNING", "server", "--demo", "--config", str(config),
        "--database", database, "--port", str(port), "--mqtt", f"mqtt://127.0.0.1:{mqtt_port}",
    ]  # fmt: skip
    log = (workdir / "server.log").open("wb")
    env = {**os.environ, "HALLQ_HMAC_SECRET": SECRET}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        with httpx.Client(timeout=5) as client:
            for hall in (halls[-1], *halls):  # the last hall first: the others answer at once after it
                while True:
                    if proc.poll() is not None:
                        raise RuntimeError((workdir / "server.log").read_text()[-4000:])
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(f"{api}/halls/{hall}").status_code == 200:
                            break
                    time.sleep(0.1)
        yield api, proc.pid, time.perf_counter() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
        log.close()


# --- one run ------------------------------------------------------------------------------------------


def fill(api: str, halls: list[str], windows: list[str], per_hall: int) -> None:
    """Open every window and issue `per_hall` service A tickets in every hall."""

    def issue(hall: str) -> None:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer tok-{hall}"}) as client:
            for window in windows:
                response = client.post(f"{api}/halls/{hall}/windows/{window}/open")
                assert response.status_code == 200, response.text
            for _ in range(per_hall):
                response = client.post(f"{api}/halls/{hall}/tickets", json={"service": "A"})
                assert response.status_code == 201, response.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(issue, halls))


def call_round(
    api: str, halls: list[str], windows: list[str], calls: int, rate: float
) -> list[tuple[str, str, float, float]]:
    """`calls` call-next at `rate`/s over every (hall, window), round-robin; (hall, number, sent, answered)."""
    pairs = [(h, w) for w in windows for h in halls]
    done: list[tuple[str, str, float, float]] = []
    guard = threading.Lock()
    t0 = time.perf_counter() + 0.5
    clients = threading.local()

    def call(n: int) -> None:
        delay = t0 + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        hall, window = pairs[n % len(pairs)]
        client = getattr(clients, "c", None) or httpx.Client(timeout=30)
        clients.c = client
        sent = time.monotonic()  # the boards worker records time.monotonic() too
        response = client.post(
            f"{api}/halls/{hall}/windows/{window}/call-next", headers={"Authorization": f"Bearer tok-{hall}"}
        )
        answered = time.monotonic()
        assert response.status_code == 200, response.text
        with guard:
            done.append((hall, response.json()["ticket"]["number"], sent, answered))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(call, range(calls)))
    return done


def run(label: str, halls: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    workdir = root / label
    ids = hall_configs(workdir / "halls", halls, args.windows)
    windows = [str(n) for n in range(1, args.windows + 1)]
    config = workdir / "halls" if halls > 1 else workdir / "halls" / f"{ids[0]}.yaml"
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(fresh_pg()) if args.database == "pg" else None
        database = database or f"sqlite:///{workdir / 'hallq.sqlite3'}"
        port = stack.enter_context(mosquitto(workdir))
        api, pid, start_s = stack.enter_context(dispatcher(config, database, port, ids, workdir))
        at_start = memory_kib(pid)
        ctx = mp.get_context("fork")
        ready, stop, results = ctx.Queue(), ctx.Event(), ctx.Queue()
        t_boards = time.perf_counter()
        worker = ctx.Process(target=boards_worker, args=(port, hall_boards(ids, args.boards), ready, stop, results))
        worker.start()
        boards = ready.get(timeout=600)
        boards_s = time.perf_counter() - t_boards
        with_boards = memory_kib(pid)
        fill(api, ids, windows, -(-args.calls // (halls * len(windows))) * len(windows) + 1)
        settle(pid)
        filled = memory_kib(pid)
        with profiled(pid, args.profile, label, rate=20):  # 213 threads to walk
            done = call_round(api, ids, windows, args.calls, args.rate)
        time.sleep(2.0)  # the last deliveries
        stop.set()
        seen = results.get(timeout=120)
        worker.join(30)
        after = memory_kib(pid)
    last: dict[tuple[str, str], tuple[int, float]] = {}
    for hall, number, at in seen:
        count, latest = last.get((hall, number), (0, 0.0))
        last[(hall, number)] = (count + 1, max(latest, at))
    http_ms = [(answered - sent) * 1000 for _h, _n, sent, answered in done]
    board_ms = [(last[(h, n)][1] - sent) * 1000 for h, n, sent, _a in done if (h, n) in last]
    missing = sum(args.boards - last.get((h, n), (0, 0.0))[0] for h, n, _s, _a in done)
    return {
        "label": label, "halls": halls, "windows": halls * len(windows), "boards": boards,
        "start_s": start_s, "boards_s": boards_s,
        "rss_start_mb": at_start["VmRSS"] / 1024, "rss_boards_mb": with_boards["VmRSS"] / 1024,
        "rss_filled_mb": filled["VmRSS"] / 1024,
        "rss_after_mb": after["VmRSS"] / 1024, "peak_mb": after["VmHWM"] / 1024, "threads": after["Threads"],
        "calls": len(done), "http_p50": pct(http_ms, 50), "http_p99": pct(http_ms, 99),
        "board_p50": pct(board_ms, 50), "board_p99": pct(board_ms, 99), "missing": missing,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--halls", type=int, default=200)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--boards", type=int, default=10, help="boards per hall")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="call-next a second, all halls together")
    parser.add_argument("--database", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--profile", type=Path, metavar="FOLDER",
                        help="py-spy the dispatcher during the calls (pip install py-spy)")  # fmt: skip
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hallq-bench-halls-"))
    try:
        rows = [run("one-hall", 1, args, root), run(f"{args.halls}-halls", args.halls, args, root)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"database {args.database}, {args.calls} call-next at {args.rate:g}/s, {args.boards} boards per hall")
    header = ["run", "windows", "boards", "start", "RSS started", "RSS with boards", "RSS filled", "RSS after calls",
              "peak RSS", "threads", "call HTTP p50 / p99", "last board p50 / p99", "missing"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        cells = [r["label"], r["windows"], r["boards"], f"{r['start_s']:.1f} s"]
        cells += [
            f"{r[k]:.0f} MB" for k in ("rss_start_mb", "rss_boards_mb", "rss_filled_mb", "rss_after_mb", "peak_mb")
        ]
        cells += [r["threads"], f"{r['http_p50']:.1f} / {r['http_p99']:.1f} ms"]
        cells += [f"{r['board_p50']:.1f} / {r['board_p99']:.1f} ms", r["missing"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    one, many = rows
    print(
        f"many ÷ one: call HTTP p99 {many['http_p99'] / one['http_p99']:.2f}×,"
        f" p50 {many['http_p50'] / one['http_p50']:.2f}×; last board p99 {many['board_p99'] / one['board_p99']:.2f}×"
    )


if __name__ == "__main__":
    main()
