"""The ID card reader's SAM serial protocol (GA 467): frames, a pure incremental parser, status codes.

Command (host → reader):  AA AA AA 96 69 | LEN(2, big-endian) | CMD PARA [data] | CHK
Response (reader → host): AA AA AA 96 69 | LEN(2, big-endian) | SW1 SW2 SW3 [data] | CHK
LEN counts everything after itself, the checksum included; CHK is the XOR of the LEN bytes and
everything up to the checksum. SW3 is the status: 90 ok, 9F card found, others are errors.

The read-card reply's data is: text length(2) photo length(2) text block photo block.

`ResponseParser.feed(bytes)` never does I/O: it returns a `CardRead`, a `StatusReply` or
`NEED_DATA`; bytes before a preamble are skipped, a frame with a bad checksum raises
`FrameChecksumError` after being dropped, and the next call carries on with what follows.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import operator

from hardware.idcard.card import TEXT_BLOCK_SIZE, IdCard, decode_text_block

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
MAX_FRAME_LEN = 4096  # a read with fingerprint data is ~2.3 kB; longer lengths are garbage

FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_CARD = (0x30, 0x01)
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
READ_SAM_ID = (0x12, 0xFF)

SW_OK = 0x90
SW_FOUND = 0x9F


def xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


def build_frame(body: bytes) -> bytes:
    """Wrap a body (CMD PARA data, or SW1 SW2 SW3 data) in preamble, length and checksum."""
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor(length + body)])


def command_frame(command: tuple[int, int], data: bytes = b"") -> bytes:
    """The bytes to send for a command: `command_frame(FIND_CARD)` → AA AA AA 96 69 00 03 20 01 22."""
    return build_frame(bytes(command) + data)


def response_frame(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return build_frame(bytes([sw1, sw2, sw3]) + data)


def card_response(card: IdCard, text_block: bytes, photo: bytes) -> bytes:
    """The reply to READ_CARD for a card (the simulator's answer)."""
    del card  # the text block already carries it; the argument documents what is answered
    data = len(text_block).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text_block + photo
    return response_frame(SW_OK, data)


# -- errors -------------------------------------------------------------------------------------------
class IdCardError(Exception):
    """Base of every ID card reader error; `str()` is a sentence for staff (Chinese, then English)."""


class FrameError(IdCardError):
    """Bytes from the reader that are not a valid frame."""


class FrameChecksumError(FrameError):
    """A frame arrived whose XOR checksum is wrong (line noise, a loose cable)."""


class NoReader(IdCardError):
    """The reader is not connected or cannot be opened."""


class ReaderTimeout(IdCardError):
    """The reader did not answer in time."""


class ReaderStatusError(IdCardError):
    """The reader answered with an error status (SW3)."""

    sw3 = 0

    def __init__(self, sw3: int | None = None, text: str | None = None) -> None:
        if sw3 is not None:
            self.sw3 = sw3
        super().__init__(f"{text or STATUS_TEXT.get(self.sw3, '读卡器返回未知状态')} (SW3 0x{self.sw3:02X})")


class NoCard(ReaderStatusError):
    sw3 = 0x80


class SelectFailed(ReaderStatusError):
    sw3 = 0x81


class ReadFailed(ReaderStatusError):
    sw3 = 0x41


class ChecksumError(ReaderStatusError):
    """The reader says our command's checksum was wrong."""

    sw3 = 0x10


class ReaderNotAuthorised(ReaderStatusError):
    sw3 = 0x24


class CardAuthFailed(ReaderStatusError):
    sw3 = 0x31


class UnknownCardType(ReaderStatusError):
    sw3 = 0x40


class ReaderFault(ReaderStatusError):
    sw3 = 0x60


class CommandRejected(ReaderStatusError):
    sw3 = 0x21


STATUS_TEXT: dict[int, str] = {
    0x10: "读卡器收到的命令校验和错误 (command checksum error)",
    0x11: "读卡器收到的命令长度错误 (command length error)",
    0x21: "读卡器无法识别该命令 (command not recognised)",
    0x23: "越权操作，读卡器未授权 (operation not authorised)",
    0x24: "读卡器未授权或无法识别的错误 (reader not authorised / unrecognised error)",
    0x31: "卡认证机具失败 (card rejected the reader)",
    0x32: "机具认证卡失败 (reader rejected the card — not a genuine ID card?)",
    0x33: "信息验证错误 (card data verification failed)",
    0x40: "无法识别的卡类型 (not a resident ID card)",
    0x41: "读卡失败，请重新放卡 (read failed — place the card again)",
    0x47: "取随机数失败 (card random number failed)",
    0x60: "SAM模块自检失败 (reader self-test failed)",
    0x66: "SAM模块未经授权 (reader module not authorised)",
    0x80: "未放卡 (no card on the reader)",
    0x81: "选卡失败，请重新放卡 (select failed — place the card again)",
}
_STATUS_CLASSES: dict[int, type[ReaderStatusError]] = {
    0x10: ChecksumError,
    0x11: CommandRejected,
    0x21: CommandRejected,
    0x23: ReaderNotAuthorised,
    0x24: ReaderNotAuthorised,
    0x31: CardAuthFailed,
    0x32: CardAuthFailed,
    0x33: CardAuthFailed,
    0x40: UnknownCardType,
    0x41: ReadFailed,
    0x47: ReadFailed,
    0x60: ReaderFault,
    0x66: ReaderNotAuthorised,
    0x80: NoCard,
    0x81: SelectFailed,
}


def status_error(sw3: int) -> ReaderStatusError:
    """The exception for an error status byte."""
    return _STATUS_CLASSES.get(sw3, ReaderStatusError)(sw3)


# -- parser results -----------------------------------------------------------------------------------
class _NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData.NEED_DATA
NeedData = _NeedData


@dataclasses.dataclass(frozen=True)
class StatusReply:
    """Any reply that is not a card record: find/select answers and error statuses."""

    sw3: int
    data: bytes = b""
    sw1: int = 0
    sw2: int = 0

    @property
    def ok(self) -> bool:
        return self.sw3 in (SW_OK, SW_FOUND)

    def raise_for_status(self) -> StatusReply:
        if not self.ok:
            raise status_error(self.sw3)
        return self


@dataclasses.dataclass(frozen=True, repr=False)
class CardRead:
    """A successful read-card reply: the decoded card plus the raw blocks."""

    card: IdCard
    text_block: bytes
    photo: bytes

    def __repr__(self) -> str:
        return f"CardRead({self.card!r})"

    def raise_for_status(self) -> CardRead:
        return self  # a card record is a success


ParseResult = CardRead | StatusReply | _NeedData


class FrameParser:
    """Incremental frame splitter shared by both directions: `feed(bytes)` → body bytes or None."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.skipped = 0  # garbage bytes dropped before preambles, for diagnostics

    def feed(self, data: bytes = b"") -> bytes | None:
        """Append data; return the next whole frame's body (between length and checksum) or None."""
        self.buffer += data
        while True:
            start = self.buffer.find(PREAMBLE)
            if start < 0:
                # keep a possible partial preamble at the end, drop the rest
                keep = _partial_preamble_len(self.buffer)
                self.skipped += len(self.buffer) - keep
                del self.buffer[: len(self.buffer) - keep]
                return None
            if start:
                self.skipped += start
                del self.buffer[:start]
            if len(self.buffer) < 7:
                return None
            length = int.from_bytes(self.buffer[5:7], "big")
            if length < 2 or length > MAX_FRAME_LEN:
                self._drop_first_byte()  # a false preamble inside garbage: rescan after it
                continue
            end = 7 + length
            if len(self.buffer) < end:
                return None
            frame = bytes(self.buffer[:end])
            if xor(frame[5:-1]) != frame[-1]:
                self._drop_first_byte()
                raise FrameChecksumError(
                    f"数据校验错误，已丢弃一帧 (frame checksum mismatch: got 0x{frame[-1]:02X}, "
                    f"expected 0x{xor(frame[5:-1]):02X}, {len(frame)} bytes)"
                )
            del self.buffer[:end]
            return frame[7:-1]

    def _drop_first_byte(self) -> None:
        del self.buffer[:1]
        self.skipped += 1

    def clear(self) -> None:
        self.buffer.clear()


def _partial_preamble_len(buffer: bytearray) -> int:
    for size in range(min(len(PREAMBLE) - 1, len(buffer)), 0, -1):
        if buffer[-size:] == PREAMBLE[:size]:
            return size
    return 0


class ResponseParser:
    """Reader replies → `CardRead | StatusReply | NEED_DATA`. Pure: no I/O, no clock.

    Call `feed(data)` with whatever bytes arrived (any split); when it returns a result, call
    `feed(b"")` again to get further frames already buffered.
    """

    def __init__(self) -> None:
        self.frames = FrameParser()

    def feed(self, data: bytes = b"") -> ParseResult:
        body = self.frames.feed(data)
        if body is None:
            return NEED_DATA
        if len(body) < 3:
            raise FrameError(f"reply too short for a status word ({len(body)} bytes)")
        sw1, sw2, sw3, payload = body[0], body[1], body[2], body[3:]
        if sw3 == SW_OK and len(payload) >= 4:
            text_len = int.from_bytes(payload[0:2], "big")
            photo_len = int.from_bytes(payload[2:4], "big")
            if text_len and len(payload) >= 4 + text_len + photo_len:
                return _card_read(payload, text_len, photo_len)
        return StatusReply(sw3=sw3, data=bytes(payload), sw1=sw1, sw2=sw2)

    def clear(self) -> None:
        self.frames.clear()


def _card_read(payload: bytes, text_len: int, photo_len: int) -> CardRead:
    if text_len != TEXT_BLOCK_SIZE:
        raise FrameError(f"text block of {text_len} bytes; a resident ID card has {TEXT_BLOCK_SIZE}")
    text = payload[4 : 4 + text_len]
    photo = payload[4 + text_len : 4 + text_len + photo_len]
    return CardRead(card=decode_text_block(text, photo), text_block=text, photo=photo)


def parse_command(body: bytes) -> tuple[tuple[int, int], bytes]:
    """Split a command body (the simulator's side) into (CMD, PARA) and data."""
    if len(body) < 2:
        raise FrameError("command frame too short")
    return (body[0], body[1]), body[2:]
