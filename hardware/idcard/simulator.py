"""A simulated ID card reader: answers find/select/read like a SAM reader, with faults on command.

    sim = SimulatedIdCardReader()
    sim.present(sample_card("elderly"))     # or present(IdCard.from_record({...})) or present_frame(bytes)
    sim.remove()
    sim.inject("garbled")                   # next reply has a flipped byte (bad checksum)

Faults: no_card (cards are ignored), remove_mid_read (the card leaves during the next read: reply
0x41), truncated (the card leaves while the read reply is sent: half a frame, then silence),
garbled (every reply gets a corrupted byte), split (replies arrive in small pieces), garbage
(noise before every preamble), not_authorised (reader answers 0x24), silent (reader stops
answering), unplugged.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from hardware.idcard.card import IdCard, encode_text_block, sample_card
from hardware.idcard.protocol import (
    FIND_CARD,
    READ_CARD,
    SELECT_CARD,
    SW_FOUND,
    SW_OK,
    FrameError,
    FrameParser,
    build_frame,
    card_response,
    parse_command,
    response_frame,
)
from hardware.sim import DeviceSimulator

NO_CARD = 0x80
SELECT_FAILED = 0x81
READ_FAILED = 0x41
NOT_AUTHORISED = 0x24
BAD_COMMAND_CHECKSUM = 0x10


class SimulatedIdCardReader(DeviceSimulator):
    kind = "idcard"
    FAULTS = (
        "unplugged",
        "no_card",
        "remove_mid_read",
        "truncated",
        "garbled",
        "split",
        "garbage",
        "not_authorised",
        "silent",
    )

    def __init__(self) -> None:
        super().__init__()
        self.parser = FrameParser()
        self.card_frame: bytes | None = None
        self.card: IdCard | None = None
        self.faults: set[str] = set()
        self.selected = False
        self.commands: list[tuple[int, int]] = []
        self.reads_answered = 0
        self._random = random.Random(4)

    # -- the in-process API ------------------------------------------------------------------------
    def present(self, card: IdCard | str | dict[str, str]) -> None:
        """Put a card on the reader: an IdCard, its fields (the vectors' .json shape), or the name of
        a sample card ("elderly" is 76 years old today, "adult" 30)."""
        if isinstance(card, str):
            card = sample_card(card)
        elif isinstance(card, dict):
            card = IdCard.from_record(card)
        frame = card_response(card, encode_text_block(card), card.photo or bytes(1024))
        with self.lock:
            self.card, self.card_frame, self.selected = card, frame, False

    def present_frame(self, frame: bytes | Path) -> None:
        """Put a card on the reader by the exact read-reply frame (e.g. a vector's cardNN.bin)."""
        data = Path(frame).read_bytes() if isinstance(frame, Path) else bytes(frame)
        with self.lock:
            self.card, self.card_frame, self.selected = None, data, False

    def remove(self) -> None:
        with self.lock:
            self.card, self.card_frame, self.selected = None, None, False

    @property
    def has_card(self) -> bool:
        return self.card_frame is not None

    def _inject(self, fault: str) -> None:
        if fault not in self.FAULTS:
            super()._inject(fault)
        with self.lock:
            self.faults.add(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
        super().clear_faults()

    # -- the device side of the line ---------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        with self.lock:
            body = None
            try:
                body = self.parser.feed(data)
            except FrameError:
                self._reply(response_frame(BAD_COMMAND_CHECKSUM))
            while body is not None:
                self._answer(body)
                try:
                    body = self.parser.feed(b"")
                except FrameError:
                    self._reply(response_frame(BAD_COMMAND_CHECKSUM))
                    body = None

    def _answer(self, body: bytes) -> None:
        try:
            command, _ = parse_command(body)
        except FrameError:
            self._reply(response_frame(0x11))
            return
        self.commands.append(command)
        if "silent" in self.faults:
            return
        if "not_authorised" in self.faults:
            self._reply(response_frame(NOT_AUTHORISED))
            return
        card_there = self.card_frame is not None and "no_card" not in self.faults
        if command == FIND_CARD:
            self._reply(response_frame(SW_FOUND, bytes(4)) if card_there else response_frame(NO_CARD))
        elif command == SELECT_CARD:
            self.selected = card_there
            self._reply(response_frame(SW_OK, bytes(8)) if card_there else response_frame(SELECT_FAILED))
        elif command == READ_CARD:
            self._answer_read(card_there)
        else:
            self._reply(response_frame(SW_OK))

    def _answer_read(self, card_there: bool) -> None:
        if "remove_mid_read" in self.faults and card_there:
            self.faults.discard("remove_mid_read")
            self.card, self.card_frame, self.selected = None, None, False
            self._reply(response_frame(READ_FAILED))
            return
        if not (card_there and self.selected) or self.card_frame is None:
            self._reply(response_frame(READ_FAILED))
            return
        if "truncated" in self.faults:
            # the card leaves while the reply is being sent: half a frame, then nothing
            self.faults.discard("truncated")
            frame, self.card, self.card_frame, self.selected = self.card_frame, None, None, False
            self.emit(frame[: len(frame) // 2])
            return
        self.reads_answered += 1
        self._reply(self.card_frame)

    def _reply(self, frame: bytes) -> None:
        if "garbled" in self.faults and len(frame) > 8:
            damaged = bytearray(frame)
            damaged[7 + self._random.randrange(len(frame) - 8)] ^= 0x5A
            frame = bytes(damaged)
        if "garbage" in self.faults:
            frame = bytes(self._random.randrange(256) for _ in range(7)) + b"\xaa\xaa" + frame
        if "split" in self.faults:
            for start in range(0, len(frame), 5):
                self.emit(frame[start : start + 5])
        else:
            self.emit(frame)

    # -- interactive commands (hallq devices simulate idcard) --------------------------------------
    def _command(self, words: list[str]) -> str:
        if words[0] == "present" and len(words) >= 2:
            what = words[1]
            path = Path(what)
            if path.suffix == ".bin" and path.exists():
                self.present_frame(path)
                return f"presented card frame {path.name}"
            self.present(sample_card(what, dt.date.today()))
            return f"presented sample card {what!r} ({self.card!r})"
        if words[0] == "remove":
            self.remove()
            return "card removed"
        if words[0] == "status":
            return self.describe()
        return "commands: present elderly|adult|young|senior|FILE.bin, remove, fault NAME, clear, unplug, replug"

    def describe(self) -> str:
        card = repr(self.card) if self.card else ("raw frame" if self.card_frame else "no card")
        return f"idcard simulator: {card}; faults {sorted(self.faults) or 'none'}" + (
            " (unplugged)" if self.unplugged else ""
        )


def raw_status_frame(sw3: int) -> bytes:
    """A reply frame with only a status byte (tests build error replies with it)."""
    return build_frame(bytes([0, 0, sw3]))
