"""`hallq simulate`: simulated citizens and clerks against a running dispatcher, for trying a hall's
configuration, screens and loudspeakers before opening day (and what `hallq demo` runs headless).

`hallq bench`: lists and runs the benchmarks in the source tree's `bench/` folder."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hallq.demo import HallSimulation, render_board
from hallq.device import DEMO_SERVER, DEMO_TOKEN

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    simulate = sub.add_parser("simulate", help="simulated citizens and clerks against a running dispatcher")
    simulate.add_argument("--server", default=DEMO_SERVER, help=f"dispatcher URL (default {DEMO_SERVER})")
    simulate.add_argument("--hall", default="demo")
    simulate.add_argument("--token", default=DEMO_TOKEN, help="a kiosk device token (default: the demo's)")
    simulate.add_argument("--clerk-password", default="demo", help="password of clerk1, clerk2 … (default demo)")
    simulate.add_argument("--skip-windows", default="", help="windows with a real clerk, e.g. 1,3")
    simulate.add_argument("--duration", type=float, default=0, help="seconds (0: until Ctrl-C)")
    simulate.add_argument("--seed", type=int, default=2026)
    simulate.set_defaults(func=run_simulation)
    bench = sub.add_parser("bench", help="list or run the benchmarks (bench/ in a source checkout)")
    bench.add_argument("name", nargs="?", help="a benchmark, e.g. engine_callnext")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="its own options")
    bench.set_defaults(func=run_bench)


def run_simulation(args: argparse.Namespace) -> int:
    base = args.server.rstrip("/")
    try:
        hall = httpx.get(f"{base}/api/v1/halls/{args.hall}", timeout=10).raise_for_status().json()
    except httpx.HTTPError as exc:
        print(f"hallq simulate: the dispatcher at {base} does not answer for hall {args.hall}: {exc}", file=sys.stderr)
        return 1
    simulation = HallSimulation(base, hall, seed=args.seed, token=args.token, clerk_password=args.clerk_password)
    simulation.start(skip_windows={w for w in args.skip_windows.split(",") if w})
    started = time.monotonic()
    try:
        while not args.duration or time.monotonic() - started < args.duration:
            time.sleep(5)
            board = httpx.get(f"{base}/api/v1/halls/{args.hall}/board", timeout=10).json()
            print(
                render_board(board),
                f"\nsimulated: {simulation.issued} tickets issued, {simulation.called} called",
                *(f"\n  ! {e}" for e in simulation.errors[-2:]),
                flush=True,
            )
    except (httpx.HTTPError, KeyboardInterrupt) as exc:
        print(f"stopping: {exc or 'Ctrl-C'}")
    finally:
        simulation.stop_event.set()
    return 0


def run_bench(args: argparse.Namespace) -> int:
    if not BENCH_DIR.is_dir():
        print(
            "hallq bench: the benchmarks live in a source checkout (bench/); this installation has none",
            file=sys.stderr,
        )
        return 2
    available = sorted(p.stem for p in BENCH_DIR.glob("*.py"))
    if not args.name:
        print("benchmarks (numbers recorded in bench/README.md):\n  " + "\n  ".join(available))
        return 0
    name = args.name if args.name in available else f"{args.name}_bench"  # `hallq bench http`: http_bench
    if name not in available:
        print(f"hallq bench: no benchmark {args.name!r}; choose one of: {', '.join(available)}", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, str(BENCH_DIR / f"{name}.py"), *args.rest], cwd=BENCH_DIR.parent)
