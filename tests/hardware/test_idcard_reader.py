"""The real reader driver and reader loop against the in-process simulator (sim:)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from hardware.idcard import IdCard, IdCardReader, ReaderLoop, ReaderStatus, sample_card
from hardware.idcard.protocol import FrameChecksumError, NoReader, ReaderNotAuthorised, ReaderTimeout, ReadFailed
from hardware.idcard.simulator import SimulatedIdCardReader
from hardware.sim import get_simulator
from hardware.urls import open_serial
from tests.hardware.conftest import VECTORS, vector_cards


def sim() -> SimulatedIdCardReader:
    device = get_simulator("idcard")
    assert isinstance(device, SimulatedIdCardReader)
    return device


def reader() -> IdCardReader:
    return IdCardReader(open_serial("sim:", kind="idcard"), command_timeout=0.3, read_timeout=0.5)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_no_card_gives_none() -> None:
    assert reader().read_card() is None
    assert sim().commands == [(0x20, 0x01)]


def test_reads_a_card_given_by_fields() -> None:
    sim().present("elderly")
    card = reader().read_card()
    assert card is not None and card.name == "王建国"
    assert sim().commands == [(0x20, 0x01), (0x20, 0x02), (0x30, 0x01)]


def test_reads_vector_frames_exactly() -> None:
    drv = reader()
    for n, (_, expected) in enumerate(vector_cards()):
        sim().present_frame(VECTORS / f"card{n:02d}.bin")
        card = drv.read_card()
        assert card is not None and card.as_record() == expected


def test_split_replies_and_garbage_are_handled() -> None:
    sim().present("adult")
    sim().inject("split")
    sim().inject("garbage")
    card = reader().read_card()
    assert card is not None and card.name == "陈静"


def test_card_removed_mid_read() -> None:
    sim().present("adult")
    sim().inject("remove_mid_read")
    with pytest.raises(ReadFailed, match="读卡失败"):
        reader().read_card()
    assert not sim().has_card


def test_garbled_reply_is_a_checksum_error() -> None:
    sim().present("adult")
    sim().inject("garbled")
    with pytest.raises(FrameChecksumError):
        reader().read_card()


def test_reader_not_authorised() -> None:
    sim().inject("not_authorised")
    with pytest.raises(ReaderNotAuthorised):
        reader().read_card()


def test_silent_reader_times_out() -> None:
    sim().inject("silent")
    with pytest.raises(ReaderTimeout, match="无应答"):
        reader().find()


def test_unplugged_reader() -> None:
    drv = reader()
    sim().unplug()
    with pytest.raises(NoReader, match="断开"):
        drv.find()


class Recorder:
    def __init__(self) -> None:
        self.cards: list[IdCard] = []
        self.statuses: list[ReaderStatus] = []
        self.lock = threading.Lock()

    def card(self, card: IdCard) -> None:
        with self.lock:
            self.cards.append(card)

    def status(self, status: ReaderStatus) -> None:
        with self.lock:
            self.statuses.append(status)


def loop(rec: Recorder, url: str = "sim:") -> ReaderLoop:
    return ReaderLoop(
        url, rec.card, rec.status, poll_interval=0.01, backoff=(0.02, 0.05), command_timeout=0.3, read_timeout=0.5
    )


def test_loop_reports_each_presentation_once() -> None:
    rec = Recorder()
    with loop(rec) as reader_loop:
        wait_for(lambda: reader_loop.status.state == "ok")
        sim().present("elderly")
        wait_for(lambda: len(rec.cards) == 1)
        polls = len(sim().commands)
        wait_for(lambda: len(sim().commands) > polls + 20)  # card stays on the reader for many polls
        assert len(rec.cards) == 1 and sim().reads_answered == 1
        sim().remove()
        wait_for(lambda: not reader_loop._present)
        sim().present("elderly")  # the same card again: a new presentation
        wait_for(lambda: len(rec.cards) == 2)
        sim().remove()
        wait_for(lambda: not reader_loop._present)  # a hand swapping cards takes many polls
        sim().present("adult")
        wait_for(lambda: len(rec.cards) == 3)
    assert [c.name for c in rec.cards] == ["王建国", "王建国", "陈静"]


def test_loop_survives_bad_frames_and_reads_after() -> None:
    rec = Recorder()
    with loop(rec) as reader_loop:
        sim().inject("garbled")
        sim().present("adult")
        wait_for(lambda: reader_loop.errors >= 3)
        assert rec.cards == [] and reader_loop.status.state == "error"
        sim().clear_faults()
        sim().inject("garbage")
        wait_for(lambda: len(rec.cards) == 1)
        assert reader_loop.status.state == "ok"
    assert any(s.state == "error" and "校验" in s.detail for s in rec.statuses)


def test_loop_survives_a_failing_callback() -> None:
    calls: list[IdCard] = []

    def explode(card: IdCard) -> None:
        calls.append(card)
        raise RuntimeError("kiosk bug")

    with ReaderLoop("sim:", explode, poll_interval=0.01) as reader_loop:
        sim().present("adult")
        wait_for(lambda: len(calls) == 1)
        sim().remove()
        wait_for(lambda: not reader_loop._present)
        sim().present("elderly")
        wait_for(lambda: len(calls) == 2)


def test_loop_recovers_after_unplug_and_does_not_repeat_the_card() -> None:
    rec = Recorder()
    with loop(rec) as reader_loop:
        sim().present("adult")
        wait_for(lambda: len(rec.cards) == 1)
        sim().unplug()
        wait_for(lambda: reader_loop.status.state == "no_reader")
        sim().replug()
        wait_for(lambda: reader_loop.status.state == "ok")
        time.sleep(0.1)
        assert len(rec.cards) == 1  # the card lying there was already reported
        sim().remove()
        wait_for(lambda: not reader_loop._present)
        sim().present("elderly")
        wait_for(lambda: len(rec.cards) == 2)
    states = [s.state for s in rec.statuses]
    assert states.index("no_reader") < len(states) - 1 and states[-1] == "ok"


def test_loop_with_no_reader_keeps_trying() -> None:
    rec = Recorder()
    with loop(rec, "serial:///dev/does-not-exist") as reader_loop:
        wait_for(lambda: reader_loop._open_failures >= 3)
        assert reader_loop.status.state == "no_reader" and "cannot open" in reader_loop.status.detail
    assert [s.state for s in rec.statuses] == ["no_reader"]


def test_sample_card_can_be_presented_as_object() -> None:
    sim().present(sample_card("young"))
    card = reader().read_card()
    assert card is not None and card.name == "刘洋"


def test_present_a_card_given_as_fields() -> None:
    fields = vector_cards()[1][1]
    sim().present(fields)
    card = reader().read_card()
    assert card is not None and card.as_record() == fields


def test_sim_ports_are_forgotten_when_closed() -> None:
    for _ in range(5):
        open_serial("sim:", kind="idcard").close()
    assert sim()._endpoints == [] and sim()._sinks == []


def test_truncated_reply_times_out_and_the_next_command_is_clean() -> None:
    drv = reader()
    sim().present("adult")
    sim().inject("truncated")
    with pytest.raises(ReaderTimeout):
        drv.read_card()
    assert drv.read_card() is None  # the half frame left behind does not confuse the next reply
    sim().present("elderly")
    card = drv.read_card()
    assert card is not None and card.name == "王建国"


def test_loop_one_lost_reply_is_an_error_not_a_missing_reader() -> None:
    rec = Recorder()
    with loop(rec) as reader_loop:
        wait_for(lambda: reader_loop.status.state == "ok")
        sim().present("adult")
        sim().inject("truncated")
        wait_for(lambda: any(s.state == "error" for s in rec.statuses))
        sim().present("adult")
        wait_for(lambda: len(rec.cards) == 1)
    assert "no_reader" not in [s.state for s in rec.statuses]


def test_loop_silent_reader_becomes_no_reader() -> None:
    rec = Recorder()
    with loop(rec) as reader_loop:
        wait_for(lambda: reader_loop.status.state == "ok")
        sim().inject("silent")
        wait_for(lambda: reader_loop.status.state == "no_reader")
        sim().clear_faults()
        wait_for(lambda: reader_loop.status.state == "ok")


def test_url_faults_apply_once_not_on_every_reopen() -> None:
    open_serial("sim:?fault=no_card", kind="idcard").close()
    assert "no_card" in sim().faults
    sim().clear_faults()
    open_serial("sim:?fault=no_card", kind="idcard").close()  # a reader loop reopening
    assert not sim().faults


def test_loop_refuses_a_url_that_is_not_a_serial_line() -> None:
    from hardware.urls import DeviceUrlError

    with pytest.raises(DeviceUrlError, match="serial line"):
        ReaderLoop("tcp://10.0.0.5:9100", lambda card: None)
