"""Random bytes into every parser: only the documented errors come out, and nothing loops forever."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.idcard.card import CardDataError
from hardware.idcard.protocol import NEED_DATA, PREAMBLE, FrameError, ResponseParser, build_frame
from hardware.modbus import RequestParser
from hardware.modbus import ResponseParser as ModbusResponseParser
from hardware.printer.preview import preview
from hardware.printer.simulator import SimulatedPrinter
from hardware.scanner import LineSplitter

chunks = st.lists(st.binary(max_size=300), max_size=12)
# pieces that look like the protocol: preambles, lengths, whole and cut frames, noise
frame_like = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.just(PREAMBLE),
        st.integers(0, 0xFFFF).map(lambda n: n.to_bytes(2, "big")),
        st.binary(min_size=3, max_size=300).map(build_frame),
        st.tuples(st.binary(min_size=3, max_size=300).map(build_frame), st.integers(0, 300)).map(
            lambda fc: fc[0][: fc[1]]
        ),
    ),
    max_size=20,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(chunks, frame_like))
def test_idcard_parser_on_random_bytes(pieces: list[bytes]) -> None:
    parser = ResponseParser()
    for piece in pieces:
        data = piece
        for _ in range(len(piece) + 2):  # every call consumes bytes or returns NEED_DATA
            try:
                if parser.feed(data) is NEED_DATA:
                    break
            except (FrameError, CardDataError):
                pass
            data = b""
        else:
            raise AssertionError("parser kept returning results without consuming input")
    assert len(parser.frames.buffer) <= 7 + 4096


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64), st.binary(min_size=3, max_size=64))
def test_idcard_parser_random_bodies_in_valid_frames(noise: bytes, body: bytes) -> None:
    parser = ResponseParser()
    try:
        result = parser.feed(noise + build_frame(body))
    except (FrameError, CardDataError):
        return
    if PREAMBLE not in noise:
        assert result is not NEED_DATA


@settings(max_examples=150, deadline=None)
@given(chunks)
def test_modbus_parsers_on_random_bytes(pieces: list[bytes]) -> None:
    for parser in (RequestParser(), ModbusResponseParser()):
        for piece in pieces:
            frame = parser.feed(piece)
            while frame is not None:
                frame = parser.feed(b"")


@settings(max_examples=100, deadline=None)
@given(chunks)
def test_printer_simulator_and_preview_on_random_bytes(pieces: list[bytes]) -> None:
    printer = SimulatedPrinter()
    answers: list[bytes] = []
    printer.add_sink(answers.append)
    for piece in pieces:
        printer.receive(piece)
    assert all(len(a) == 1 and a[0] & 0x93 == 0x12 for a in answers)
    preview(b"".join(pieces))


@settings(max_examples=100, deadline=None)
@given(chunks)
def test_line_splitter_on_random_bytes(pieces: list[bytes]) -> None:
    splitter = LineSplitter()
    for piece in pieces:
        for code in splitter.feed(piece):
            assert code and "\r" not in code and "\n" not in code
