"""The hall's uplink to the city's hub (DESIGN §14): its committed events, in `seq` order, from the
outbox (the `events` table), each (hall, seq) stored at the hub exactly once.

One thread per dispatcher, woken by every commit (`dispatcher.on_commit`; it then waits GATHER_S so a
burst goes as one batch) and never on the request path: a ticket is issued and called as fast with
the hub away or hung. For each hall this dispatcher writes (a standby leaves it to the active one), it

- asks the hub where it stands by sending the hall's profile (`PUT …/profile`: its time zone and
  services' target waits, answered with the hub's `acked_seq`): nothing about the position is kept
  in the hall, so a kill -9 at any moment resumes from what the hub holds;
- posts the events after `acked_seq` in batches of at most BATCH (`POST …/events`), redacted
  (server/network/redact.py), and moves on to the `acked_seq` the hub answers; a 409 gap moves it
  to the seq the hub names;
- with nothing to ship, sends an empty batch every HEARTBEAT_S so the hub shows the hall online;
- while the hub cannot be reached (or answers 5xx) waits with exponential backoff and full jitter
  (so a hundred halls coming back after a city-wide outage do not all knock at once), the events
  waiting in the outbox meanwhile. A batch whose answer was lost is sent again: the hub acknowledges
  the events it already holds without storing them twice.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from hallq.config import HallConfig
from hallq.network_models import BatchAck, GapAnswer, HallProfile, HubHall, ServiceProfile, WindowProfile
from server.network.hub_worker import HubWorker
from server.network.redact import shippable
from server.runtime import Dispatcher
from server.store import EventRow

log = logging.getLogger(__name__)
BATCH = 500
HEARTBEAT_S = 20.0  # the hub counts a hall online for a minute after it last heard from it
# After a commit wakes the thread, wait this long so a burst ships as one batch: a POST per commit
# would cost the dispatcher's process (its GIL) a request's work on every issue and call.
GATHER_S = 1.0
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0


class HubRefused(Exception):
    """The hub answered with an error that retrying at once will not fix (401, 403, 409 profile, 422)."""


def hall_profile(config: HallConfig) -> HallProfile:
    """What the hub needs from the hall's config to count its events as the hall does."""
    return HallProfile(
        name=config.hall.name,
        kind=config.hall.kind.value,
        parent=config.hall.parent,
        timezone=config.hall.timezone,
        target_wait_min=config.stats.target_wait_min,
        services=[
            ServiceProfile(code=s.code, name=s.name, target_wait_min=config.target_wait_s(s.code) // 60)
            for s in config.services
        ],
        windows=[WindowProfile(id=w.id, name=w.name) for w in config.windows],
    )


def backoff_s(failures: int, rand: Callable[[], float] = random.random, cap_s: float = BACKOFF_MAX_S) -> float:
    """Exponential, capped, with full jitter: somewhere in the upper half of the step."""
    step = min(cap_s, BACKOFF_FIRST_S * 2 ** max(0, failures - 1))
    return step * (0.5 + 0.5 * rand())


@dataclass
class HallLink:
    """What the uplink knows of one hall's place at the hub; forgotten when the hall stands by."""

    hall: str
    token: str
    acked: int | None = None  # None: ask the hub (by sending the profile) before shipping
    failures: int = 0
    retry_at: float = 0.0
    last_contact: float = 0.0


class Uplink(HubWorker):
    def __init__(
        self,
        dispatcher: Dispatcher,
        hub_url: str,
        tokens: dict[str, str],
        *,
        batch: int = BATCH,
        heartbeat_s: float = HEARTBEAT_S,
        gather_s: float = GATHER_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self.dispatcher = dispatcher
        self.backoff_max_s = backoff_max_s
        self.batch = batch
        self.heartbeat_s = heartbeat_s
        self.gather_s = gather_s
        self.links = {hall: HallLink(hall, token) for hall, token in tokens.items() if hall in dispatcher.halls}
        super().__init__(hub_url, "hallq-uplink")

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.dispatcher.on_commit.append(self.on_commit)
        super().start()

    def stop(self) -> bool:
        if self.on_commit in self.dispatcher.on_commit:
            self.dispatcher.on_commit.remove(self.on_commit)
        return super().stop()

    def on_commit(self, _hall: str, _seq: int) -> None:
        """Called on every commit: only wakes the thread (never waits on the network)."""
        self.wake()

    # ---- the loop -------------------------------------------------------------------------------

    def _run(self) -> None:
        backlog = False  # a full batch went out: the next round comes at once, each hall in turn
        while True:
            with self._changed:
                if not backlog:
                    woken = self._changed.wait_for(lambda: self._stopping or self._dirty, self._next_wake_s())
                    if woken:  # a commit: let the burst it belongs to gather into one batch
                        self._pause(self.gather_s)
                if self._stopping:
                    return
                self._dirty = False
            backlog = False
            for link in self.links.values():
                if self._stopping:
                    return
                backlog = self._turn(link) or backlog

    def _next_wake_s(self) -> float:
        """Until the next retry of a hall that failed, or the next heartbeat of one that did not."""
        now = time.monotonic()
        due = [(link.retry_at if link.failures else link.last_contact + self.heartbeat_s) - now
               for link in self.links.values()]  # fmt: skip
        return max(0.05, min(due, default=self.heartbeat_s))

    def _turn(self, link: HallLink) -> bool:
        """One step for one hall; True when it shipped a full batch (more may be waiting)."""
        runtime = self.dispatcher.halls[link.hall]
        now = time.monotonic()
        if not runtime.active:  # standing by: the active dispatcher ships; ask the hub again on take-over
            link.acked = None
            link.last_contact = now  # look again in a heartbeat's time (a take-over's commit wakes it sooner)
            return False
        if now < link.retry_at:
            return False
        try:
            full = self._ship(link, now)
        except Exception as exc:  # the hub away or refusing, or the hall's own database away: try again later
            link.failures += 1
            link.retry_at = now + backoff_s(link.failures, cap_s=self.backoff_max_s)
            level = logging.ERROR if isinstance(exc, HubRefused) else logging.WARNING
            log.log(level, "hall %s: uplink to the hub failed (%s); retrying in %.0f s",
                    link.hall, _reason(exc), link.retry_at - now)  # fmt: skip
            return False
        if link.failures:
            log.warning("hall %s: the hub is reachable again (acked_seq %s)", link.hall, link.acked)
        link.failures = 0
        return full

    def _ship(self, link: HallLink, now: float) -> bool:
        if link.acked is None:
            link.acked = self._introduce(link)
            link.last_contact = now
        rows = self.dispatcher.store.events_since(link.hall, link.acked, self.batch)
        hall_seq = self.dispatcher.store.last_seq(link.hall)
        if not rows:
            if link.acked > hall_seq:
                raise HubRefused(
                    f"the hub holds events up to seq {link.acked}, more than this hall has: was the hall's "
                    "database replaced? Nothing is shipped until the hall is registered again"
                )
            if now - link.last_contact >= self.heartbeat_s:
                link.acked = self._post(link, link.acked + 1, [], hall_seq)
                link.last_contact = now
            return False
        link.acked = self._post(link, rows[0].seq, rows, hall_seq)
        link.last_contact = now
        return len(rows) == self.batch

    # ---- HTTP -----------------------------------------------------------------------------------

    def _headers(self, link: HallLink) -> dict[str, str]:
        return {"Authorization": f"Bearer {link.token}", "Content-Type": "application/json"}

    def _introduce(self, link: HallLink) -> int:
        profile = hall_profile(self.dispatcher.halls[link.hall].config)
        response = self.client.put(
            f"/halls/{link.hall}/profile", content=profile.model_dump_json(), headers=self._headers(link)
        )
        _raise_for(response)
        return HubHall.model_validate_json(response.content).acked_seq

    def _post(self, link: HallLink, from_seq: int, rows: list[EventRow], hall_seq: int) -> int:
        body: dict[str, Any] = {"from_seq": from_seq, "events": [_shipped(row) for row in rows], "hall_seq": hall_seq}
        response = self.client.post(
            f"/halls/{link.hall}/events", content=orjson.dumps(body), headers=self._headers(link)
        )
        if response.status_code == 409:
            gap = GapAnswer.model_validate_json(response.content)
            log.warning("hall %s: %s", link.hall, gap.detail)
            return gap.acked_seq
        _raise_for(response)
        return BatchAck.model_validate_json(response.content).acked_seq


def _shipped(row: EventRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "kind": row.kind,
        "payload": shippable(row.kind, row.payload),
        "created_at": row.created_at.isoformat(),
    }


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    detail = _detail(response)
    if response.status_code >= 500 or response.status_code == 429:
        raise httpx.HTTPStatusError(f"{response.status_code} {detail}", request=response.request, response=response)
    raise HubRefused(f"{response.status_code} {detail}")


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))[:300]
    except ValueError:
        return response.text[:300]


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
