"""The kiosk's HTTP client to the dispatcher (DESIGN.md section 6).

Blocking httpx calls, meant to run in a worker thread (kiosk/tasks.py), never on the UI thread.
Transient failures (no connection, timeout, 5xx) are retried a few times with the same
Idempotency-Key, so a ticket whose answer was lost is returned again, never issued twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx

from kiosk.identity import CardIdentity

log = logging.getLogger(__name__)


class DispatcherError(Exception):
    """Any failure talking to the dispatcher."""


class Unreachable(DispatcherError):
    """No answer (connection refused, timeout) or a server error: worth retrying later."""


class Refused(DispatcherError):
    """The dispatcher answered with a 4xx: retrying the same request will not help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    department: str
    open_now: bool = True
    waiting: int = 0
    est_wait_s: int = 0


@dataclass(frozen=True)
class HallInfo:
    id: str
    name: str
    notice: str = ""
    services: tuple[ServiceInfo, ...] = ()
    timezone: str = "Asia/Shanghai"

    def service(self, code: str) -> ServiceInfo | None:
        return next((s for s in self.services if s.code == code), None)


@dataclass(frozen=True)
class Ticket:
    """A ticket as the dispatcher returns it on issue or look-up."""

    id: str
    number: str
    service: str
    priority: str = "normal"
    status: str = "waiting"
    ahead: int = 0
    estimated_wait_s: int = 0
    issued_at: str = ""
    status_url: str = ""
    service_name: str = ""
    window_name: str = ""
    rejoin_until: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ticket:
        window = data.get("window")
        return cls(
            id=str(data["id"]),
            number=str(data["number"]),
            service=str(data.get("service", "")),
            priority=str(data.get("priority") or "normal"),
            status=str(data.get("status") or "waiting"),
            ahead=int(data.get("ahead", data.get("position")) or 0),
            estimated_wait_s=int(data.get("estimated_wait_s", data.get("est_wait_s")) or 0),
            issued_at=str(data.get("issued_at") or ""),
            status_url=str(data.get("status_url") or ""),
            service_name=str(data.get("service_name") or ""),
            window_name=str(data.get("window_name") or (window if isinstance(window, str) else "") or ""),
            rejoin_until=data.get("rejoin_until"),
        )


@dataclass(frozen=True)
class TicketRequest:
    """One citizen action's ticket request; `key` is made once and kept across every retry."""

    service: str
    priority: str = "normal"
    green_reason: str | None = None
    id_card: CardIdentity | None = None
    device: str | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"service": self.service, "priority": self.priority, "channel": "kiosk"}
        if self.green_reason:
            body["green_reason"] = self.green_reason
        if self.id_card is not None:
            body["id_card"] = self.id_card.request_body()
        if self.device:
            body["device"] = self.device
        return body


def parse_status_url(text: str) -> tuple[str, str | None] | None:
    """(ticket_id, access) from a ticket QR (`…/t/{hall}/{ticket_id}?k={access}`), or None."""
    url = urlparse(text.strip())
    parts = [p for p in url.path.split("/") if p]
    if len(parts) >= 3 and parts[-3] == "t":
        access = parse_qs(url.query).get("k", [None])[0]
        return parts[-1], access
    return None


class DispatcherClient:
    """Calls the dispatcher for one hall with this device's token."""

    def __init__(
        self,
        base_url: str,
        hall: str,
        headers: dict[str, str] | None = None,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.3,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.hall = hall
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers=headers or {},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    # -- reads ---------------------------------------------------------------------------------
    def hall_info(self) -> HallInfo:
        """The hall, its services and how many wait for each (waiting counts from /board)."""
        hall = self._request("GET", f"/halls/{self.hall}")
        waiting: dict[str, Any] = {}
        try:
            waiting = dict(self._request("GET", f"/halls/{self.hall}/board").get("waiting") or {})
        except Refused as exc:  # the board is a nicety; the hall's own counts still show
            log.warning("board not available: %s", exc.detail)
        services = []
        for item in hall.get("services") or []:
            live = waiting.get(item["code"]) or {}
            services.append(
                ServiceInfo(
                    code=str(item["code"]),
                    name=str(item["name"]),
                    department=str(item.get("department") or ""),
                    open_now=bool(item.get("open_now", True)),
                    waiting=int(live.get("count", item.get("waiting")) or 0),
                    est_wait_s=int(live.get("est_wait_s", item.get("est_wait_s")) or 0),
                )
            )
        return HallInfo(
            id=str(hall.get("id", self.hall)),
            name=str(hall.get("name", self.hall)),
            notice=str(hall.get("notice") or ""),
            services=tuple(services),
            timezone=str(hall.get("timezone") or "Asia/Shanghai"),
        )

    def ticket(self, ticket_id: str, access: str | None = None) -> Ticket:
        params = {"k": access} if access else None
        return Ticket.from_json(self._request("GET", f"/halls/{self.hall}/tickets/{quote(ticket_id)}", params))

    def ticket_by_number(self, number: str) -> Ticket:
        path = f"/halls/{self.hall}/tickets/by-number/{quote(number.strip().upper())}"
        return Ticket.from_json(self._request("GET", path))

    # -- writes --------------------------------------------------------------------------------
    def issue_ticket(self, request: TicketRequest) -> Ticket:
        data = self._request(
            "POST", f"/halls/{self.hall}/tickets", json=request.body(), headers={"Idempotency-Key": request.key}
        )
        return Ticket.from_json(data)

    def rejoin(self, ticket_id: str, key: str) -> Ticket:
        path = f"/halls/{self.hall}/tickets/{quote(ticket_id)}/rejoin"
        data = self._request("POST", path, json={}, headers={"Idempotency-Key": key})
        return Ticket.from_json(data.get("ticket", data) if isinstance(data.get("ticket"), dict) else data)

    # -- 24-hour submissions and the handbook (docs/cases.md; used by kiosk/submission) ---------------
    def handbook(self) -> dict[str, Any]:
        return self._request("GET", f"/halls/{self.hall}/handbook")

    def handbook_item(self, item: str) -> dict[str, Any]:
        return self._request("GET", f"/halls/{self.hall}/items/{quote(item, safe='')}")

    def start_submission(self, item: str, id_card: CardIdentity, phone: str = "") -> dict[str, Any]:
        body = {"item": item, "id_card": id_card.request_body(), "phone": phone}
        return self._request("POST", f"/halls/{self.hall}/submissions", json=body)

    def submission(self, case_id: str, access: str) -> dict[str, Any]:
        return self._request("GET", self._case(case_id), {"k": access})

    def upload_material(self, case_id: str, access: str, idx: int, data: bytes, mime: str) -> dict[str, Any]:
        return self._request(
            "PUT",
            f"{self._case(case_id)}/materials/{int(idx)}",
            {"k": access},
            content=data,
            headers={"Content-Type": mime},
        )

    def defer_material(self, case_id: str, access: str, idx: int, signature_png: bytes) -> dict[str, Any]:
        return self._request(
            "POST",
            f"{self._case(case_id)}/materials/{int(idx)}/defer",
            {"k": access},
            content=signature_png,
            headers={"Content-Type": "image/png"},
        )

    def set_locker(self, case_id: str, access: str, slot: str) -> dict[str, Any]:
        return self._request("POST", f"{self._case(case_id)}/locker", {"k": access}, json={"slot": slot})

    def complete_submission(self, case_id: str, access: str) -> dict[str, Any]:
        return self._request("POST", f"{self._case(case_id)}/complete", {"k": access})

    def resubmit(self, case_id: str, access: str) -> dict[str, Any]:
        return self._request("POST", f"{self._case(case_id)}/resubmit", {"k": access})

    def abandon_submission(self, case_id: str, access: str) -> None:
        self._request("DELETE", self._case(case_id), {"k": access})

    def _case(self, case_id: str) -> str:
        return f"/halls/{self.hall}/submissions/{quote(case_id, safe='')}"

    # -- plumbing ------------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        last: Unreachable | None = None
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._http.request(method, path, params=params, json=json, headers=headers, content=content)
            except httpx.HTTPError as exc:
                last = Unreachable(f"{method} {path}: {type(exc).__name__}")
                continue
            if response.status_code >= 500:
                last = Unreachable(f"{method} {path}: HTTP {response.status_code}")
                continue
            if response.status_code >= 400:
                raise Refused(response.status_code, _detail(response))
            if response.status_code == 204 or not response.content:
                return {}
            data = response.json()
            return data if isinstance(data, dict) else {"items": data}
        assert last is not None
        raise last


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # FastAPI 422: a list of problems
        detail = "；".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail or response.reason_phrase or f"HTTP {response.status_code}")
