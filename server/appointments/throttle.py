"""How often a phone may book (DESIGN.md §13): per client address and per person (the ID number's HMAC).

The same `limits` moving window over in-memory storage the logins use (server/login_throttle.py): one
dispatcher owns its halls, so an in-memory count is the right scope; a restart forgets it. Kiosks and
clerks book with their token and are not counted here.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from hallq.config import AppointmentRules
from server.login_throttle import TooManyAttempts


class BookingThrottle:
    def __init__(self, rules: AppointmentRules) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_address: RateLimitItem = RateLimitItemPerHour(rules.per_address_per_hour)
        self._per_person: RateLimitItem = RateLimitItemPerDay(rules.per_person_per_day)

    def admit_address(self, address: str) -> None:
        self._hit(
            self._per_address,
            "address",
            address,
            "此网络预约操作过于频繁，请稍后再试。 Too many bookings from this address.",
        )

    def admit_person(self, id_hash: str) -> None:
        self._hit(
            self._per_person,
            "person",
            id_hash,
            "该身份证号今天预约操作次数过多，请明天再试。 Too many bookings for this ID number today.",
        )

    def _hit(self, item: RateLimitItem, kind: str, key: str, sentence: str) -> None:
        if not self._limiter.hit(item, kind, key):
            reset_at, _ = self._limiter.get_window_stats(item, kind, key)
            raise TooManyAttempts(sentence, math.ceil(reset_at - time.time()))
