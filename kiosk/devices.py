"""The kiosk's view of its hardware: three small ports (card reader, ticket printer, scanner).

The presenter only knows these ports. `open_*` builds them from device URLs (DESIGN.md section 8):
the real drivers come from `hardware/`; `sim:` gives an in-process simulator that the demo and the
tests drive (present a card, run out of paper, scan a QR).
"""

from __future__ import annotations

import logging
import threading
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
    issued_at: str
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


# -- simulators ----------------------------------------------------------------------------------
class SimPrinter:
    """A ticket printer with a paper roll that can run out (or jam) on command."""

    def __init__(self) -> None:
        self.paper_state = PAPER_OK
        self.jammed = False
        self.printed: list[PrintJob] = []
        self._lock = threading.Lock()

    def print_ticket(self, job: PrintJob) -> PrintOutcome:
        with self._lock:
            if self.jammed:
                return PrintOutcome(False, PAPER_NO_ANSWER, "printer does not answer")
            if self.paper_state == PAPER_OUT:
                return PrintOutcome(False, PAPER_OUT, "paper out")
            self.printed.append(job)
            return PrintOutcome(True, self.paper_state)

    def paper(self) -> str:
        return PAPER_NO_ANSWER if self.jammed else self.paper_state

    def close(self) -> None:
        pass


class SimCardReader:
    """Cards are 'presented' by calling `present()` (demo buttons, keyboard, tests)."""

    def __init__(self) -> None:
        self._on_card: CardHandler | None = None
        self._on_error: ErrorHandler | None = None

    def start(self, on_card: CardHandler, on_error: ErrorHandler) -> None:
        self._on_card, self._on_error = on_card, on_error

    def stop(self) -> None:
        self._on_card = self._on_error = None

    def present(self, card: CardIdentity) -> None:
        if self._on_card:
            self._on_card(card)

    def fail(self, reason: str) -> None:
        """A bad read (card moved, tilted): the reader reports it like a real one does."""
        if self._on_error:
            self._on_error(reason)


class SimScanner:
    def __init__(self) -> None:
        self._on_scan: ScanHandler | None = None

    def start(self, on_scan: ScanHandler) -> None:
        self._on_scan = on_scan

    def stop(self) -> None:
        self._on_scan = None

    def scan(self, text: str) -> None:
        if self._on_scan:
            self._on_scan(text)


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
