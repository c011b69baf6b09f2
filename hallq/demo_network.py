"""`hallq demo --network`: a city's network of halls on one machine (DESIGN §14).

A hub on PostgreSQL (127.0.0.1:5432, user postgres: a fresh database `hallq_demo_hub` each run) and
four halls, each its own `hallq server` with its own SQLite database and embedded broker on its own
ports, made from the demo hall's config under another id, name, kind and parent: the city centre,
a sub-centre under it and two towns under the sub-centre. Each is registered at the hub
(`hallq hub add-hall`) and ships its events there; simulated citizens and clerks keep them busy; a
fresh data directory gets each hall a month of history first (`--no-history` skips it).

The second town's uplink goes through a relay standing for its WAN line (hallq/line_proxy.py),
which the demo cuts and restores from its terminal: type `c` and Enter to cut, `r` to restore.
The terminal, not a button on /city: the line belongs to this demo process, and a hub that could
cut a hall's line from a web page would be a control no real hub should have.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from hallq import demo
from hallq.config import example_config_path
from hallq.demo import Child, HallSimulation, Supervisor
from hallq.line_proxy import LineProxy
from hallq.ports import free_ports

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"  # HALLQ_DEMO_PG for another server (trust, may create)
HUB_DATABASE = "hallq_demo_hub"
# A cut line shows on /city within about 15 s instead of a minute (a production hub waits 60 s for a
# hall's 20 s heartbeat): the demo is watched by someone who has just typed c.
ONLINE_WINDOW_S = 15
HEARTBEAT_S = 5
START_TIMEOUT_S = 90.0
SIMULATED_WINDOWS = {"center": 4, "sub_center": 3, "town": 2, "village": 1}
STATUS_EVERY_S = 10.0


@dataclass(frozen=True)
class DemoHall:
    hall: str
    name: str
    kind: str
    parent: str | None
    per_day: int  # the history's tickets on an ordinary weekday


HALLS = (
    DemoHall("jurong", "句容市政务服务中心", "center", None, 160),
    DemoHall("huayang", "华阳分中心", "sub_center", "jurong", 80),
    DemoHall("xiashu", "下蜀镇便民服务中心", "town", "huayang", 30),
    DemoHall("baohua", "宝华镇便民服务中心", "town", "huayang", 25),
)
CUT_HALL = "baohua"  # the town whose line the demo cuts


class DemoFailed(RuntimeError):
    pass


def run_demo(args: argparse.Namespace) -> int:
    """`hallq demo`: one hall (hallq/demo.py), or with `--network` the city."""
    return run(args) if args.network else demo.run(args)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the status
    signal.signal(signal.SIGTERM, demo.stop_on_sigterm)
    data = Path(args.data_dir).resolve() / "network"
    if data.exists():
        shutil.rmtree(data)  # a network demo starts fresh: a new hub database, new halls
    (data / "logs").mkdir(parents=True)
    try:
        hub_database = fresh_hub_database()
    except DemoFailed as exc:
        print(f"hallq demo --network: {exc}", file=sys.stderr)
        return 2
    supervisor = Supervisor(data / "logs")
    try:
        return _run_city(args, supervisor, data, hub_database)
    except DemoFailed as exc:
        print(f"hallq demo --network: {exc}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop()


def fresh_hub_database() -> str:
    """Drop and create `hallq_demo_hub`; DemoFailed with a sentence if PostgreSQL cannot be reached."""
    try:
        import psycopg
    except ImportError:
        raise DemoFailed("the hub needs PostgreSQL's driver: pip install 'hallq[pg]'") from None
    server = os.environ.get("HALLQ_DEMO_PG", PG_SERVER).rstrip("/")
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{HUB_DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{HUB_DATABASE}"')
    except psycopg.Error as exc:
        raise DemoFailed(
            f"PostgreSQL at {server} is not reachable, and the city's hub needs it (start it, or set HALLQ_DEMO_PG):"
            f" {exc}".strip()
        ) from None
    return f"{server}/{HUB_DATABASE}"


def _run_city(args: argparse.Namespace, supervisor: Supervisor, data: Path, hub_database: str) -> int:
    hub_port, line_port, *hall_ports = free_ports([8100, 0] + [0] * (2 * len(HALLS)))
    hub_url = f"http://127.0.0.1:{hub_port}"
    hub = supervisor.add(
        "hub", "hub", "--database", hub_database, "--port", str(hub_port), "--demo",
        "--online-window", str(ONLINE_WINDOW_S),
    )  # fmt: skip
    print(f"hub starting on {hub_url} (PostgreSQL database {HUB_DATABASE}) …", flush=True)
    wait_for(f"{hub_url}/api/v1/hub/health", hub)
    line = LineProxy(("127.0.0.1", hub_port), port=line_port).start()
    urls: dict[str, str] = {}
    simulations = []
    for number, hall in enumerate(HALLS):
        http_port, broker_port = hall_ports[2 * number], hall_ports[2 * number + 1]
        token = add_hall(hub_database, hall, data / "logs" / "hub-add-hall.log")
        workdir = data / hall.hall
        config = write_config(workdir, hall)
        if not args.no_history:
            seed_hall(workdir, config, hall, seed=2026 + number)
        url = f"http://127.0.0.1:{http_port}"
        uplink = line.url if hall.hall == CUT_HALL else hub_url
        server = supervisor.add(
            hall.hall, "server", "--config", str(config), "--demo", "--port", str(http_port),
            "--broker-port", str(broker_port), "--database", f"sqlite:///{workdir / 'hallq.db'}",
            "--hub", uplink, f"--hub-token={token}",  # "=": a token may begin with "-"
        )  # fmt: skip
        print(f"{hall.name} starting on {url} …", flush=True)
        info = wait_for(f"{url}/api/v1/halls/{hall.hall}", server)
        urls[hall.hall] = url
        if args.simulate == "yes":
            simulations.append(simulate(url, info, hall, seed=2026 + number))
    _print_intro(hub_url, urls, args.simulate == "yes")
    try:
        return _console(args, supervisor, line, hub_url)
    finally:
        for simulation in simulations:
            simulation.stop_event.set()
        line.cut()


def wait_for(url: str, child: Child, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process and child.process.poll() is not None:
            raise DemoFailed(f"{child.name} exited (code {child.process.returncode}); see {child.log_path}")
        with contextlib.suppress(httpx.HTTPError, ValueError):
            reply = httpx.get(url, timeout=2)
            if reply.status_code == 200:
                return dict(reply.json())
        time.sleep(0.3)
    raise DemoFailed(f"{child.name} did not answer within {timeout:.0f} s; see {child.log_path}")


def add_hall(hub_database: str, hall: DemoHall, log_path: Path) -> str:
    """`hallq hub add-hall …`: the hall's uplink token (the last line it prints)."""
    parent = ["--parent", hall.parent] if hall.parent else []
    argv = [sys.executable, "-m", "hallq.cli", "hub", "add-hall", hall.hall, "--name", hall.name,
            "--kind", hall.kind, "--database", hub_database, *parent]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    with log_path.open("a", encoding="utf-8") as log:
        log.write(done.stderr)
    if done.returncode != 0 or not done.stdout.strip():
        raise DemoFailed(f"registering {hall.hall} at the hub failed: {done.stderr.strip()[-400:]}")
    return done.stdout.strip().splitlines()[-1]


def write_config(workdir: Path, hall: DemoHall) -> Path:
    """The demo hall's config under this hall's id, name, kind and parent."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    config["hall"].update({"id": hall.hall, "name": hall.name, "kind": hall.kind, "parent": hall.parent})
    config["network"] = {"heartbeat_s": HEARTBEAT_S}  # the hub and token come on the command line
    path = workdir / f"{hall.hall}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def seed_hall(workdir: Path, config: Path, hall: DemoHall, seed: int) -> None:
    """A month of this hall's past traffic (`hallq stats seed-demo`), sized by its kind; the uplink
    ships it to the hub like any other events."""
    print(f"seeding a month of past traffic for {hall.name} …", flush=True)
    argv = [sys.executable, "-m", "hallq.cli", "stats", "seed-demo", "--demo", "--config", str(config),
            "--database", f"sqlite:///{workdir / 'hallq.db'}", "--per-day", str(hall.per_day),
            "--seed", str(seed)]  # fmt: skip
    if not seed_history_with(argv, workdir / "history.log"):
        print(f"  (no history for {hall.hall}: see {workdir / 'history.log'})", flush=True)


def seed_history_with(argv: list[str], log_path: Path) -> bool:
    with log_path.open("ab") as log:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, timeout=600, check=False)
    if done.returncode == 0:
        print("  " + done.stdout.decode(errors="replace").strip(), flush=True)
    return done.returncode == 0


def simulate(url: str, info: dict[str, Any], hall: DemoHall, seed: int) -> HallSimulation:
    """Citizens and clerks at the first few windows (a town has two): four halls share the machine."""
    simulation = HallSimulation(url, info, seed=seed)
    windows = [w["id"] for w in info["windows"]]
    simulation.start(skip_windows=set(windows[SIMULATED_WINDOWS[hall.kind] :]))
    return simulation


def _print_intro(hub_url: str, urls: dict[str, str], simulated: bool) -> None:
    print(f"\nthe city is running. /city (log in as admin / demo): {hub_url}/city", flush=True)
    for hall in HALLS:
        print(f"  {hall.name} ({hall.hall}, {hall.kind}): back office {urls[hall.hall]}/office", flush=True)
    if simulated:
        print("simulated citizens and clerks keep every hall busy (--simulate no: they wait for you)")
    town = next(h for h in HALLS if h.hall == CUT_HALL)
    print(
        f"{town.name}'s line to the hub runs through this demo: type c and Enter to cut it, r and Enter to"
        f" restore it, q and Enter (or Ctrl-C) to stop. /city shows it offline about {ONLINE_WINDOW_S} s after"
        " the cut (the hub waits that long for a heartbeat; a city's hub a minute), and its events catch up"
        " when the line is back.",
        flush=True,
    )


def _console(args: argparse.Namespace, supervisor: Supervisor, line: LineProxy, hub_url: str) -> int:
    commands: queue.Queue[str] = queue.Queue()
    status = CityStatus(hub_url)
    threading.Thread(target=_read_commands, args=(commands,), name="demo-keys", daemon=True).start()
    started = time.monotonic()
    next_status = started + STATUS_EVERY_S
    while not args.duration or time.monotonic() - started < args.duration:
        for note in supervisor.watch():
            print(note, flush=True)
        try:
            command = commands.get(timeout=0.5)
        except queue.Empty:
            command = ""
        if command == "q":
            return 0
        if command == "c" and line.is_up:
            line.cut()
            print(f"line cut: {CUT_HALL} cannot reach the hub (its events wait in its outbox)", flush=True)
        elif command == "r" and not line.is_up:
            line.restore()
            print(f"line restored: {CUT_HALL} reaches the hub again and ships what waited", flush=True)
        elif command in ("c", "r"):
            print(f"the line is already {'up' if line.is_up else 'cut'}", flush=True)
        if time.monotonic() >= next_status:
            next_status += STATUS_EVERY_S
            print(status.text(), flush=True)
    return 0


def _read_commands(commands: queue.Queue[str]) -> None:
    for text in sys.stdin:
        commands.put(text.strip().lower()[:1])


class CityStatus:
    """One line per hall, from the hub's own answer (as /city shows it), logged in once as admin."""

    def __init__(self, hub_url: str) -> None:
        self.hub_url = hub_url
        self.headers: dict[str, str] = {}

    def text(self) -> str:
        try:
            if not self.headers:
                login = httpx.post(
                    f"{self.hub_url}/api/v1/auth/login", json={"username": "admin", "password": "demo"}, timeout=20
                )
                self.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            reply = httpx.get(f"{self.hub_url}/api/v1/hub/live", headers=self.headers, timeout=20)
            if reply.status_code != 200:
                self.headers = {} if reply.status_code == 401 else self.headers
                return f"(the hub answered {reply.status_code}: {reply.text[:200]})"
            live = reply.json()
            rows = [
                f"  {h['hall']:<8} {'online ' if h['online'] else 'OFFLINE'} waiting {h['waiting']:>3}"
                f"  windows open {h['windows_open']:>2}  events at the hub {h['acked_seq']}"
                for h in live["halls"]
            ]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            return f"(the hub does not answer: {exc})"
        return "\n".join([f"[{time.strftime('%H:%M:%S')}] the city as the hub sees it:", *rows])
