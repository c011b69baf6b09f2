"""`hallq demo`: a whole hall on one machine.

The dispatcher (SQLite, embedded MQTT broker) and every device run as separate `hallq` processes on
simulated hardware, supervised here: a device that dies is restarted, Ctrl-C stops them all. Without a
display the devices that need a screen are left out and simulated citizens and clerks drive the hall,
with a live view in the terminal, so a newcomer on a bare server still sees it work.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from hallq.demo_layout import Placement, demo_layout
from hallq.device import DEMO_TOKEN
from hallq.ports import free_ports
from hallq.screen import display_size

HALL = "demo"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("demo", help="run a whole demo hall on this machine")
    parser.add_argument("--port", type=int, default=8000, help="dispatcher HTTP port (a free one if taken)")
    parser.add_argument("--broker-port", type=int, default=1883, help="embedded MQTT port (a free one if taken)")
    parser.add_argument("--data-dir", default="var/demo", help="database, logs and WAV files")
    parser.add_argument("--headless", action="store_true", help="no windows even where a display exists")
    parser.add_argument("--window", default="1", help="the window the terminal serves")
    parser.add_argument("--orientation", default="landscape", choices=["landscape", "portrait"])
    parser.add_argument(
        "--simulate",
        choices=["yes", "no"],
        default="yes",
        help="simulated citizens take tickets and simulated clerks call them at every window but the"
        " terminal's (default yes; no: the hall waits for you at the kiosk and the terminal)",
    )
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: run until Ctrl-C)")
    parser.add_argument(
        "--keep-history",
        action="store_true",
        help="continue the last run's queue (default: each run starts on a fresh day's queue)",
    )
    parser.add_argument("--fresh", action="store_true", help="also delete the last runs' logs and WAV files")
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="start with empty statistics (default: a fresh database gets a month of past traffic first)",
    )
    parser.add_argument(
        "--network",
        action="store_true",
        help="a city instead of one hall: a hub on PostgreSQL (127.0.0.1:5432) and /city, a city centre, a"
        " sub-centre and two towns, each its own dispatcher; one town's line can be cut and restored",
    )
    parser.set_defaults(func=run)


def build_demo_args(argv: list[str]) -> argparse.Namespace:
    """The demo's options alone, as `hallq demo ARGV` would parse them (for tests)."""
    parser = argparse.ArgumentParser(prog="hallq")
    register(parser.add_subparsers())
    return parser.parse_args(["demo", *argv])


def has_display() -> bool:
    display = os.environ.get("DISPLAY", "")
    if not display:
        return False
    number = display.split(":")[-1].split(".")[0]
    return not display.startswith(":") or Path(f"/tmp/.X11-unix/X{number}").exists()


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    log: IO[bytes] | None = field(default=None, repr=False)


class Supervisor:
    """Starts `hallq` subprocesses, restarts the ones that exit, stops them all at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def add(self, name: str, *args: str) -> Child:
        child = Child(name, [sys.executable, "-m", "hallq.cli", *args], self.log_dir / f"{name}.log")
        self.children.append(child)
        self._start(child)
        return child

    def _start(self, child: Child) -> None:
        child.log = child.log or open(child.log_path, "ab")  # noqa: SIM115 - closed in stop()
        # its own session: Ctrl-C in the demo's terminal reaches the demo alone, which then stops every
        # device with SIGTERM (a clean stop, no KeyboardInterrupt traceback in each device's log)
        child.process = subprocess.Popen(child.argv, stdout=child.log, stderr=subprocess.STDOUT, start_new_session=True)

    def watch(self) -> list[str]:
        """Restart exited children with a growing delay; returns lines describing what happened."""
        notes: list[str] = []
        now = time.monotonic()
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            if child.next_start == 0.0:
                delay = min(30.0, 2.0 * 2 ** min(child.restarts, 4))
                child.next_start = now + delay
                notes.append(
                    f"{child.name} stopped (exit {child.process.returncode}); restarting in {delay:.0f} s"
                    f" — see {child.log_path}"
                )
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                self._start(child)
        return notes

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 8
        for child in self.children:
            if child.process:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(max(0.1, deadline - time.monotonic()))
                if child.process.poll() is None:
                    child.process.kill()
            if child.log:
                child.log.close()


def wait_for_dispatcher(url: str, server: Child, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process and server.process.poll() is not None:
            raise RuntimeError(f"the dispatcher exited (code {server.process.returncode}); see {server.log_path}")
        with contextlib.suppress(httpx.HTTPError):
            reply = httpx.get(f"{url}/api/v1/halls/{HALL}", timeout=2)
            if reply.status_code == 200:
                return dict(reply.json())
        time.sleep(0.3)
    raise RuntimeError(f"the dispatcher did not answer within {timeout:.0f} s; see {server.log_path}")


class HallSimulation:
    """Simulated citizens take tickets and simulated clerks serve them, over the real HTTP API."""

    def __init__(
        self, url: str, hall: dict, seed: int = 2026, token: str = DEMO_TOKEN, clerk_password: str = "demo"
    ) -> None:
        self.url = f"{url}/api/v1/halls/{hall.get('id', HALL)}"
        self.hall = hall
        self.clerk_password = clerk_password
        self.random = random.Random(seed)
        self.stop_event = threading.Event()
        self.device = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=5)
        self.clerks: dict[str, httpx.Client] = {}
        self.issued = 0
        self.called = 0
        self.errors: list[str] = []

    def start(self, skip_windows: set[str]) -> None:
        windows = [w["id"] for w in self.hall["windows"] if w["id"] not in skip_windows]
        threading.Thread(target=self._citizens, name="citizens", daemon=True).start()
        for number, window in enumerate(windows):
            threading.Thread(
                target=self._clerk, args=(window, number * 0.7), name=f"clerk-{window}", daemon=True
            ).start()

    def _note(self, text: str) -> None:
        self.errors = (self.errors + [text])[-5:]

    def _citizens(self) -> None:
        services = [s["code"] for s in self.hall["services"]]
        while not self.stop_event.wait(self.random.uniform(0.8, 2.5)):
            body: dict[str, object] = {"service": self.random.choice(services), "channel": "kiosk", "device": "sim"}
            if self.random.random() < 0.15:
                body.update(priority="green", green_reason="elderly")
            try:
                reply = self.device.post(
                    f"{self.url}/tickets", json=body, headers={"Idempotency-Key": f"sim-{time.time_ns()}"}
                )
            except httpx.HTTPError as exc:
                self._note(f"issue: {exc}")
                continue
            if reply.status_code == 201:
                self.issued += 1
            else:
                self._note(f"issue {reply.status_code}: {reply.text[:80]}")

    def _login(self, window: str) -> httpx.Client | None:
        try:
            # argon2 verification is deliberately slow: twelve clerks logging in at once take a while
            reply = httpx.post(
                f"{self.url.rsplit('/halls/', 1)[0]}/auth/login",
                timeout=20,
                json={"username": f"clerk{window}", "password": self.clerk_password, "window": window},
            )
        except httpx.HTTPError as exc:
            self._note(f"login {window}: {exc}")
            return None
        if reply.status_code != 200:
            self._note(f"login {window} {reply.status_code}: {reply.text[:80]}")
            return None
        token = reply.json()["access_token"]
        return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=5)

    def _clerk(self, window: str, delay: float) -> None:
        client: httpx.Client | None = None
        if self.stop_event.wait(delay):  # clerks arrive one after another, as in a real morning
            return
        while not self.stop_event.wait(self.random.uniform(4, 12)):
            client = client or self._login(window)
            if client is None:
                continue
            try:
                reply = client.post(
                    f"{self.url}/windows/{window}/call-next",
                    headers={"Idempotency-Key": f"sim-{window}-{time.time_ns()}"},
                )
            except httpx.HTTPError as exc:
                self._note(f"call-next {window}: {exc}")
                continue
            if reply.status_code == 200:
                self.called += 1
            elif reply.status_code == 401:
                client = None
            elif reply.status_code not in (204,):
                self._note(f"call-next {window} {reply.status_code}: {reply.text[:80]}")


def render_board(board: dict, width: int = 100) -> str:
    """The live view: the board snapshot as text, for a terminal without a screen."""
    lines = [f"seq {board.get('seq')}  {str(board.get('at', ''))[:19]}", "最近叫号 recent calls:"]
    calls = board.get("recent_calls", [])[:5]
    lines.append("  " + ("   ".join(f"{c['ticket']}→{c['window_name']}" for c in calls) or "—"))
    lines.append("窗口 windows:")
    cells = []
    for w in board.get("windows", []):
        state = {"open": w.get("ticket") or "空闲", "paused": "暂停服务", "closed": "关闭"}.get(w["state"], w["state"])
        cells.append(f"{w['name']}: {state}")
    lines += ["  " + "  ".join(cells[i : i + 4]) for i in range(0, len(cells), 4)]
    lines.append("等候 waiting:")
    waits = [
        f"{code} {v['name']} {v['count']}人 ~{v['est_wait_s'] // 60}分"
        for code, v in sorted(board.get("waiting", {}).items())
    ]
    lines += ["  " + "  ".join(waits[i : i + 3]) for i in range(0, len(waits), 3)]
    return "\n".join(line[:width] for line in lines)


def stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)  # through the `finally` that stops the devices


def run(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the live view
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    data = Path(args.data_dir).resolve()
    if args.fresh and data.exists():
        shutil.rmtree(data)
    if not args.keep_history:
        forget_queue(data)
    (data / "logs").mkdir(parents=True, exist_ok=True)
    (data / "wav").mkdir(exist_ok=True)
    port, broker_port = free_ports([args.port, args.broker_port])
    for asked, got, option in ((args.port, port, "--port"), (args.broker_port, broker_port, "--broker-port")):
        if asked != got:
            print(f"port {asked} is taken; using {got} (choose with {option})")
    url, mqtt = f"http://127.0.0.1:{port}", f"mqtt://127.0.0.1:{broker_port}"
    screens = has_display() and not args.headless
    supervisor = Supervisor(data / "logs")
    try:
        return _run_hall(args, supervisor, data, url, mqtt, port, broker_port, screens)
    except RuntimeError as exc:
        print(f"hallq demo: {exc}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop()


DATABASE = "hallq.db"


def forget_queue(data: Path) -> None:
    """A demo shows a hall opening for the day: an old run's database would show windows still serving
    tickets called long ago. SQLite's WAL and shared-memory files go with it."""
    for suffix in ("", "-wal", "-shm"):
        (data / f"{DATABASE}{suffix}").unlink(missing_ok=True)


def seed_history(data: Path, log_path: Path) -> bool:
    """A month of past traffic in a fresh demo database (`hallq stats seed-demo`, the server's own
    command: the real engine with a moving clock), so statistics and reports have numbers from the
    start. A failure is reported and the demo runs on without history."""
    database = data / DATABASE
    if database.exists():
        return False  # --keep-history: the last run's database already has its month
    print("seeding a month of past traffic for the statistics (hallq demo --no-history skips it) …", flush=True)
    argv = [sys.executable, "-m", "hallq.cli", "stats", "seed-demo", "--demo", "--database", f"sqlite:///{database}"]
    try:
        with open(log_path, "ab") as log:
            result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        result = subprocess.CompletedProcess(argv, 1, b"it took over 10 minutes")
    summary = result.stdout.decode(errors="replace").strip()
    if result.returncode != 0:
        forget_queue(data)
        print(f"the demo history could not be made ({summary or 'see ' + str(log_path)}); starting without it")
        return False
    print(summary)
    return True


def _run_hall(
    args: argparse.Namespace,
    supervisor: Supervisor,
    data: Path,
    url: str,
    mqtt: str,
    port: int,
    broker_port: int,
    screens: bool,
) -> int:
    if not args.no_history:
        seed_history(data, data / "logs" / "history.log")
    server = supervisor.add(
        "server",
        "server",
        "--demo",
        "--port",
        str(port),
        "--broker-port",
        str(broker_port),
        "--database",
        f"sqlite:///{data / DATABASE}",
    )
    print(f"dispatcher starting on {url} (embedded MQTT broker on {mqtt}) …")
    hall = wait_for_dispatcher(url, server)
    common = ["--demo", "--server", url, "--mqtt", mqtt, "--hall", HALL]
    audio = shutil.which("aplay") is not None and Path("/dev/snd").exists()
    voice = ["voice", *common, "--device", "voice-1", "--wav-dir", str(data / "wav"), "--keep-audio"]
    supervisor.add("voice", *voice, *([] if audio else ["--no-audio"]))
    windows = [w["id"] for w in hall["windows"]]
    places = demo_layout(display_size(), args.orientation) if screens else {}
    leds = ["--show", "--size", places["leds"].size_arg, "--position", places["leds"].position_arg] if screens else []
    supervisor.add(
        "window-screen",
        "window-screen",
        *common,
        "--device",
        "leds-1",
        "--windows",
        ",".join(windows),
        "--led",
        "sim:",
        *leds,
    )
    if screens:
        _add_screens(args, supervisor, common, places)
    simulation = HallSimulation(url, hall) if args.simulate == "yes" else None
    if simulation:
        simulation.start(skip_windows={args.window} if screens else set())
    _print_intro(url, mqtt, data, screens, audio, simulation is not None, args.window)
    return _live_view(args, supervisor, url, simulation)


def _add_screens(
    args: argparse.Namespace, supervisor: Supervisor, common: list[str], places: dict[str, Placement]
) -> None:
    """Board, kiosk and terminal as windows sized and placed to share this desktop (demo_layout)."""

    def window(name: str) -> list[str]:
        return ["--windowed", "--size", places[name].size_arg, "--position", places[name].position_arg]

    supervisor.add(
        "board", "board", *common, "--device", "board-1", *window("board"), "--orientation", args.orientation
    )
    supervisor.add(
        "kiosk",
        "kiosk",
        *common,
        "--device",
        "kiosk-1",
        *window("kiosk"),
        "--orientation",
        "portrait",
        "--printer",
        "sim:",
        "--idcard",
        "sim:",
        "--scanner",
        "sim:",
    )
    supervisor.add(
        "terminal",
        "terminal",
        *common,
        "--device",
        f"terminal-{args.window}",
        "--window",
        args.window,
        *window("terminal"),
    )


def _print_intro(
    url: str, mqtt: str, data: Path, screens: bool, audio: bool, simulated: bool, terminal_window: str
) -> None:
    print(f"hall 'demo' is running: API {url}/docs   board JSON {url}/api/v1/halls/{HALL}/board   MQTT {mqtt}")
    if not screens:
        print(
            "no display: running headless (kiosk, board and terminal need a screen; try `xvfb-run hallq demo`"
            " or run on a desktop)."
        )
    if simulated:
        spare = f" but window {terminal_window} (the terminal's: yours)" if screens else ""
        print(
            f"simulated citizens take tickets and simulated clerks call them at every window{spare};"
            " `hallq demo --simulate no` runs the hall without them."
        )
    else:
        print("no simulated citizens or clerks (--simulate no): take tickets at the kiosk, call at the terminal.")
    print(
        f"supervisors (log in as supervisor / demo): back office {url}/office   statistics {url}/office/stats"
        f"   the hall now {url}/office/live"
    )
    print(f"announcements: {'loudspeaker and ' if audio else ''}WAV files in {data / 'wav'}; logs in {data / 'logs'}")
    print(
        "demo credentials: clerks clerk1..clerk12 / demo, supervisor / demo, admin / demo;"
        f" device token {DEMO_TOKEN}. Ctrl-C stops the hall."
    )


def _live_view(args: argparse.Namespace, supervisor: Supervisor, url: str, simulation: HallSimulation | None) -> int:
    started = time.monotonic()
    interactive = sys.stdout.isatty()
    while not args.duration or time.monotonic() - started < args.duration:
        for note in supervisor.watch():
            print(note)
        try:
            board = httpx.get(f"{url}/api/v1/halls/{HALL}/board", timeout=10).json()
            view = render_board(board)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            view = f"(dispatcher not answering: {exc})"
        if simulation:
            view += f"\nsimulated: {simulation.issued} tickets issued, {simulation.called} called"
            view += "".join(f"\n  ! {e}" for e in simulation.errors[-2:])
        print(("\033[2J\033[H" if interactive else "\n") + view, flush=True)
        time.sleep(2 if interactive else 5)
    if simulation:
        simulation.stop_event.set()
    return 0
