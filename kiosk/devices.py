"""The kiosk's view of its hardware: three small ports (card reader, ticket printer, scanner).

The presenter only knows these ports. `kiosk.runtime.open_*` builds them from device URLs (DESIGN.md
section 8) through the `hardware/` drivers (kiosk/hardware_adapters.py); `sim:` is the same driver on
`hardware/`'s simulator (the printer's ESC/POS bytes, the reader's SAM frames), which the demo and
the tests drive (present a card, run out of paper, scan a QR).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kiosk.identity import CardIdentity

log = logging.getLogger(__name__)

CardHandler = Callable[[CardIdentity], None]
ErrorHandler = Callable[[str], None]
ScanHandler = Callable[[str], None]

# Paper states, as DLE EOT 4 tells them apart (hardware/ printer): "no_answer" is not "ok".
PAPER_OK = "ok"
PAPER_NEAR_END = "near_end"
PAPER_OUT = "out"
PAPER_NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class PrintJob:
    """What goes on a paper ticket: no name, no ID number (DESIGN.md section 7)."""

    hall_name: str
    number: str
    service: str
    service_name: str
    ahead: int
    estimated_wait_s: int
    issued_at: dt.datetime
    status_url: str
    priority: str = "normal"


@dataclass(frozen=True)
class PrintOutcome:
    printed: bool
    paper: str
    error: str = ""


class TicketPrinter(Protocol):
    def print_ticket(self, job: PrintJob) -> PrintOutcome: ...

    def paper(self) -> str: ...

    def close(self) -> None: ...


class CardReader(Protocol):
    def start(self, on_card: CardHandler, on_error: ErrorHandler) -> None: ...

    def stop(self) -> None: ...


class Scanner(Protocol):
    def start(self, on_scan: ScanHandler) -> None: ...

    def stop(self) -> None: ...


class NoCardReader:
    """No reader configured: the kiosk works without ID cards."""

    def start(self, on_card: CardHandler, on_error: ErrorHandler) -> None:
        pass

    def stop(self) -> None:
        pass


class NoScanner:
    def start(self, on_scan: ScanHandler) -> None:
        pass

    def stop(self) -> None:
        pass


class NoPrinter:
    """No printer configured: tickets are shown on screen (with their QR) only."""

    def print_ticket(self, job: PrintJob) -> PrintOutcome:
        return PrintOutcome(False, PAPER_NO_ANSWER, "no printer configured")

    def paper(self) -> str:
        return PAPER_NO_ANSWER

    def close(self) -> None:
        pass
