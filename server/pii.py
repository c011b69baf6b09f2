"""Personal data helpers (DESIGN.md §7): the ID number is only ever kept as an HMAC, names only masked.

Nothing here logs; callers must not log the raw values either (variables holding them are never
named in log lines).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
# GB 11643-1999 (ISO 7064 MOD 11-2): weights of the first 17 digits, and the check character by remainder
_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class InvalidIdCard(ValueError):
    """An ID card read that cannot be used (wrong length, letters, impossible birth date)."""


def normalize_id_number(raw: str) -> str:
    """Upper-case, strip spaces; raise InvalidIdCard unless it looks like an 18-character resident ID."""
    value = raw.strip().replace(" ", "").upper()
    if not _ID_NUMBER.match(value):
        raise InvalidIdCard(
            "身份证号码应为18位（17位数字加1位数字或X）。 An ID number has 17 digits and a check character."
        )
    return value


def gb11643_check_char(first17: str) -> str:
    """The check character (0-9 or X) of an 18-character resident ID number, from its first 17 digits."""
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _CHECK_WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class CheckedIdCard:
    """An ID card read that holds together: a valid number, and the birth date the number encodes."""

    number: str
    birth: dt.date


def check_id_card(raw_id_number: str, birth: str | None, today: dt.date) -> CheckedIdCard:
    """Check what a device read from a card before trusting it: the number's GB 11643 check character,
    the birth date inside the number (a real date, not after `today`), and the card's printed `birth`
    (when sent) against it. The birth date comes from the number itself, so the age is the number's.
    Raises InvalidIdCard with a sentence (the card is misread or forged: read it again)."""
    number = normalize_id_number(raw_id_number)
    if gb11643_check_char(number[:17]) != number[17]:
        raise InvalidIdCard("身份证号码校验位不符，请重新读卡。 The ID number's check character (GB 11643) is wrong.")
    try:
        encoded = dt.datetime.strptime(number[6:14], "%Y%m%d").date()
    except ValueError:
        raise InvalidIdCard(
            "身份证号码中的出生日期不存在。 The birth date inside the ID number is not a date."
        ) from None
    if encoded > today:
        raise InvalidIdCard("出生日期晚于今天。 The birth date is in the future.")
    if birth is not None and birth.strip() and parse_birth(birth) != encoded:
        raise InvalidIdCard(
            "出生日期与身份证号码不符，请重新读卡。 The birth date does not match the one in the ID number."
        )
    return CheckedIdCard(number, encoded)


def id_hash(secret: bytes, raw_id_number: str) -> str:
    """HMAC-SHA256 of the normalized ID number: the only form the store keeps (quotas, look-up)."""
    return hmac.new(secret, normalize_id_number(raw_id_number).encode("ascii"), hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳明 → 欧*明, 欧阳小明 → 欧**明; a one-character name becomes *."""
    clean = name.strip()
    if len(clean) <= 1:
        return "*"
    if len(clean) == 2:
        return clean[0] + "*"
    return clean[0] + "*" * (len(clean) - 2) + clean[-1]


def parse_birth(text: str) -> dt.date:
    """`YYYYMMDD` as printed on the card; raise InvalidIdCard if it is not a real date."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y%m%d").date()
    except ValueError:
        raise InvalidIdCard("出生日期应为8位数字 YYYYMMDD。 The birth date must be YYYYMMDD.") from None


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day` (a birthday counts from that day on)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_id_number(raw_id_number: str) -> str:
    """For a clerk's screen only where a case needs it: 3201********1234."""
    value = normalize_id_number(raw_id_number)
    return value[:4] + "*" * 10 + value[-4:]
