"""HID keyboard-mode scanners read through evdev (Linux), grabbed so keystrokes go nowhere else.

`KeyDecoder` is pure (key code + press/release → characters, US layout, Shift); `HidScanner`
finds the input device (a /dev/input path, or the first keyboard with the URL's VID:PID), grabs it
and feeds the decoder from a thread. evdev is imported only when a HID scanner is opened.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from hardware.scanner.base import Scanner
from hardware.urls import DeviceUnavailable, DeviceUrl

log = logging.getLogger(__name__)

# evdev key codes (linux/input-event-codes.h) → (plain, shifted); fixed by the kernel ABI
_DIGITS = {2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9", 11: "0"}
_SHIFTED_DIGITS = {"1": "!", "2": "@", "3": "#", "4": "$", "5": "%", "6": "^", "7": "&", "8": "*", "9": "(", "0": ")"}
_LETTER_ROWS = {16: "qwertyuiop", 30: "asdfghjkl", 44: "zxcvbnm"}
_PUNCT = {
    12: ("-", "_"), 13: ("=", "+"), 26: ("[", "{"), 27: ("]", "}"), 39: (";", ":"), 40: ("'", '"'),
    41: ("`", "~"), 43: ("\\", "|"), 51: (",", "<"), 52: (".", ">"), 53: ("/", "?"), 57: (" ", " "),
    55: ("*", "*"), 74: ("-", "-"), 78: ("+", "+"), 83: (".", "."), 98: ("/", "/"),
}  # fmt: skip
_KEYPAD_DIGITS = {82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9"}
KEY_ENTER, KEY_KPENTER, KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 28, 96, 42, 54, 58


def _keymap() -> dict[int, tuple[str, str]]:
    keymap: dict[int, tuple[str, str]] = {}
    for code, digit in _DIGITS.items():
        keymap[code] = (digit, _SHIFTED_DIGITS[digit])
    for start, row in _LETTER_ROWS.items():
        for offset, letter in enumerate(row):
            keymap[start + offset] = (letter, letter.upper())
    keymap.update(_PUNCT)
    for code, digit in _KEYPAD_DIGITS.items():
        keymap[code] = (digit, digit)
    return keymap


KEYMAP = _keymap()


class KeyDecoder:
    """Feed key events (code, value: 1 down, 0 up, 2 repeat); returns a code when Enter ends it."""

    def __init__(self) -> None:
        self.shift = 0
        self.caps = False
        self.chars: list[str] = []

    def feed(self, code: int, value: int) -> str | None:
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            self.shift = max(0, self.shift + (1 if value == 1 else -1 if value == 0 else 0))
            return None
        if value != 1:
            return None
        if code == KEY_CAPSLOCK:
            self.caps = not self.caps
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            text, self.chars = "".join(self.chars), []
            return text or None
        if code in KEYMAP:
            plain, shifted = KEYMAP[code]
            upper = bool(self.shift) != (self.caps and plain.isalpha())
            self.chars.append(shifted if upper else plain)
        return None


class HidScanner(Scanner):
    """A keyboard-mode scanner via evdev. Implements the Scanner interface (start/stop)."""

    def __init__(self, url: DeviceUrl) -> None:
        self.url = url
        self.grab = url.bool_param("grab", True)
        self.online = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _evdev() -> Any:
        try:
            import evdev
        except ImportError as exc:
            raise DeviceUnavailable(
                "HID scanners need the evdev package (Linux): pip install 'hallq[hardware]'"
            ) from exc
        return evdev

    def find_device(self) -> Any:
        evdev = self._evdev()
        if self.url.scheme == "file":
            try:
                return evdev.InputDevice(self.url.path)
            except OSError as exc:
                raise DeviceUnavailable(f"cannot open {self.url.path}: {exc} (see docs/hardware.md, udev)") from exc
        for path in evdev.list_devices():
            device = evdev.InputDevice(path)
            same_ids = device.info.vendor == self.url.vid and device.info.product == self.url.pid
            if same_ids and evdev.ecodes.EV_KEY in device.capabilities():
                return device
            device.close()
        raise DeviceUnavailable(f"no input device {self.url.vid:04x}:{self.url.pid:04x} (is it in HID mode?)")

    def start(self, on_scan: Callable[[str], None]) -> HidScanner:
        self._thread = threading.Thread(target=self._run, args=(on_scan,), daemon=True, name="hid-scanner")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _run(self, on_scan: Callable[[str], None]) -> None:
        while not self._stop.is_set():
            try:
                device = self.find_device()
            except DeviceUnavailable as exc:
                self.online = False
                log.warning("%s", exc)
                self._stop.wait(2.0)
                continue
            self.online = True
            try:
                self._pump(device, on_scan)
            except OSError as exc:
                log.warning("HID scanner lost: %s", exc)
            finally:
                self.online = False
                with contextlib.suppress(OSError):
                    device.close()

    def _pump(self, device: Any, on_scan: Callable[[str], None]) -> None:
        import select

        evdev = self._evdev()
        if self.grab:
            device.grab()
        decoder = KeyDecoder()
        while not self._stop.is_set():
            ready, _, _ = select.select([device.fd], [], [], 0.2)
            if not ready:
                continue
            for event in device.read():
                if event.type != evdev.ecodes.EV_KEY:
                    continue
                code = decoder.feed(event.code, event.value)
                if code:
                    try:
                        on_scan(code)
                    except Exception:
                        log.exception("scan handler failed")
