"""The ESC/POS driver against the simulated printer: in process, over a pty, over TCP, to a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.printer import (
    CoverOpen,
    PaperOut,
    PaperState,
    PrinterOffline,
    open_printer,
    parse_paper_status,
    render_ticket,
)
from hardware.printer.layout import sample_ticket
from hardware.printer.simulator import SimulatedPrinter
from hardware.sim import get_simulator
from hardware.sim.endpoints import PtyEndpoint, SocketEndpoint

TICKET = sample_ticket()


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (b"\x12", PaperState.OK),
        (b"\x1e", PaperState.NEAR_END),
        (b"\x16", PaperState.NEAR_END),  # only one of the two near-end bits
        (b"\x72", PaperState.OUT),
        (b"\x7e", PaperState.OUT),
        (b"", PaperState.NO_ANSWER),
        (b"\xff", PaperState.NO_ANSWER),  # fixed bits wrong: not a status byte
        (b"\x00", PaperState.NO_ANSWER),
    ],
)
def test_parse_paper_status(reply: bytes, state: PaperState) -> None:
    assert parse_paper_status(reply) is state


def sim() -> SimulatedPrinter:
    device = get_simulator("printer")
    assert isinstance(device, SimulatedPrinter)
    return device


def test_prints_exact_layout_bytes_in_process() -> None:
    printer = open_printer("sim:")
    assert printer.print_ticket(TICKET) is PaperState.OK
    assert bytes(sim().printed) == render_ticket(TICKET)
    assert sim().jobs == [render_ticket(TICKET)]


def test_four_different_paper_results() -> None:
    printer = open_printer("sim:?timeout=0.2")
    assert printer.paper_status() is PaperState.OK
    sim().set_paper("near_end")
    assert printer.paper_status() is PaperState.NEAR_END
    sim().set_paper("out")
    assert printer.paper_status() is PaperState.OUT
    sim().inject("silent")
    assert printer.paper_status() is PaperState.NO_ANSWER


def test_near_end_still_prints_and_says_so() -> None:
    sim().set_paper("near_end")
    assert open_printer("sim:").print_ticket(TICKET) is PaperState.NEAR_END
    assert len(sim().jobs) == 1


def test_paper_out_raises_and_prints_nothing() -> None:
    sim().set_paper("out")
    with pytest.raises(PaperOut, match="缺纸"):
        open_printer("sim:").print_ticket(TICKET)
    assert sim().printed == b"" and sim().dropped == 0


def test_cover_open_raises() -> None:
    sim().set_cover_open()
    with pytest.raises(CoverOpen, match="cover open"):
        open_printer("sim:").print_ticket(TICKET)


def test_error_state_raises_offline() -> None:
    sim().inject("error")
    with pytest.raises(PrinterOffline, match="error state"):
        open_printer("sim:").print_ticket(TICKET)


def test_printer_that_does_not_answer_is_offline() -> None:
    sim().inject("silent")
    with pytest.raises(PrinterOffline, match="无应答"):
        open_printer("sim:?timeout=0.1").print_ticket(TICKET)
    assert sim().printed == b""


def test_status_0_prints_blind() -> None:
    sim().inject("silent")
    assert open_printer("sim:?status=0").print_ticket(TICKET) is PaperState.NO_ANSWER
    assert bytes(sim().printed) == render_ticket(TICKET)


def test_status_summary() -> None:
    sim().set_paper("near_end")
    status = open_printer("sim:").status()
    assert status.answered and status.online and status.paper is PaperState.NEAR_END
    assert status.summary == "online, paper near_end"


def test_unplug_then_recover_in_process() -> None:
    printer = open_printer("sim:")
    printer.print_ticket(TICKET)
    sim().unplug()
    with pytest.raises(PrinterOffline):
        printer.print_ticket(TICKET)
    assert printer.paper_status() is PaperState.NO_ANSWER
    sim().replug()
    assert printer.print_ticket(TICKET) is PaperState.OK
    assert len(sim().jobs) == 2


@pytest.fixture
def pty_printer(tmp_path: Path) -> Iterator[tuple[SimulatedPrinter, PtyEndpoint]]:
    device = SimulatedPrinter()
    endpoint = PtyEndpoint(device, link=tmp_path / "ttyPRN")
    yield device, endpoint
    endpoint.close()


def test_over_a_pty_the_bytes_arrive(pty_printer: tuple[SimulatedPrinter, PtyEndpoint]) -> None:
    device, endpoint = pty_printer
    printer = open_printer(endpoint.url + "?baudrate=115200")
    assert printer.print_ticket(TICKET) is PaperState.OK
    printer.paper_status()  # a round trip after the job: everything written has been received
    assert bytes(device.printed) == render_ticket(TICKET)
    printer.close()


def test_over_a_pty_paper_out_is_reported(pty_printer: tuple[SimulatedPrinter, PtyEndpoint]) -> None:
    device, endpoint = pty_printer
    device.set_paper("out")
    printer = open_printer(endpoint.url)
    assert printer.paper_status() is PaperState.OUT
    with pytest.raises(PaperOut):
        printer.print_ticket(TICKET)
    device.set_paper("ok")
    assert printer.print_ticket(TICKET) is PaperState.OK
    printer.close()


def test_over_a_pty_unplug_and_recover(pty_printer: tuple[SimulatedPrinter, PtyEndpoint]) -> None:
    device, endpoint = pty_printer
    printer = open_printer(endpoint.url)
    printer.print_ticket(TICKET)
    device.unplug()
    with pytest.raises(PrinterOffline):
        printer.print_ticket(TICKET)
    with pytest.raises(PrinterOffline):  # still unplugged: reopening the link fails too
        printer.print_ticket(TICKET)
    device.replug()
    assert Path(endpoint.link or "").resolve() == Path(endpoint.path)  # a new pty behind the same link
    assert printer.print_ticket(TICKET) is PaperState.OK
    printer.paper_status()
    assert device.jobs == [render_ticket(TICKET)] * 2
    printer.close()


def test_network_printer_on_a_tcp_port() -> None:
    device = SimulatedPrinter()
    endpoint = SocketEndpoint(device)
    try:
        printer = open_printer(f"tcp://127.0.0.1:{endpoint.port}")
        assert printer.print_ticket(TICKET) is PaperState.OK
        device.set_paper("near_end")
        assert printer.paper_status() is PaperState.NEAR_END
        assert bytes(device.printed) == render_ticket(TICKET)
        printer.close()
    finally:
        endpoint.close()


def test_network_printer_refusing_connections_is_offline() -> None:
    endpoint = SocketEndpoint(SimulatedPrinter())
    port = endpoint.port
    endpoint.close()
    with pytest.raises(PrinterOffline, match="cannot reach"):
        open_printer(f"tcp://127.0.0.1:{port}?connect_timeout=1").print_ticket(TICKET)


def test_file_printer_writes_the_bytes_without_asking_status(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = open_printer(f"file://{target}")
    assert printer.print_ticket(TICKET) is PaperState.NO_ANSWER
    printer.close()
    assert target.read_bytes() == render_ticket(TICKET)
    assert printer.paper_status() is PaperState.NO_ANSWER


def test_usb_printer_without_the_device_is_offline() -> None:
    pytest.importorskip("usb")
    printer = open_printer("usb://0416:5011?in=0x81&out=0x03&status=0")
    with pytest.raises(PrinterOffline):
        printer.print_ticket(TICKET)


def test_unknown_profile_is_a_url_error() -> None:
    from hardware.urls import DeviceUrlError

    with pytest.raises(DeviceUrlError, match="profile 'TM-X999' unknown.*similar: TM-"):
        open_printer("sim:?profile=TM-X999")
