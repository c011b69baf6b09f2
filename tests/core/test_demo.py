"""`hallq demo` on a machine without a display: the whole hall runs headless, simulated citizens and
clerks drive it, the voice caller writes WAV files, and the live view shows the board."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hallq.demo import DATABASE, build_demo_args, forget_queue, render_board
from hallq.demo_layout import demo_layout
from tests.support.ports import free_port


def test_render_board_lists_calls_windows_and_waiting() -> None:
    board = {
        "seq": 7,
        "at": "2026-11-23T09:00:00+08:00",
        "recent_calls": [{"ticket": "A012", "window_name": "3号窗口"}],
        "windows": [
            {"name": "3号窗口", "state": "open", "ticket": "A012"},
            {"name": "4号窗口", "state": "paused", "ticket": None},
        ],
        "waiting": {"A": {"name": "社保业务", "count": 5, "est_wait_s": 600}},
    }
    text = render_board(board)
    assert "A012→3号窗口" in text and "4号窗口: 暂停服务" in text and "A 社保业务 5人 ~10分" in text


def test_headless_demo_runs_a_whole_hall(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    port, broker = free_port(), free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hallq.cli",
            "demo",
            "--data-dir",
            str(tmp_path),
            "--duration",
            "30",
            "--port",
            str(port),
            "--broker-port",
            str(broker),
        ],
        capture_output=True,
        text=True,
        timeout=150,
        env=env,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "running headless" in out
    assert re.search(r"demo history: \d+ working days .* \d+ tickets", out), out[-3000:]  # the month seeded first
    issued = [int(n) for n in re.findall(r"simulated: (\d+) tickets issued", out)]
    called = [int(n) for n in re.findall(r"tickets issued, (\d+) called", out)]
    assert issued and issued[-1] >= 5, out[-2000:]
    assert called and called[-1] >= 1, out[-2000:]
    assert re.search(r"[A-Q]\d{3}→\d+号窗口", out), out[-2000:]
    wavs = list((tmp_path / "wav").glob("*.wav"))
    assert wavs, (tmp_path / "logs" / "voice.log").read_text(errors="replace")[-2000:]


def test_simulate_drives_a_running_dispatcher(tmp_path: Path) -> None:
    from tests.support.dispatcher import start_dispatcher

    dispatcher = start_dispatcher(tmp_path)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "hallq.cli",
                "simulate",
                "--server",
                dispatcher.url,
                "--duration",
                "12",
                "--skip-windows",
                "12",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        issued = [int(n) for n in re.findall(r"simulated: (\d+) tickets issued", result.stdout)]
        assert issued and issued[-1] >= 2, result.stdout[-2000:]
        assert "→" in result.stdout  # the board as text, with calls made by the simulated clerks
    finally:
        dispatcher.stop()


def test_bench_lists_and_refuses_unknown_names() -> None:
    listing = subprocess.run([sys.executable, "-m", "hallq.cli", "bench"], capture_output=True, text=True)
    assert "engine_callnext" in listing.stdout
    unknown = subprocess.run([sys.executable, "-m", "hallq.cli", "bench", "nope"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "choose one of" in unknown.stderr
    http = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "bench", "http", "--help"], capture_output=True, text=True
    )
    assert http.returncode == 0 and "ratio hallq / bare" in http.stdout  # http_bench, as issue 18 names it


def test_each_run_starts_on_a_fresh_queue_unless_history_is_kept(tmp_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"{DATABASE}{suffix}").write_bytes(b"yesterday")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "server.log").write_text("kept")
    forget_queue(tmp_path)
    assert not list(tmp_path.glob(f"{DATABASE}*"))
    assert (tmp_path / "logs" / "server.log").read_text() == "kept"
    assert build_demo_args([]).keep_history is False and build_demo_args(["--keep-history"]).keep_history
    assert build_demo_args([]).simulate == "yes" and build_demo_args(["--simulate", "no"]).simulate == "no"
    assert build_demo_args([]).no_history is False and build_demo_args(["--no-history"]).no_history


def test_the_led_strips_get_a_window_beside_the_others() -> None:
    for desktop in ((1920, 1080), (2560, 1440), (1366, 768)):
        for orientation in ("landscape", "portrait"):
            places = demo_layout(desktop, orientation)
            leds = places["leds"]
            assert leds.position[0] + leds.size[0] <= desktop[0] and leds.size >= (200, 200)
            for name in ("board", "kiosk"):  # the terminal may overlap on a small desktop, the strips not
                other = places[name]
                apart = (
                    leds.position[0] >= other.position[0] + other.size[0]
                    or other.position[0] >= leds.position[0] + leds.size[0]
                    or leds.position[1] >= other.position[1] + other.size[1]
                    or other.position[1] >= leds.position[1] + leds.size[1]
                )
                assert apart, (desktop, orientation, name, leds, other)
