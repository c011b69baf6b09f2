"""The submission flow's hardware: the receipt printer (the kiosk's own ticket printer) and the
document locker (智能文件柜), as small ports over the `hardware/` drivers (imported lazily, so a kiosk
without the hardware extra still runs)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.devices import PrintOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What the 收件通知书 prints (hardware/printer/layout.py ReceiptSlip): a masked name only."""

    hall_name: str
    receipt_no: str
    item_name: str
    masked_name: str
    received_at: dt.datetime
    received: tuple[str, ...]
    deferred: tuple[str, ...]
    supplement_by: dt.date | None
    promised_by: dt.date | None
    status_url: str
    contact: str = ""


class ReceiptPrinter(Protocol):
    def print_receipt(self, receipt: Receipt) -> PrintOutcome: ...


class EscposReceiptPrinter:
    """hardware/ render_receipt on the kiosk's own ESC/POS printer (kiosk/hardware_adapters.EscposPrinter),
    which prints one slip at a time, so a receipt and a ticket never interleave on the paper."""

    def __init__(self, ticket_printer: Any) -> None:
        self._ticket_printer = ticket_printer

    def print_receipt(self, receipt: Receipt) -> PrintOutcome:
        from hardware.printer.layout import ReceiptSlip

        slip = ReceiptSlip(
            hall_name=receipt.hall_name,
            receipt_number=receipt.receipt_no,
            service_item=receipt.item_name,
            applicant=receipt.masked_name,
            received_at=receipt.received_at,
            materials_received=receipt.received,
            materials_missing=receipt.deferred,
            supplement_by=receipt.supplement_by,
            promised_by=receipt.promised_by,
            status_url=receipt.status_url,
            contact=receipt.contact,
        )
        outcome: PrintOutcome = self._ticket_printer.print_receipt_slip(slip)
        return outcome


def receipt_printer_for(ticket_printer: Any) -> ReceiptPrinter | None:
    """The receipt printer behind the kiosk's ticket printer, or None where it cannot print receipts."""
    if not hasattr(ticket_printer, "print_receipt_slip"):
        return None
    return EscposReceiptPrinter(ticket_printer)


class LockerPort(Protocol):
    demo: bool

    def free_slot(self) -> int | None: ...

    def open(self, slot: int) -> None: ...

    def is_closed(self, slot: int) -> bool: ...

    def demo_close(self, slot: int) -> None: ...


class HardwareLocker:
    """hardware/ Locker (Modbus RTU cabinet, or `sim:`): a free slot is closed and empty."""

    def __init__(self, url: str) -> None:
        from hardware.locker import open_locker

        self.url = url
        self.demo = url.startswith("sim:")
        self._locker = open_locker(url)
        self._lock = threading.Lock()

    def free_slot(self) -> int | None:
        with self._lock:
            slots = self._locker.status()
        return next((s.slot for s in slots if not s.occupied and not s.door_open), None)

    def open(self, slot: int) -> None:
        with self._lock:
            self._locker.open(slot)

    def is_closed(self, slot: int) -> bool:
        with self._lock:
            slots = self._locker.status()
        return any(s.slot == slot and not s.door_open for s in slots)

    def demo_close(self, slot: int) -> None:
        """Demo only: the citizen puts the papers in and shuts the door of the simulated cabinet."""
        if not self.demo:
            return
        from hardware.sim import get_simulator
        from hardware.urls import parse_device_url

        simulator: Any = get_simulator("locker", parse_device_url(self.url).path)
        simulator.set_occupied(slot)
        simulator.close_door(slot)


def open_locker(url: str | None) -> LockerPort | None:
    if not url:
        return None
    try:
        return HardwareLocker(url)
    except ImportError as exc:
        log.warning("locker %s: the hardware driver is not installed (%s); no locker", url, exc)
        return None
