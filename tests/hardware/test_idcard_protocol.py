from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.idcard.protocol import (
    FIND_CARD,
    NEED_DATA,
    READ_CARD,
    SELECT_CARD,
    CardAuthFailed,
    CardRead,
    ChecksumError,
    FrameChecksumError,
    FrameError,
    NoCard,
    ReaderNotAuthorised,
    ReaderStatusError,
    ReadFailed,
    ResponseParser,
    SelectFailed,
    StatusReply,
    command_frame,
    response_frame,
    status_error,
)
from tests.hardware.conftest import vector, vector_cards


def test_command_frames_match_the_protocol() -> None:
    assert command_frame(FIND_CARD) == bytes.fromhex("AAAAAA9669 0003 2001 22")
    assert command_frame(SELECT_CARD) == bytes.fromhex("AAAAAA9669 0003 2002 21")
    assert command_frame(READ_CARD) == bytes.fromhex("AAAAAA9669 0003 3001 32")


def test_response_frame_builder_reproduces_the_vectors() -> None:
    assert response_frame(0x80) == vector("find_none.bin")
    assert response_frame(0x9F, bytes(4)) == vector("find_ok.bin")
    assert response_frame(0x90, bytes(8)) == vector("select_ok.bin")


def test_vectors_decode_exactly_as_their_json() -> None:
    for frame, expected in vector_cards():
        result = ResponseParser().feed(frame)
        assert isinstance(result, CardRead)
        assert result.card.as_record() == expected
        assert len(result.photo) == 1024 and len(result.text_block) == 256


def test_vector_details() -> None:
    cards = [ResponseParser().feed(frame) for frame, _ in vector_cards()]
    assert all(isinstance(c, CardRead) for c in cards)
    c0, c1, c2, c3 = (c.card for c in cards if isinstance(c, CardRead))
    assert c0.valid_to is None and c0.nation_name == "汉" and c0.sex_name == "男"
    assert c1.valid_to is not None and c1.valid_to.isoformat() == "2038-03-01" and c1.sex_name == "女"
    assert c2.nation_name == "维吾尔" and c2.name == "阿依古丽·买买提"
    assert c3.nation_name == "回" and c3.birth.isoformat() == "1999-12-31"


def test_status_vectors() -> None:
    assert ResponseParser().feed(vector("find_ok.bin")) == StatusReply(0x9F, bytes(4))
    assert ResponseParser().feed(vector("select_ok.bin")) == StatusReply(0x90, bytes(8))
    none = ResponseParser().feed(vector("find_none.bin"))
    assert isinstance(none, StatusReply) and not none.ok
    with pytest.raises(NoCard, match="未放卡"):
        none.raise_for_status()


def test_every_split_of_every_vector_decodes_the_same() -> None:
    for frame, expected in vector_cards():
        for cut in range(len(frame) + 1):
            parser = ResponseParser()
            first = parser.feed(frame[:cut])
            if cut < len(frame):
                assert first is NEED_DATA, cut
                result = parser.feed(frame[cut:])
            else:
                result = first
            assert isinstance(result, CardRead), cut
            assert result.card.as_record() == expected


def test_byte_by_byte() -> None:
    frame, expected = vector_cards()[2]
    parser = ResponseParser()
    results = [parser.feed(bytes([b])) for b in frame]
    assert all(r is NEED_DATA for r in results[:-1])
    final = results[-1]
    assert isinstance(final, CardRead) and final.card.as_record() == expected


def test_garbage_before_the_preamble_is_skipped() -> None:
    frame, expected = vector_cards()[1]
    garbage = bytes([0x00, 0xFF, 0xAA, 0xAA, 0x13, 0xAA, 0xAA, 0xAA, 0x96, 0x00]) + bytes(range(40))
    parser = ResponseParser()
    result = parser.feed(garbage + frame)
    assert isinstance(result, CardRead) and result.card.as_record() == expected
    assert parser.frames.skipped == len(garbage)


def test_partial_preamble_at_the_end_of_a_chunk_is_kept() -> None:
    frame = vector("find_ok.bin")
    parser = ResponseParser()
    assert parser.feed(b"\x01\x02" + frame[:3]) is NEED_DATA  # ends in AA AA AA
    assert parser.feed(frame[3:]) == StatusReply(0x9F, bytes(4))


def test_false_preamble_with_absurd_length_is_skipped() -> None:
    frame = vector("find_none.bin")
    parser = ResponseParser()
    assert parser.feed(b"\xaa\xaa\xaa\x96\x69\xff\xff" + frame) == StatusReply(0x80)


def test_bad_checksum_raises_then_the_next_frame_parses() -> None:
    frame, expected = vector_cards()[0]
    damaged = bytearray(frame)
    damaged[100] ^= 0x01
    parser = ResponseParser()
    with pytest.raises(FrameChecksumError, match="checksum"):
        parser.feed(bytes(damaged) + vector("find_ok.bin"))
    assert parser.feed(b"") == StatusReply(0x9F, bytes(4))


def test_bad_checksum_byte_itself() -> None:
    frame = bytearray(vector("select_ok.bin"))
    frame[-1] ^= 0xFF
    with pytest.raises(FrameChecksumError):
        ResponseParser().feed(bytes(frame))


def test_reply_too_short_for_a_status_word() -> None:
    from hardware.idcard.protocol import build_frame

    with pytest.raises(FrameError, match="too short"):
        ResponseParser().feed(build_frame(b"\x00"))


def test_card_reply_with_a_wrong_text_length_is_a_frame_error() -> None:
    data = (100).to_bytes(2, "big") + (0).to_bytes(2, "big") + bytes(100)
    with pytest.raises(FrameError, match="text block of 100 bytes"):
        ResponseParser().feed(response_frame(0x90, data))


@pytest.mark.parametrize(
    ("sw3", "error", "text"),
    [
        (0x80, NoCard, "未放卡"),
        (0x81, SelectFailed, "选卡失败"),
        (0x41, ReadFailed, "读卡失败"),
        (0x10, ChecksumError, "校验和错误"),
        (0x24, ReaderNotAuthorised, "未授权"),
        (0x66, ReaderNotAuthorised, "未经授权"),
        (0x32, CardAuthFailed, "认证"),
    ],
)
def test_status_codes_map_to_clear_errors(sw3: int, error: type[ReaderStatusError], text: str) -> None:
    reply = ResponseParser().feed(response_frame(sw3))
    assert isinstance(reply, StatusReply)
    with pytest.raises(error, match=text) as info:
        reply.raise_for_status()
    assert info.value.sw3 == sw3 and f"0x{sw3:02X}" in str(info.value)


def test_unknown_status_code_still_explains() -> None:
    error = status_error(0x77)
    assert type(error) is ReaderStatusError and "0x77" in str(error)


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=12), seed=st.integers(0, 1000))
def test_a_stream_of_frames_in_random_pieces(cuts: list[int], seed: int) -> None:
    frames = [vector("find_ok.bin"), vector_cards()[3][0], vector("find_none.bin"), vector("select_ok.bin")]
    noise = bytes(random.Random(seed).randrange(256) for _ in range(seed % 17))
    stream = noise + b"".join(frames)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    parser = ResponseParser()
    results = []
    for piece in pieces:
        result = parser.feed(piece)
        while result is not NEED_DATA:
            results.append(result)
            result = parser.feed(b"")
    assert [type(r).__name__ for r in results] == ["StatusReply", "CardRead", "StatusReply", "StatusReply"]
    assert [r.sw3 for r in results if isinstance(r, StatusReply)] == [0x9F, 0x80, 0x90]
