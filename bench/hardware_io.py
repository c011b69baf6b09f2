"""Hardware driver speeds: ID card frame parsing, ticket layout, and real drivers against their
simulators over a pty (card read, ticket print, Modbus keypad poll). Prints a table; no asserts."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.idcard import IdCardReader, sample_card  # noqa: E402
from hardware.idcard.card import encode_text_block  # noqa: E402
from hardware.idcard.protocol import ResponseParser, card_response  # noqa: E402
from hardware.idcard.simulator import SimulatedIdCardReader  # noqa: E402
from hardware.keypad import SimulatedKeypad, open_keypad  # noqa: E402
from hardware.printer import open_printer, render_ticket  # noqa: E402
from hardware.printer.layout import sample_ticket  # noqa: E402
from hardware.printer.simulator import SimulatedPrinter  # noqa: E402
from hardware.sim.endpoints import PtyEndpoint  # noqa: E402
from hardware.urls import open_serial  # noqa: E402


def timed(label: str, runs: int, action: Callable[[], object]) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"| {label} | {runs} | {statistics.median(samples):.3f} ms | {p99:.3f} ms | {samples[-1]:.3f} ms |")


def main() -> None:
    card = sample_card("elderly")
    frame = card_response(card, encode_text_block(card), card.photo)
    print("| what | runs | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    timed("parse + validate one 1295-byte card frame", 2000, lambda: ResponseParser().feed(frame))
    timed("same frame fed byte by byte", 50, lambda: [p.feed(bytes([b])) for p in [ResponseParser()] for b in frame])
    timed("render one ticket (native QR)", 500, lambda: render_ticket(sample_ticket()))
    with tempfile.TemporaryDirectory() as tmp:
        reader_sim = SimulatedIdCardReader()
        reader_sim.present(card)
        endpoint = PtyEndpoint(reader_sim, link=Path(tmp) / "id")
        port = open_serial(endpoint.url + "?baudrate=115200", kind="idcard")
        reader = IdCardReader(port)
        timed("find+select+read a card over a pty", 100, reader.read_card)
        port.close()
        endpoint.close()

        printer_sim = SimulatedPrinter()
        endpoint = PtyEndpoint(printer_sim, link=Path(tmp) / "prn")
        printer = open_printer(endpoint.url)
        timed(
            "print a ticket over a pty (3 status queries + job + paper)",
            100,
            lambda: printer.print_ticket(sample_ticket()),
        )
        printer.close()
        endpoint.close()

        keypad_sim = SimulatedKeypad()
        endpoint = PtyEndpoint(keypad_sim, link=Path(tmp) / "rs485")
        keypad = open_keypad(endpoint.url + "?unit=1")
        timed("Modbus keypad poll, nothing pressed (1 request)", 200, keypad.poll)

        def press_and_poll() -> None:
            keypad_sim.press("call-next")
            keypad.poll()

        timed("Modbus keypad poll with one key (3 requests)", 200, press_and_poll)
        endpoint.close()


if __name__ == "__main__":
    main()
