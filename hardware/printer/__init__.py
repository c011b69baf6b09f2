"""Ticket printer: pure ESC/POS layouts, the TicketPrinter interface + ESC/POS driver, a simulator."""

from hardware.printer.driver import (
    CoverOpen,
    EscposTicketPrinter,
    PaperOut,
    PaperState,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    TicketPrinter,
    open_printer,
    parse_paper_status,
)
from hardware.printer.layout import LayoutOptions, ReceiptSlip, TicketSlip, render_receipt, render_ticket

__all__ = [
    "CoverOpen",
    "EscposTicketPrinter",
    "LayoutOptions",
    "PaperOut",
    "PaperState",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "ReceiptSlip",
    "TicketPrinter",
    "TicketSlip",
    "open_printer",
    "parse_paper_status",
    "render_receipt",
    "render_ticket",
]
