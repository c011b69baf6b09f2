"""The ticket printer: the `TicketPrinter` interface and its ESC/POS driver over any transport.

    printer = open_printer("usb://0416:5011?in=0x81&out=0x03&profile=TM-T20II&columns=48")
    printer.print_ticket(slip)          # raises PaperOut / CoverOpen / PrinterOffline
    printer.paper_status()              # PaperState.OK / NEAR_END / OUT / NO_ANSWER

Transports are python-escpos printer classes (Usb through pyusb, a serial line through
`open_serial` so pty/socket:///sim: work too, Network on 9100, File, Dummy); every one has `_raw`.
Paper status is asked with `DLE EOT 4` and read with a deadline: python-escpos's own
`paper_status()` reports "paper adequate" when nothing answers, so it is not used.

URL parameters: profile (python-escpos profile), columns (32 for 58 mm, 48 for 80 mm), qr
(auto/native/image), status (1: the printer answers DLE EOT — no answer means offline; 0: it
never answers, print blind), timeout (seconds to wait for a status byte).
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import enum
import logging
import select
import socket
import threading
import time
from typing import Any

from escpos.escpos import Escpos

from hardware.printer.layout import LayoutOptions, ReceiptSlip, TicketSlip, render_receipt, render_ticket
from hardware.urls import DeviceUrl, DeviceUrlError, SerialLike, open_serial, parse_device_url

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
STATUS_PRINTER, STATUS_OFFLINE, STATUS_ERROR, STATUS_PAPER = 1, 2, 3, 4


class PaperState(enum.Enum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    NO_ANSWER = "no_answer"


class PrinterError(Exception):
    """The ticket could not be printed; `str()` is a sentence for staff and for the citizen screen."""


class PrinterOffline(PrinterError):
    pass


class PaperOut(PrinterError):
    pass


class CoverOpen(PrinterError):
    pass


def _valid_status(byte: int) -> bool:
    # every DLE EOT reply has bit 7 = 0, bit 4 = 1, bit 1 = 1, bit 0 = 0
    return byte & 0x93 == 0x12


def parse_paper_status(reply: bytes) -> PaperState:
    """Decode the DLE EOT 4 (paper roll sensor) reply: bits 5-6 paper end, bits 2-3 near end."""
    if not reply or not _valid_status(reply[-1]):
        return PaperState.NO_ANSWER
    byte = reply[-1]
    if byte & 0x60:
        return PaperState.OUT
    if byte & 0x0C:
        return PaperState.NEAR_END
    return PaperState.OK


@dataclasses.dataclass(frozen=True)
class PrinterStatus:
    answered: bool
    online: bool = False
    cover_open: bool = False
    paper: PaperState = PaperState.NO_ANSWER
    error: bool = False

    @property
    def summary(self) -> str:
        if not self.answered:
            return "no answer"
        parts = ["online" if self.online else "offline", f"paper {self.paper.value}"]
        if self.cover_open:
            parts.append("cover open")
        if self.error:
            parts.append("error")
        return ", ".join(parts)


class TicketPrinter(abc.ABC):
    """What kiosks and counters use; drivers and the simulator implement it."""

    @abc.abstractmethod
    def print_ticket(self, ticket: TicketSlip) -> PaperState:
        """Print one ticket; return the paper state after it. Raises PrinterError."""

    @abc.abstractmethod
    def print_receipt(self, receipt: ReceiptSlip) -> PaperState:
        """Print one 收件通知书. Raises PrinterError."""

    @abc.abstractmethod
    def paper_status(self) -> PaperState:
        """ok / near_end / out / no_answer — four different results."""

    def close(self) -> None:  # noqa: B027 — optional for drivers without a connection
        """Release the device."""


# -- transports: python-escpos classes with a deadline-bound status read ----------------------------
class StatusReading(Escpos):
    """An Escpos device that can also read a status reply within a deadline."""

    can_answer = True

    def read_reply(self, timeout: float) -> bytes:
        raise NotImplementedError


class SerialLinePrinter(StatusReading):
    """ESC/POS over `open_serial(url)`: serial://, socket:// and sim: (python-escpos's Serial class
    opens only local device paths)."""

    def __init__(self, url: DeviceUrl, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self._device = False

    def open(self, raise_not_found: bool = True) -> None:
        try:
            self.device = open_serial(self.url, kind="printer", baudrate=9600)
        except OSError as exc:
            self._device = False  # the next use tries again
            raise PrinterOffline(f"打印机未连接 (cannot open {self.url}: {exc})") from exc

    @property
    def port(self) -> SerialLike:
        device = self.device
        if device is None:
            raise PrinterOffline(f"打印机未连接 ({self.url})")
        return device  # type: ignore[return-value]

    def _raw(self, msg: bytes) -> None:
        self.port.write(msg)

    def read_reply(self, timeout: float) -> bytes:
        port = self.port
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = port.read(1)
            if data:
                return data
        return b""

    def discard_input(self) -> None:
        self.port.reset_input_buffer()

    def close(self) -> None:
        device = self._device
        self._device = False
        if device:
            with contextlib.suppress(OSError):
                device.close()  # type: ignore[attr-defined]


class TcpPrinter(StatusReading):
    """ESC/POS on a network printer's raw port (9100), with a connect timeout."""

    def __init__(self, host: str, port: int, timeout: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host, self.port, self.timeout = host, port, timeout
        self._device = False

    def open(self, raise_not_found: bool = True) -> None:
        try:
            self.device = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            self._device = False  # the next use tries again
            raise PrinterOffline(f"打印机未连接 (cannot reach {self.host}:{self.port}: {exc})") from exc

    def _sock(self) -> socket.socket:
        if self.device is None:
            raise PrinterOffline(f"打印机未连接 ({self.host}:{self.port})")
        return self.device  # type: ignore[return-value]

    def _raw(self, msg: bytes) -> None:
        self._sock().sendall(msg)

    def read_reply(self, timeout: float) -> bytes:
        sock = self._sock()
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return b""
        data = sock.recv(16)
        if not data:
            raise PrinterOffline(f"打印机断开连接 ({self.host}:{self.port} closed the connection)")
        return data

    def discard_input(self) -> None:
        sock = self._sock()
        while select.select([sock], [], [], 0)[0]:
            if not sock.recv(256):
                break

    def close(self) -> None:
        device = self._device
        self._device = False
        if device:
            with contextlib.suppress(OSError):
                device.close()  # type: ignore[attr-defined]


def _usb_printer(url: DeviceUrl, profile: str) -> StatusReading:
    """python-escpos's Usb class (pyusb) with configurable endpoints and a read deadline."""
    from escpos.printer import Usb

    class UsbPrinter(Usb, StatusReading):  # type: ignore[misc]
        def read_reply(self, timeout: float) -> bytes:
            import usb.core

            try:
                return bytes(self.device.read(self.in_ep, 16, int(timeout * 1000)))
            except usb.core.USBTimeoutError:
                return b""
            except usb.core.USBError as exc:
                raise PrinterOffline(f"打印机USB错误 (USB error: {exc})") from exc

        def discard_input(self) -> None:
            while self.read_reply(0.01):
                pass

    return UsbPrinter(  # type: ignore[no-any-return]
        idVendor=url.vid,
        idProduct=url.pid,
        in_ep=url.int_param("in", 0x81),
        out_ep=url.int_param("out", 0x03),
        timeout=int(url.float_param("write_timeout", 5.0) * 1000),
        profile=profile,
    )


def _file_printer(url: DeviceUrl, profile: str) -> Escpos:
    from escpos.printer import File

    return File(devfile=url.path, profile=profile)


class EscposTicketPrinter(TicketPrinter):
    """The real driver: layouts from hardware.printer.layout, status by DLE EOT, over any transport."""

    def __init__(
        self,
        device: Escpos,
        options: LayoutOptions | None = None,
        *,
        expects_status: bool = True,
        status_timeout: float = 0.5,
        name: str = "printer",
    ) -> None:
        self.device = device
        self.options = options or LayoutOptions()
        self.expects_status = expects_status and isinstance(device, StatusReading)
        self.status_timeout = status_timeout
        self.name = name
        self.lock = threading.RLock()  # one job or status request at a time on one printer

    # -- status ------------------------------------------------------------------------------------
    def _query(self, n: int) -> bytes:
        if not isinstance(self.device, StatusReading):
            return b""
        try:
            self.device.discard_input()  # type: ignore[attr-defined]
            self.device._raw(DLE_EOT + bytes([n]))
            return self.device.read_reply(self.status_timeout)
        except PrinterError:
            raise
        except Exception as exc:  # serial, socket, pyusb and escpos "not found" errors: device gone
            self._drop_connection()
            raise PrinterOffline(f"打印机已断开 ({self.name}: {exc})") from exc

    def paper_status(self) -> PaperState:
        with self.lock:
            try:
                return parse_paper_status(self._query(STATUS_PAPER))
            except PrinterOffline:
                return PaperState.NO_ANSWER

    def status(self) -> PrinterStatus:
        """Printer (DLE EOT 1), offline cause (2) and paper (4) in one record."""
        with self.lock:
            return self._status_locked()

    def _status_locked(self) -> PrinterStatus:
        printer = self._query(STATUS_PRINTER)
        if not printer or not _valid_status(printer[-1]):
            return PrinterStatus(answered=False)
        offline = self._query(STATUS_OFFLINE)
        cause = offline[-1] if offline and _valid_status(offline[-1]) else 0x12
        return PrinterStatus(
            answered=True,
            online=not printer[-1] & 0x08,
            cover_open=bool(cause & 0x04),
            paper=parse_paper_status(self._query(STATUS_PAPER)),
            error=bool(cause & 0x40),
        )

    def check_ready(self) -> PrinterStatus | None:
        """Raise the PrinterError that stops printing now, if any."""
        if not self.expects_status:
            return None
        status = self.status()
        if not status.answered:
            raise PrinterOffline(f"打印机无应答，请检查电源和连线 ({self.name} does not answer)")
        if status.cover_open:
            raise CoverOpen(f"打印机盖未关好 ({self.name}: cover open)")
        if status.paper is PaperState.OUT:
            raise PaperOut(f"打印机缺纸，请联系工作人员 ({self.name}: paper out)")
        if status.error:
            raise PrinterOffline(f"打印机故障 ({self.name}: error state, e.g. cutter jam)")
        return status

    # -- printing ----------------------------------------------------------------------------------
    def print_ticket(self, ticket: TicketSlip) -> PaperState:
        return self._print(render_ticket(ticket, self.options))

    def print_receipt(self, receipt: ReceiptSlip) -> PaperState:
        return self._print(render_receipt(receipt, self.options))

    def print_bytes(self, data: bytes) -> PaperState:
        return self._print(data)

    def _print(self, data: bytes) -> PaperState:
        with self.lock:
            return self._print_locked(data)

    def _print_locked(self, data: bytes) -> PaperState:
        self.check_ready()
        try:
            self.device._raw(data)
        except PrinterError:
            raise
        except Exception as exc:  # pyusb, socket and serial errors all mean "gone"
            self._drop_connection()
            raise PrinterOffline(f"打印失败，打印机已断开 ({self.name}: {exc})") from exc
        return self.paper_status() if self.expects_status else PaperState.NO_ANSWER

    def _drop_connection(self) -> None:
        """Close so the next call reopens (after an unplug the old handle is dead)."""
        try:
            self.device.close()
        except Exception:
            log.debug("closing %s failed", self.name, exc_info=True)
        self.device._device = False

    def close(self) -> None:
        self.device.close()


def open_printer(url: str | DeviceUrl) -> EscposTicketPrinter:
    """A TicketPrinter for a device URL (see module docstring for the parameters)."""
    parsed = parse_device_url(url)
    try:
        options = LayoutOptions(
            profile=parsed.param("profile", "default") or "default",
            columns=parsed.int_param("columns", 32),
            qr=parsed.param("qr", "auto") or "auto",
            cut=parsed.bool_param("cut", True),
        )
    except DeviceUrlError:
        raise
    except ValueError as exc:
        raise DeviceUrlError(parsed.text, str(exc)) from None
    profile = options.profile
    device: Escpos
    if parsed.scheme in ("serial", "socket", "sim", "loop"):
        device = SerialLinePrinter(parsed, profile=profile)
    elif parsed.scheme == "tcp":
        device = TcpPrinter(
            parsed.host, parsed.port, timeout=parsed.float_param("connect_timeout", 5.0), profile=profile
        )
    elif parsed.scheme == "usb":
        device = _usb_printer(parsed, profile)
    elif parsed.scheme == "file":
        device = _file_printer(parsed, profile)
    else:
        raise DeviceUrlError(parsed.text, "not a printer URL")
    return EscposTicketPrinter(
        device,
        options,
        expects_status=parsed.bool_param("status", parsed.scheme != "file"),
        status_timeout=parsed.float_param("timeout", 0.5),
        name=parsed.text,
    )
