"""Each pytest-xdist worker on an X display of its own.

`scripts/test.sh` runs pytest under one `xvfb-run`, and its two workers would share that display:
a board test of one worker and a screens test of the other put their windows at the same place, and a
screenshot of the X screen (`import -window root`) caught the other worker's board ("A001 请到 1号窗口"
where this worker's board showed 3号窗口). A worker that finds a DISPLAY starts its own Xvfb, with the
same screen, and everything it starts (Kivy in-process, boards and kiosks as processes) draws there.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess

SCREEN = "1920x1920x24"  # as scripts/test.sh gives xvfb-run


def start_worker_display() -> subprocess.Popen[bytes] | None:
    """A private Xvfb for this xdist worker, DISPLAY pointed at it; None when not a worker or no X."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not os.environ.get("DISPLAY") or not shutil.which("Xvfb"):
        return None
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    os.close(write_end)
    try:
        number = _read_line(read_end, timeout_s=30)
    finally:
        os.close(read_end)
    if not number.isdigit():
        server.kill()
        raise RuntimeError(f"Xvfb did not say which display it took (said {number!r})")
    os.environ["DISPLAY"] = f":{number}"
    return server


def _read_line(fd: int, timeout_s: float) -> str:
    """Xvfb writes its display number and a newline once it accepts clients."""
    text = b""
    while not text.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout_s)
        chunk = os.read(fd, 16) if ready else b""
        if not chunk:
            break
        text += chunk
    return text.decode().strip()


def stop_worker_display(server: subprocess.Popen[bytes] | None) -> None:
    if server is not None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
