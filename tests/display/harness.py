"""Run a real `hallq board` under Xvfb and read what it shows.

`BoardProcess` starts the board as a subprocess with `--screenshot`, so every change of its view is
written as PNG plus PATH.json (the view the PNG shows). `wait_for(predicate)` polls that JSON;
`screen_png()` grabs the real X screen (what a person in the hall would see) for OCR.
`FakeHall` stands in for the dispatcher's two read endpoints (hall info, GET /board) where a test
publishes the board itself; the tests against the real dispatcher use tests/support/dispatcher.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from hallq.config import example_config_path, load_hall_config
from hallq.contract import BoardSnapshot, Payload

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "screens"
READ_SCREEN = Path("/work/shared/tools/read-screen")


def demo_hall_info() -> dict[str, Any]:
    config = load_hall_config(example_config_path())
    return {
        "id": config.hall.id,
        "name": config.hall.name,
        "notice": config.hall.notice,
        "timezone": config.hall.timezone,
        "services": [{"code": s.code, "name": s.name} for s in config.services],
        "windows": [
            {"id": w.id, "name": w.name, "kind": w.kind, "services": list(w.services), "zone": w.zone}
            for w in config.windows
        ],
    }


class FakeHall:
    """GET /api/v1/halls/demo and /board on a free port; `snapshot` is what /board answers. With `hold`
    set to an Event, each request is answered only once it is set (`asked` is set when one arrives)."""

    def __init__(self) -> None:
        self.info = demo_hall_info()
        self.snapshot: BoardSnapshot | None = None
        self.hold: threading.Event | None = None
        self.asked = threading.Event()
        hall = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                hall.asked.set()
                if hall.hold is not None:
                    hall.hold.wait(30)
                if self.path == "/api/v1/halls/demo":
                    self._send(200, json.dumps(hall.info).encode())
                elif self.path == "/api/v1/halls/demo/board" and hall.snapshot is not None:
                    self._send(200, hall.snapshot.to_json())
                else:
                    self._send(404, b'{"detail": "not here"}')

            def _send(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the board stopped while its request was held (`hold`): nobody to answer, as a hall

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Publisher:
    """Publishes as the dispatcher would (its broker user), synchronously."""

    def __init__(self, url: str) -> None:
        from hallq.bus import parse_broker_url

        address = parse_broker_url(url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
        self.client.username_pw_set(address.username, address.password)
        self.client.connect(address.host, address.port)
        self.client.loop_start()

    def send(self, topic: str, payload: Payload | bytes, retain: bool = False) -> None:
        raw = payload if isinstance(payload, bytes) else payload.to_json()
        self.client.publish(topic, raw, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class BoardProcess:
    def __init__(self, workdir: Path, name: str, args: list[str]) -> None:
        self.workdir = workdir
        self.png = workdir / f"{name}.png"
        self.state_path = self.png.with_suffix(".json")
        self.log_path = workdir / f"{name}.log"
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BoardProcess:
        self.state_path.unlink(missing_ok=True)
        command = [sys.executable, "-m", "hallq.cli", "board", "--windowed", "--screenshot", str(self.png), *self.args]
        env = {**os.environ, "KIVY_NO_FILELOG": "1", "KIVY_HOME": str(self.workdir / "kivy")}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
        """The state file once its view satisfies `predicate`."""
        return self.wait_state(lambda state: bool(state.get("view")) and predicate(state["view"]), timeout)

    def wait_state(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"board exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            last = self.state()
            if last is not None and predicate(last):
                return last
            time.sleep(0.1)
        raise AssertionError(f"board never reached the state; last view: {last}\n{self.log()[-2000:]}")

    def keep(self, name: str) -> Path:
        """Copy the current screenshot to artifacts/screens/NAME.png (for people to look at), once
        the board reports that all its text fits."""
        assert (self.state() or {}).get("clipped") == [], f"{name}: text that does not fit: {self.state()}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        shutil.copyfile(self.png, target)
        return target

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def grab_screen(target: Path, region: list[int]) -> Path:
    """Part of the X screen itself (not the app's own export): what a person would see there.
    `region` is [left, top, width, height], as in the board's state file."""
    left, top, width, height = region
    subprocess.run(
        ["import", "-window", "root", "-crop", f"{width}x{height}+{left}+{top}", "+repage", str(target)],
        check=True,
        timeout=30,
    )
    return target


def read_text(png: Path) -> str:
    """OCR as a person would read it: the shared read-screen tool (tesseract chi_sim+eng)."""
    result = subprocess.run([str(READ_SCREEN), str(png)], capture_output=True, text=True, timeout=90, check=False)
    return result.stdout


def squash(text: str) -> str:
    return "".join(text.split())
