"""How often a login may be tried (issue 12): per client address, per user name, a lock-out after
repeated wrong passwords, and a cap on logins waiting for the password hasher.

The counting is the `limits` library's moving window over its in-memory storage: maintained (it is
what slowapi and Flask-Limiter are built on), no server to run, and thread-safe. One dispatcher
owns its halls' clerks, so an in-memory count is the right scope; a restart forgets it.
"""

from __future__ import annotations

import math
import threading
import time

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from server.settings import RequestLimits


class TooManyAttempts(Exception):
    """Refused before the password is checked (429); `retry_after_s` goes in Retry-After."""

    def __init__(self, sentence: str, retry_after_s: int) -> None:
        super().__init__(sentence)
        self.retry_after_s = max(1, retry_after_s)


class MovingLimit:
    """One count per key (a client address, a hall and an address …) over a moving window: the
    phone's doors, which have no token to count by, share it. Refuses with the sentence given (429)."""

    def __init__(self, rate: RateLimitItem, sentence: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rate = rate
        self._sentence = sentence

    def admit(self, *keys: str) -> None:
        if not self._limiter.hit(self._rate, *keys):
            reset_at, _ = self._limiter.get_window_stats(self._rate, *keys)
            raise TooManyAttempts(self._sentence, math.ceil(reset_at - time.time()))


class LoginThrottle:
    def __init__(self, limits: RequestLimits, max_waiting: int = 8) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_address: RateLimitItem = parse(limits.login_per_address)
        self._per_user: RateLimitItem = parse(limits.login_per_user)
        self._failures: RateLimitItem = RateLimitItemPerSecond(
            limits.lockout_failures, max(1, round(limits.lockout_minutes * 60))
        )
        self._lockout_minutes = limits.lockout_minutes
        self._max_waiting = max_waiting
        self._waiting = 0
        self._guard = threading.Lock()

    def admit(self, address: str, username: str) -> None:
        """Count this attempt, or raise TooManyAttempts saying how long to wait. A locked user name is
        refused whether it exists or not, so the lock-out does not tell which names exist."""
        if not self._limiter.test(self._failures, "failed", username):
            raise TooManyAttempts(
                f"密码错误次数过多，该用户已锁定约 {self._lockout_minutes:g} 分钟。 "
                f"Too many wrong passwords: this user is locked for about {self._lockout_minutes:g} minutes.",
                self._wait_s(self._failures, "failed", username),
            )
        for item, kind, key in ((self._per_address, "address", address), (self._per_user, "user", username)):
            if not self._limiter.hit(item, kind, key):
                raise self._too_frequent(item, kind, key)

    def refuse_early(self, address: str) -> None:
        """Raise TooManyAttempts, counting nothing, when this address is over its limit already or
        the hasher's queue is full: the request is refused before its body is even parsed."""
        if not self._limiter.test(self._per_address, "address", address):
            raise self._too_frequent(self._per_address, "address", address)
        if self._waiting >= self._max_waiting:
            raise self._hasher_full()

    def failed(self, username: str) -> None:
        self._limiter.hit(self._failures, "failed", username)

    def succeeded(self, username: str) -> None:
        self._limiter.clear(self._failures, "failed", username)

    def enter_hasher(self) -> None:
        """A place in the password hasher's queue; more than `max_waiting` logins at once wait outside."""
        with self._guard:
            if self._waiting >= self._max_waiting:
                raise self._hasher_full()
            self._waiting += 1

    @property
    def waiting(self) -> int:
        """Logins in the password hasher's queue now."""
        return self._waiting

    def leave_hasher(self) -> None:
        with self._guard:
            self._waiting -= 1

    def _too_frequent(self, item: RateLimitItem, kind: str, key: str) -> TooManyAttempts:
        return TooManyAttempts(
            "登录尝试过于频繁，请稍后再试。 Too many login attempts; please wait and try again.",
            self._wait_s(item, kind, key),
        )

    @staticmethod
    def _hasher_full() -> TooManyAttempts:
        return TooManyAttempts("登录人数过多，请稍后再试。 Too many logins at once; please try again.", 1)

    def _wait_s(self, item: RateLimitItem, *keys: str) -> int:
        reset_at, _ = self._limiter.get_window_stats(item, *keys)
        return math.ceil(reset_at - time.time())
