from __future__ import annotations

import pytest

from hardware.modbus import (
    ModbusBusSimulator,
    ModbusCrcError,
    ModbusException,
    ModbusMaster,
    ModbusTimeout,
    RequestParser,
    ResponseParser,
    crc16,
    read_request,
    registers_to_text,
    text_to_registers,
    with_crc,
    write_multiple_request,
    write_single_request,
)
from hardware.sim import SimPort


def test_crc16_known_frames() -> None:
    # the classic examples from the Modbus over serial line guide and device manuals
    assert read_request(1, 3, 0, 10) == bytes.fromhex("01 03 00 00 00 0A C5 CD")
    assert write_single_request(1, 1, 3) == bytes.fromhex("01 06 00 01 00 03 98 0B")
    assert crc16(b"") == 0xFFFF


def test_write_multiple_frame() -> None:
    frame = write_multiple_request(0x11, 0x0001, [0x000A, 0x0102])
    assert frame[:-2] == bytes.fromhex("11 10 0001 0002 04 000A 0102")
    assert frame == with_crc(frame[:-2])


def test_request_parser_splits_at_every_byte() -> None:
    stream = read_request(2, 4, 0, 3) + write_multiple_request(2, 0x10, [1, 2, 3]) + write_single_request(2, 0, 7)
    for cut in range(len(stream) + 1):
        parser = RequestParser()
        frames = []
        for piece in (stream[:cut], stream[cut:]):
            frame = parser.feed(piece)
            while frame is not None:
                frames.append(frame)
                frame = parser.feed()
        assert [(f.unit, f.function) for f in frames] == [(2, 4), (2, 16), (2, 6)], cut


def test_response_parser_skips_noise_and_reports_bad_crc() -> None:
    good = with_crc(bytes([1, 3, 4, 0, 1, 0, 2]))
    parser = ResponseParser()
    assert parser.feed(b"\x00\xff\x99" + good) is not None  # function 0xff/0x99 are not ours: slid over
    bad = bytearray(good)
    bad[4] ^= 1
    assert parser.feed(bytes(bad)) is None  # dropped, never a frame
    assert parser.crc_errors >= 1
    assert parser.feed(good) is not None  # and the line carries on


def test_exception_response() -> None:
    frame = ResponseParser().feed(with_crc(bytes([5, 0x83, 2])))
    assert frame is not None and frame.is_exception and frame.body == b"\x02"


def test_text_registers_round_trip_and_cut_on_a_character() -> None:
    length, regs = text_to_registers("请A012到3号窗口", 128)
    assert registers_to_text(regs, length) == "请A012到3号窗口"
    length, regs = text_to_registers("窗口窗口窗口", 5)  # 2 bytes per character in GB18030
    assert length == 4 and registers_to_text(regs, length) == "窗口"


def master_on(device: ModbusBusSimulator) -> ModbusMaster:
    from hardware.sim import get_simulator

    assert get_simulator("led") is not None
    master = ModbusMaster("sim:", "led", timeout=0.2)
    master._port = SimPort(device)
    return master


def test_master_reads_and_writes_a_simulated_unit() -> None:
    device = ModbusBusSimulator()
    master = master_on(device)
    master.write_registers(3, 0x10, [1, 2, 3])
    assert master.read_holding(3, 0x10, 3) == [1, 2, 3]
    device.unit(3).input[0:2] = [42, 7]
    assert master.read_input(3, 0, 2) == [42, 7]
    master.write_register(3, 0, 9)
    assert device.unit(3).holding[0] == 9


def test_long_writes_are_chunked() -> None:
    device = ModbusBusSimulator()
    master = master_on(device)
    master.write_registers(1, 0, list(range(300)))
    assert device.unit(1).holding[:300] == list(range(300))
    assert device.requests == 3


def test_illegal_address_is_a_modbus_exception() -> None:
    master = master_on(ModbusBusSimulator())
    with pytest.raises(ModbusException, match="illegal data address"):
        master.read_holding(1, 510, 5)


def test_faults_garbled_silent_split() -> None:
    device = ModbusBusSimulator()
    master = master_on(device)
    device.inject("split")
    assert master.read_holding(1, 0, 4) == [0, 0, 0, 0]
    device.inject("garbled")
    with pytest.raises(ModbusCrcError, match="bad CRC"):
        master.read_holding(1, 0, 1)
    device.clear_faults()
    device.inject("silent")
    with pytest.raises(ModbusTimeout, match="did not answer"):
        master.read_holding(1, 0, 1)


def test_broadcast_gets_no_reply() -> None:
    device = ModbusBusSimulator()
    replies: list[bytes] = []
    device.add_sink(replies.append)
    device.receive(write_single_request(0, 0, 1))
    assert replies == []
