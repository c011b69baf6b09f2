"""QR / barcode scanner: `Scanner.start(on_scan)` delivers each scanned code as a string.

Two modes:
- line mode (serial://, socket://, sim:): the scanner sends each code ended by CR and/or LF;
- HID keyboard mode (file:///dev/input/by-id/…-event-kbd, or usb://VID:PID?mode=hid): the scanner
  types the code as key presses ending with Enter; it is read through evdev and grabbed, so the
  codes do not also land in whatever window has the keyboard focus.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from hardware.scanner.base import ScanCallback, Scanner
from hardware.scanner.hid import HidScanner, KeyDecoder
from hardware.urls import PORT_ERRORS, DeviceUrl, DeviceUrlError, SerialLike, open_serial, parse_device_url

log = logging.getLogger(__name__)

MAX_CODE = 4096  # a line longer than this is noise (a scanner with no terminator configured)


class LineSplitter:
    """Pure: bytes in, complete codes out (CR, LF or CRLF ends a code; empty lines are skipped)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self.buffer += data
        codes: list[str] = []
        while True:
            ends = [i for i in (self.buffer.find(b"\r"), self.buffer.find(b"\n")) if i >= 0]
            if not ends:
                break
            end = min(ends)
            raw = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            if raw:
                codes.append(_decode(raw))
        if len(self.buffer) > MAX_CODE:
            log.warning("scanner sent %d bytes without a line end; dropped", len(self.buffer))
            self.buffer.clear()
        return codes


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


class LineScanner(Scanner):
    """A scanner in serial line mode; reopens the line after an unplug (with backoff)."""

    def __init__(self, url: str | DeviceUrl, backoff: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0)) -> None:
        self.url = parse_device_url(url)
        self.backoff = backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.online = False

    def start(self, on_scan: ScanCallback) -> LineScanner:
        self._thread = threading.Thread(target=self._run, args=(on_scan,), daemon=True, name="scanner")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _run(self, on_scan: ScanCallback) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                port = open_serial(self.url, kind="scanner", baudrate=9600, timeout=0.1)
            except OSError as exc:
                self.online = False
                if failures == 0:
                    log.warning("scanner %s not available: %s", self.url, exc)
                self._stop.wait(self.backoff[min(failures, len(self.backoff) - 1)])
                failures += 1
                continue
            failures = 0
            self.online = True
            self._pump(port, on_scan)
            self.online = False
            with contextlib.suppress(OSError):
                port.close()

    def _pump(self, port: SerialLike, on_scan: ScanCallback) -> None:
        splitter = LineSplitter()
        while not self._stop.is_set():
            try:
                data = port.read(256)
            except PORT_ERRORS as exc:
                log.warning("scanner %s lost: %s", self.url, exc)
                return
            for code in splitter.feed(data):
                try:
                    on_scan(code)
                except Exception:
                    log.exception("scan handler failed")


def open_scanner(url: str | DeviceUrl) -> Scanner:
    parsed = parse_device_url(url)
    mode = parsed.param("mode")
    if parsed.scheme == "file" or mode == "hid" or (parsed.scheme == "usb" and mode != "line"):
        return HidScanner(parsed)
    if parsed.scheme in ("serial", "socket", "sim", "loop"):
        return LineScanner(parsed)
    raise DeviceUrlError(parsed.text, "a scanner is serial:// or socket:// (line mode) or file:///dev/input/… (HID)")


__all__ = ["HidScanner", "KeyDecoder", "LineScanner", "LineSplitter", "Scanner", "open_scanner"]
