"""Personal data helpers (DESIGN.md §7): the ID number is only ever kept as an HMAC, names only masked.

Nothing here logs; callers must not log the raw values either (variables holding them are never
named in log lines).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


class InvalidIdCard(ValueError):
    """An ID card read that cannot be used (wrong length, letters, impossible birth date)."""


def normalize_id_number(raw: str) -> str:
    """Upper-case, strip spaces; raise InvalidIdCard unless it looks like an 18-character resident ID."""
    value = raw.strip().replace(" ", "").upper()
    if not _ID_NUMBER.match(value):
        raise InvalidIdCard("身份证号码应为18位（17位数字加1位数字或X）")
    return value


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
        raise InvalidIdCard("出生日期应为8位数字 YYYYMMDD") from None


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day` (a birthday counts from that day on)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_id_number(raw_id_number: str) -> str:
    """For a clerk's screen only where a case needs it: 3201********1234."""
    value = normalize_id_number(raw_id_number)
    return value[:4] + "*" * 10 + value[-4:]
