"""Which calls are announced (DESIGN.md section 5): pure decisions, the clock an argument.

- a payload that is not a CallMessage is logged and dropped;
- each `seq` at most once (a recall is a new message with its own `seq`, so it is announced again);
- a call older than `max_age_s` when it arrives is skipped: after an outage the broker hands over
  what it kept, and reading that out as a backlog would send people to windows long since moved on;
- a caller for one zone (floor) announces only that zone's windows.

The memory of `seq`s seen needs to reach back only as far as a redelivered message could still
pass the age check, so entries older than twice `max_age_s` are forgotten. That also keeps
working when a dispatcher starts again from an empty database and its `seq` starts over.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from hallq.api_models import HallInfo
from hallq.contract import CallMessage

log = logging.getLogger(__name__)

MAX_REMEMBERED = 10_000
MIN_MEMORY_S = 600.0


class Verdict(StrEnum):
    announce = "announce"
    duplicate = "duplicate"
    stale = "stale"
    other_zone = "other-zone"


class MalformedCall(ValueError):
    """A `calls` payload that is not a valid CallMessage."""


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    age_s: float
    reason: str = ""


def parse_call(raw: bytes | str) -> CallMessage:
    try:
        call: CallMessage = CallMessage.from_json(raw)
    except (ValidationError, ValueError) as exc:
        preview = raw[:200] if isinstance(raw, str) else raw[:200].decode("utf-8", "replace")
        raise MalformedCall(f"not a call message ({_first_error(exc)}): {preview!r}") from None
    return call


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'payload'}: {first['msg']}"
    return str(exc).splitlines()[0]


class CallRules:
    """Stateful only in the `seq`s it has seen; everything else is in the arguments."""

    def __init__(self, max_age_s: float = 60.0, windows: frozenset[str] | None = None) -> None:
        if max_age_s < 0:
            raise ValueError("max age cannot be negative (0 turns the check off)")
        self.max_age_s = max_age_s
        self.windows = windows  # None: every window of the hall
        self._seen: OrderedDict[int, dt.datetime] = OrderedDict()

    def decide(self, call: CallMessage, now: dt.datetime) -> Decision:
        age_s = (now - _aware(call.at)).total_seconds()
        self._forget_before(now)
        if call.seq in self._seen:
            return Decision(Verdict.duplicate, age_s, f"seq {call.seq} was already handled")
        self._seen[call.seq] = now
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)
        if self.max_age_s and age_s > self.max_age_s:
            return Decision(Verdict.stale, age_s, f"called {age_s:.0f} s ago (limit {self.max_age_s:.0f} s)")
        if self.windows is not None and call.window not in self.windows:
            return Decision(Verdict.other_zone, age_s, f"window {call.window} is not one of this caller's")
        return Decision(Verdict.announce, age_s)

    def _forget_before(self, now: dt.datetime) -> None:
        if not self.max_age_s:
            return
        horizon = now - dt.timedelta(seconds=max(2 * self.max_age_s, MIN_MEMORY_S))
        while self._seen:
            seq, seen_at = next(iter(self._seen.items()))
            if seen_at >= horizon:
                break
            del self._seen[seq]


def _aware(moment: dt.datetime) -> dt.datetime:
    # A naive time from a dispatcher is taken as UTC, the contract's zone, rather than refused.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def zone_windows(hall: HallInfo, zone: str) -> frozenset[str]:
    """The ids of the windows whose `zone` is `zone` in GET /api/v1/halls/{hall}; error if none."""
    found = frozenset(w.id for w in hall.windows if w.zone.lower() == zone.lower())
    if not found:
        zones = sorted({w.zone for w in hall.windows if w.zone})
        raise ValueError(f"no window of the hall is in zone {zone!r} (zones: {', '.join(zones) or 'none'})")
    return found
