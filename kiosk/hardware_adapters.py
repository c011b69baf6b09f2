"""Adapters from the `hardware/` drivers to the kiosk's ports (kiosk/devices.py).

Each adapter turns a driver's own types and exceptions into what the presenter understands:
an `IdCard` becomes a `CardIdentity`, a `PrinterError` a `PrintOutcome` with the paper state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.devices import PAPER_NO_ANSWER, PAPER_OUT, CardHandler, ErrorHandler, PrintJob, PrintOutcome, ScanHandler
from kiosk.identity import CardIdentity

log = logging.getLogger(__name__)


class EscposPrinter:
    """The hardware/ ESC/POS driver and its ticket layout."""

    def __init__(self, url: str) -> None:
        from hardware.printer.driver import open_printer

        self.url = url
        self._printer = open_printer(url)
        self._lock = threading.Lock()

    def print_ticket(self, job: PrintJob) -> PrintOutcome:
        from hardware.printer.layout import TicketSlip

        slip = TicketSlip(
            hall_name=job.hall_name,
            number=job.number,
            service_name=job.service_name,
            ahead=job.ahead,
            estimated_wait_s=job.estimated_wait_s,
            issued_at=job.issued_at,
            status_url=job.status_url,
            priority_label="绿色通道" if job.priority == "green" else "",
        )
        return self._print(lambda: self._printer.print_ticket(slip))

    def print_receipt_slip(self, slip: Any) -> PrintOutcome:
        """A 收件通知书 (hardware ReceiptSlip) on the same printer, never interleaved with a ticket."""
        return self._print(lambda: self._printer.print_receipt(slip))

    def _print(self, job: Callable[[], Any]) -> PrintOutcome:
        from hardware.printer.driver import PaperOut, PrinterError

        with self._lock:  # one slip at a time on one printer
            try:
                paper = job()
            except PaperOut as exc:
                return PrintOutcome(False, PAPER_OUT, str(exc))
            except PrinterError as exc:
                return PrintOutcome(False, PAPER_NO_ANSWER, str(exc))
        return PrintOutcome(True, str(paper.value))

    def paper(self) -> str:
        with self._lock:
            return str(self._printer.paper_status().value)

    def close(self) -> None:
        try:
            self._printer.close()
        except Exception:
            log.debug("closing printer failed", exc_info=True)


class SamCardReader:
    """The hardware/ SAM reader loop: one `on_card` per card presentation, errors explained."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop: Any = None
        self.on_state: Callable[[str], None] | None = None  # "ok", "no_reader: …" for the device status

    def start(self, on_card: CardHandler, on_error: ErrorHandler) -> None:
        from hardware.idcard import ReaderLoop, ReaderStatus

        def card(raw: Any) -> None:
            try:
                identity = CardIdentity.from_card(raw)
            except ValueError as exc:
                on_error(str(exc))
                return
            on_card(identity)

        def status(reader_status: ReaderStatus) -> None:
            if reader_status.state == "error":
                on_error(reader_status.detail)
            elif self.on_state is not None:
                state = reader_status.state
                self.on_state(state if state == "ok" else f"{state}: {reader_status.detail}")

        self._loop = ReaderLoop(self.url, card, status).start()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.stop(timeout=2.0)


class HardwareScanner:
    """The hardware/ scanner driver (serial line mode or HID keyboard mode, chosen by its URL)."""

    def __init__(self, url: str) -> None:
        from hardware.scanner import open_scanner

        self.url = url
        self._scanner = open_scanner(url)

    def start(self, on_scan: ScanHandler) -> None:
        self._scanner.start(on_scan)

    def stop(self) -> None:
        self._scanner.stop()
