"""Resident ID card reader: card record, SAM protocol, driver + reader loop, simulator."""

from hardware.idcard.card import CardDataError, IdCard, mask_id_number, mask_name, sample_card
from hardware.idcard.protocol import (
    NEED_DATA,
    CardRead,
    IdCardError,
    NoCard,
    NoReader,
    ReaderNotAuthorised,
    ReadFailed,
    ResponseParser,
    SelectFailed,
    StatusReply,
)
from hardware.idcard.reader import IdCardReader, ReaderLoop, ReaderStatus, read_one_card

__all__ = [
    "NEED_DATA",
    "CardDataError",
    "CardRead",
    "IdCard",
    "IdCardError",
    "IdCardReader",
    "NoCard",
    "NoReader",
    "ReadFailed",
    "ReaderLoop",
    "ReaderNotAuthorised",
    "ReaderStatus",
    "ResponseParser",
    "SelectFailed",
    "StatusReply",
    "mask_id_number",
    "mask_name",
    "read_one_card",
    "sample_card",
]
