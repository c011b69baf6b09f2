"""The ID card reader driver (find → select → read over a serial line) and the polling reader loop.

`IdCardReader(port)` speaks the protocol over an open port (anything with the pyserial subset).
`ReaderLoop(url, on_card, on_status)` owns the port: it opens the URL, polls for a card, reports
each card once per presentation, reopens with backoff after an unplug, and reports its status
(ok / no_reader / error) through a callback whenever it changes. No frame can stop it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from hardware.idcard.card import CardDataError, IdCard
from hardware.idcard.protocol import (
    FIND_CARD,
    READ_CARD,
    SELECT_CARD,
    CardRead,
    FrameError,
    IdCardError,
    NeedData,
    NoCard,
    NoReader,
    ReaderTimeout,
    ResponseParser,
    StatusReply,
    command_frame,
)
from hardware.urls import PORT_ERRORS, DeviceUrl, DeviceUrlError, SerialLike, open_serial, parse_device_url

log = logging.getLogger(__name__)
DEFAULT_BAUDRATE = 115200
LINE_SCHEMES = ("serial", "socket", "sim", "loop")


class IdCardReader:
    """One reader on an open port. Each method sends a command and waits for its reply."""

    def __init__(self, port: SerialLike, *, command_timeout: float = 1.0, read_timeout: float = 3.0) -> None:
        self.port = port
        self.command_timeout = command_timeout
        self.read_timeout = read_timeout
        self.parser = ResponseParser()

    def find(self) -> bool:
        """True when a card is on the reader (SW3 9F), False when none (80); other statuses raise."""
        try:
            self._exchange(FIND_CARD, self.command_timeout).raise_for_status()
        except NoCard:
            return False
        return True

    def select(self) -> None:
        self._exchange(SELECT_CARD, self.command_timeout).raise_for_status()

    def read(self) -> IdCard:
        reply = self._exchange(READ_CARD, self.read_timeout)
        if isinstance(reply, CardRead):
            return reply.card
        reply.raise_for_status()
        raise FrameError(f"the read-card reply carried no card record ({len(reply.data)} data bytes)")

    def read_card(self) -> IdCard | None:
        """find → select → read; None when no card is on the reader."""
        if not self.find():
            return None
        self.select()
        return self.read()

    def _exchange(self, command: tuple[int, int], timeout: float) -> CardRead | StatusReply:
        self.parser.clear()
        try:
            self.port.reset_input_buffer()
            self.port.write(command_frame(command))
        except PORT_ERRORS as exc:
            raise NoReader(f"读卡器已断开 (reader disconnected: {exc})") from exc
        deadline = time.monotonic() + timeout
        data = b""
        while True:
            result = self.parser.feed(data)
            if not isinstance(result, NeedData):
                return result
            if time.monotonic() > deadline:
                code = f"{command[0]:02X} {command[1]:02X}"
                raise ReaderTimeout(f"读卡器无应答 (no reply to command {code} in {timeout}s)")
            try:
                data = self.port.read(max(1, min(self.port.in_waiting, 4096)))
            except PORT_ERRORS as exc:
                raise NoReader(f"读卡器已断开 (reader disconnected: {exc})") from exc


@dataclasses.dataclass(frozen=True)
class ReaderStatus:
    """`state` is ok, no_reader or error; `detail` is a sentence for staff."""

    state: str
    detail: str = ""


CardCallback = Callable[[IdCard], None]
StatusCallback = Callable[[ReaderStatus], None]


class ReaderLoop:
    """Polls a reader in a thread and calls `on_card` once per card presentation.

    Debounce: after a card is reported, the loop only checks it is still there (find) and does
    not read it again until the reader has reported "no card" `removal_polls` times in a row.
    """

    def __init__(
        self,
        url: str | DeviceUrl,
        on_card: CardCallback,
        on_status: StatusCallback | None = None,
        *,
        poll_interval: float = 0.25,
        removal_polls: int = 2,
        backoff: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0),
        command_timeout: float = 1.0,
        read_timeout: float = 3.0,
    ) -> None:
        self.url = parse_device_url(url)
        if self.url.scheme not in LINE_SCHEMES:
            raise DeviceUrlError(self.url.text, "an ID card reader is on a serial line: serial://, socket:// or sim:")
        self.on_card = on_card
        self.on_status = on_status
        self.poll_interval = poll_interval
        self.removal_polls = removal_polls
        self.backoff = backoff
        self.command_timeout = command_timeout
        self.read_timeout = read_timeout
        self.status = ReaderStatus("starting", "正在连接读卡器 (starting)")
        self.cards_read = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: SerialLike | None = None
        self._present = False
        self._misses = 0
        self._open_failures = 0
        self._last_card_key: int | None = None  # hash of the last reported card's number, never the number
        self._recheck = False
        self._timeouts = 0  # commands in a row that got no reply

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> ReaderLoop:
        self._thread = threading.Thread(target=self.run, daemon=True, name="idcard-reader")
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
        self._close()

    def __enter__(self) -> ReaderLoop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.poll_once()
            except Exception:  # the loop must survive anything, including a callback's bug
                log.exception("ID card reader loop: unexpected error")
                self._set_status("error", "读卡器程序错误，见日志 (unexpected error, see log)")
                delay = self.poll_interval
            self._stop.wait(delay)

    # -- one poll ----------------------------------------------------------------------------------
    def poll_once(self) -> float:
        """One step: open if needed, find, maybe select + read. Returns the delay before the next."""
        if self._port is None and not self._open():
            return self.backoff[min(self._open_failures - 1, len(self.backoff) - 1)]
        assert self._port is not None
        reader = IdCardReader(self._port, command_timeout=self.command_timeout, read_timeout=self.read_timeout)
        try:
            found = reader.find()
            self._timeouts = 0
            if not found:
                self._misses += 1
                if self._misses >= self.removal_polls:
                    self._present = False
                    self._recheck = False
                self._set_status("ok", "请放置身份证 (waiting for a card)")
                return self.poll_interval
            self._misses = 0
            if self._present:
                return self.poll_interval  # same presentation: already reported
            reader.select()
            card = reader.read()
        except NoReader as exc:
            self._close()
            self._set_status("no_reader", str(exc))
            return self.backoff[0]
        except ReaderTimeout as exc:
            # one lost reply (a card pulled mid-read) is an error; a line that stays silent is a
            # reader without power behind a USB-serial adapter that is still there: reopen it
            self._timeouts += 1
            self._close()
            self._set_status("no_reader" if self._timeouts >= 2 else "error", str(exc))
            return self.backoff[0]
        except (IdCardError, CardDataError) as exc:
            self.errors += 1
            if self.status.detail != str(exc):  # a reader stuck in one error logs it once, not 4×/s
                log.warning("ID card read failed: %s", exc)
            self._set_status("error", str(exc))
            return self.poll_interval
        self._present = True
        key = hash(card.id_number)
        if self._recheck and key == self._last_card_key:
            self._recheck = False  # the card that lay there before the reader was replugged
            self._set_status("ok", "已读卡 (card read)")
            return self.poll_interval
        self._recheck = False
        self._last_card_key = key
        self.cards_read += 1
        log.info("ID card read: %r", card)
        self._set_status("ok", "已读卡 (card read)")
        self.on_card(card)
        return self.poll_interval

    def _open(self) -> bool:
        try:
            self._port = open_serial(self.url, kind="idcard", baudrate=DEFAULT_BAUDRATE)
        except OSError as exc:
            self._open_failures += 1
            self._set_status("no_reader", f"未连接读卡器 (cannot open {self.url}: {exc})")
            return False
        self._open_failures = 0
        # after a reopen the card on the reader may be the one already reported: check, don't repeat
        self._recheck = self._present
        self._present = False
        self._misses = 0
        return True

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(OSError):
                port.close()

    def _set_status(self, state: str, detail: str) -> None:
        status = ReaderStatus(state, detail)
        if status.state == self.status.state and (state != "error" or status == self.status):
            self.status = status
            return
        self.status = status
        log.info("ID card reader status: %s — %s", state, detail)
        if self.on_status:
            try:
                self.on_status(status)
            except Exception:
                log.exception("ID card reader status callback failed")


def read_one_card(url: str | DeviceUrl, timeout: float = 10.0) -> IdCard | None:
    """Open the reader, wait up to `timeout` seconds for a card, read it once (for `hallq devices read-card`)."""
    port = open_serial(parse_device_url(url), kind="idcard", baudrate=DEFAULT_BAUDRATE)
    try:
        reader = IdCardReader(port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                card = reader.read_card()
            except (IdCardError, CardDataError) as exc:
                if isinstance(exc, NoReader) or time.monotonic() > deadline:
                    raise
                log.warning("read failed, trying again: %s", exc)
                card = None
            if card is not None:
                return card
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)
    finally:
        port.close()
