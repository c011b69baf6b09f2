"""The citizen behind a swiped ID card, as the kiosk holds it: in memory only, for one action.

The full ID number and name go to the dispatcher over HTTP (it keeps an HMAC and a masked name);
they never reach a screen, a log line, a ticket or MQTT. `repr()` shows the masked name only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of a resident ID number."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧**明: the family name (and last character of long names) only."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class CardIdentity:
    id_number: str = field(repr=False)
    name: str = field(repr=False)
    birth: dt.date
    masked: str = ""

    def __post_init__(self) -> None:
        if not self.masked:
            object.__setattr__(self, "masked", mask_name(self.name))

    def age_on(self, day: dt.date) -> int:
        before_birthday = (day.month, day.day) < (self.birth.month, self.birth.day)
        return day.year - self.birth.year - int(before_birthday)

    @classmethod
    def from_card(cls, card: Any) -> CardIdentity:
        """From a hardware/ card read (any object with id_number, name and a birth date)."""
        birth = getattr(card, "birth", None) or getattr(card, "birth_date", None)
        if isinstance(birth, str):
            birth = dt.datetime.strptime(birth, "%Y%m%d").date()
        if not isinstance(birth, dt.date):
            raise ValueError("the card read has no birth date")
        return cls(id_number=str(card.id_number), name=str(card.name), birth=birth)


def demo_identity(name: str, age: int, today: dt.date, region: str = "321183", serial: str = "123") -> CardIdentity:
    """A made-up but well-formed identity of a given age (demo cards, tests)."""
    birth = (
        dt.date(today.year - age, 1, 15)
        if (today.month, today.day) >= (1, 15)
        else dt.date(today.year - age - 1, 1, 15)
    )
    first17 = f"{region}{birth:%Y%m%d}{serial}"
    return CardIdentity(id_number=first17 + check_digit(first17), name=name, birth=birth)
