"""Stream tickets: a browser's EventSource cannot send an Authorization header, and a bearer token in
a URL would end up in access logs and browser history. So the page POSTs (with its bearer token) for
a ticket — random, single-use, valid `TICKET_TTL_S`, for one hall — and opens the stream with it. The
ticket remembers the login it was made for; the stream re-checks that login while it runs, so a
logout or an expired session ends it. Tickets live in this process's memory only: the one dispatcher
of a hall both makes and takes them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

TICKET_TTL_S = 30
MAX_OPEN_TICKETS = 1000  # a flood of unused tickets cannot grow the memory without bound


class BadTicket(Exception):
    """Unknown, used, expired or for another hall (401)."""


@dataclass(frozen=True)
class Grant:
    hall: str
    token: str  # the bearer token it was made for: the stream re-checks it while open
    expires: float


class StreamTickets:
    def __init__(self, ttl_s: float = TICKET_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._grants: dict[str, Grant] = {}

    def issue(self, hall: str, token: str) -> str:
        self._forget_expired()
        if len(self._grants) >= MAX_OPEN_TICKETS:
            self._grants.pop(next(iter(self._grants)))  # the oldest goes first
        ticket = secrets.token_urlsafe(24)
        self._grants[ticket] = Grant(hall, token, time.monotonic() + self.ttl_s)
        return ticket

    def redeem(self, hall: str, ticket: str) -> Grant:
        """The grant of a ticket, once: it is gone after this, used or not."""
        grant = self._grants.pop(ticket, None)
        if grant is None or grant.expires < time.monotonic() or grant.hall != hall:
            raise BadTicket(
                "实时连接凭证无效或已过期，请刷新页面。 The stream ticket is unknown, used, expired or not this hall's."
            )
        return grant

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for ticket in [t for t, g in self._grants.items() if g.expires < now]:
            del self._grants[ticket]
