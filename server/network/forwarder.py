"""The hall's forwarder (转报): one thread per dispatcher, never on a request's path, that

- sends the hall's outbox of transfers (`case_transfers_out`: forwarded cases, news of cases forwarded
  here) to the hub in the order they were written, each marked sent once the hub holds it (a send
  whose answer was lost is sent again: the hub keeps each key once);
- fetches what waits for the hall at the hub, applies each transfer once (its key is recorded in the
  same transaction as the change it makes: server/network/forwarding.py) and acknowledges it, so an
  acknowledgement lost on the way only means the transfer is fetched, skipped and acknowledged again;
- polls every `poll_s`, is woken at once when the hall forwards a case, and while the hub is away
  waits with the uplink's backoff (exponential, jittered), the outbox keeping everything meanwhile.

Only halls this dispatcher writes (a standby leaves them to the active one) and that have a hub token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from hallq.catalogue import Catalogue
from hallq.forward_models import InboundTransfers
from server.cases.service import CaseService
from server.network import forwarding
from server.network.catalogue_cache import read_cache
from server.network.hub_worker import HubWorker
from server.network.uplink import HubRefused, _raise_for, backoff_s
from server.runtime import Dispatcher
from server.store.database import utcnow

log = logging.getLogger(__name__)
POLL_S = 5.0


@dataclass
class Link:
    hall: str
    token: str
    failures: int = 0
    retry_at: float = 0.0


class Forwarder(HubWorker):
    def __init__(
        self,
        dispatcher: Dispatcher,
        hub_url: str,
        tokens: dict[str, str],
        cases_for: Callable[[str], CaseService],
        *,
        catalogue_path: str | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.dispatcher = dispatcher
        self.cases_for = cases_for
        self.catalogue_path = catalogue_path
        self.poll_s = poll_s
        self.links = {hall: Link(hall, token) for hall, token in tokens.items() if hall in dispatcher.halls}
        super().__init__(hub_url, "hallq-forwarder")

    def serves(self, hall: str) -> bool:
        return hall in self.links

    def catalogue(self) -> Catalogue | None:
        """The hall's copy of the city's catalogue (its halls are where a case may go)."""
        if self.catalogue_path is None:
            return None
        cached = read_cache(Path(self.catalogue_path))
        return cached.catalogue if cached else None

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._dirty, self._next_wake_s())
                if self._stopping:
                    return
                self._dirty = False
            for link in self.links.values():
                if self._stopping:
                    return
                self._turn(link)

    def _next_wake_s(self) -> float:
        now = time.monotonic()
        due = [link.retry_at - now for link in self.links.values() if link.failures]
        return max(0.05, min([self.poll_s, *due]))

    def _turn(self, link: Link) -> None:
        if not self.dispatcher.halls[link.hall].active:
            return
        now = time.monotonic()
        if now < link.retry_at:
            return
        try:
            self._send(link)
            self._receive(link)
        except (httpx.HTTPError, HubRefused, ValueError) as exc:
            link.failures += 1
            link.retry_at = now + backoff_s(link.failures)
            level = logging.ERROR if isinstance(exc, HubRefused) else logging.WARNING
            log.log(level, "hall %s: 转报 with the hub failed (%s); retrying in %.0f s",
                    link.hall, exc, link.retry_at - now)  # fmt: skip
            return
        if link.failures:
            log.warning("hall %s: forwarding through the hub again", link.hall)
        link.failures = 0

    # ---- out and in ------------------------------------------------------------------------------

    def _headers(self, link: Link) -> dict[str, str]:
        return {"Authorization": f"Bearer {link.token}", "Content-Type": "application/json"}

    def _send(self, link: Link) -> None:
        engine = self.dispatcher.store.engine
        while True:
            with engine.connect() as conn:
                batch = forwarding.unsent(conn, link.hall)
            if not batch:
                return
            for outbox_id, transfer in batch:
                response = self.client.post(f"/halls/{link.hall}/transfers", content=transfer.model_dump_json(),
                                            headers=self._headers(link))  # fmt: skip
                _raise_for(response)
                with engine.begin() as conn:
                    forwarding.mark_sent(conn, outbox_id, utcnow())

    def _receive(self, link: Link) -> None:
        response = self.client.get(f"/halls/{link.hall}/transfers", headers=self._headers(link))
        _raise_for(response)
        cases = self.cases_for(link.hall)
        for transfer in InboundTransfers.model_validate_json(response.content).transfers:
            try:
                if transfer.kind == "case":
                    forwarding.take_in(cases, transfer, utcnow())
                else:
                    forwarding.take_news(cases, transfer, utcnow())
            except forwarding.NotYetApplicable as exc:  # left at the hub; the others go on
                log.error("hall %s: transfer %s from %s waits: %s", link.hall, transfer.key, transfer.from_hall, exc)
                continue
            _raise_for(self.client.post(f"/halls/{link.hall}/transfers/{transfer.key}/ack",
                                        headers=self._headers(link)))  # fmt: skip
