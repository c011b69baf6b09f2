"""The real ID card driver and reader loop against the simulator over a pseudo-terminal and socket://,
the way a USB-serial reader is opened in a hall (serial:///dev/serial/by-id/… link)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.idcard import IdCard, IdCardReader, ReaderLoop, ReaderStatus
from hardware.idcard.protocol import FrameChecksumError
from hardware.idcard.simulator import SimulatedIdCardReader
from hardware.sim.endpoints import PtyEndpoint, SocketEndpoint
from hardware.urls import open_serial
from tests.hardware.conftest import VECTORS, vector_cards


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def pty_reader(tmp_path: Path) -> Iterator[tuple[SimulatedIdCardReader, PtyEndpoint]]:
    device = SimulatedIdCardReader()
    endpoint = PtyEndpoint(device, link=tmp_path / "ttyIDCARD")
    yield device, endpoint
    endpoint.close()


def test_reads_the_vectors_over_a_pty(pty_reader: tuple[SimulatedIdCardReader, PtyEndpoint]) -> None:
    device, endpoint = pty_reader
    port = open_serial(endpoint.url + "?baudrate=115200", kind="idcard")
    reader = IdCardReader(port)
    try:
        assert reader.read_card() is None
        for n, (_, expected) in enumerate(vector_cards()):
            device.present_frame(VECTORS / f"card{n:02d}.bin")
            card = reader.read_card()
            assert card is not None and card.as_record() == expected
    finally:
        port.close()


def test_split_garbled_and_garbage_over_a_pty(pty_reader: tuple[SimulatedIdCardReader, PtyEndpoint]) -> None:
    device, endpoint = pty_reader
    port = open_serial(endpoint.url, kind="idcard")
    reader = IdCardReader(port)
    try:
        device.present("elderly")
        device.inject("split")
        device.inject("garbage")
        card = reader.read_card()
        assert card is not None and card.name == "王建国"
        device.inject("garbled")
        with pytest.raises(FrameChecksumError):
            reader.read_card()
    finally:
        port.close()


def test_reader_loop_over_a_pty_unplug_and_recover(pty_reader: tuple[SimulatedIdCardReader, PtyEndpoint]) -> None:
    device, endpoint = pty_reader
    cards: list[IdCard] = []
    statuses: list[ReaderStatus] = []
    loop = ReaderLoop(
        endpoint.url, cards.append, statuses.append, poll_interval=0.02, backoff=(0.05, 0.1), command_timeout=0.5
    )
    with loop:
        wait_for(lambda: loop.status.state == "ok")
        device.present("adult")
        wait_for(lambda: len(cards) == 1)
        device.remove()
        wait_for(lambda: not loop._present)
        device.inject("garbled")  # bad frames: errors reported, no crash, no card
        device.present("elderly")
        wait_for(lambda: loop.errors >= 3)
        assert len(cards) == 1 and loop.status.state == "error"
        device.clear_faults()
        wait_for(lambda: len(cards) == 2)
        device.unplug()
        wait_for(lambda: loop.status.state == "no_reader")
        device.remove()
        device.replug()
        wait_for(lambda: loop.status.state == "ok")
        device.present("adult")
        wait_for(lambda: len(cards) == 3)
    assert [c.name for c in cards] == ["陈静", "王建国", "陈静"]
    assert "no_reader" in [s.state for s in statuses]


def test_reader_over_socket_url() -> None:
    device = SimulatedIdCardReader()
    endpoint = SocketEndpoint(device)
    try:
        device.present_frame(VECTORS / "card03.bin")
        port = open_serial(endpoint.url, kind="idcard")
        try:
            card = IdCardReader(port).read_card()
        finally:
            port.close()
        assert card is not None and card.as_record() == vector_cards()[3][1]
    finally:
        endpoint.close()
