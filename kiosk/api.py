"""The kiosk's calls to the dispatcher (DESIGN.md section 6), on the shared client (hallq/client.py).

Blocking, meant for a worker thread (hallq/worker.py), never the UI thread. Every answer is parsed
into its shared model (hallq/api_models.py, hallq/case_models.py). Transient failures (no
connection, timeout, 5xx) are retried a few times with the same Idempotency-Key, so a ticket whose
answer was lost is returned again, never issued twice. Errors are hallq.client's
`DispatcherRefused` (4xx, with the dispatcher's sentence) and `DispatcherUnreachable`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlparse

import httpx
from pydantic import BaseModel

from hallq.api_models import CardBody, HallInfo, IdCard, IssueBody, TicketAnswer
from hallq.appointment_models import AppointmentView, CheckInAnswer, CheckInBody, IdCheckInBody
from hallq.case_models import (
    CaseReceipt,
    CaseView,
    Handbook,
    HandbookItemAnswer,
    LockerAnswer,
    LockerBody,
    StoredFile,
    SubmissionBody,
    SubmissionStarted,
)
from hallq.client import DispatcherHttp
from hallq.evaluation_models import RatingBody, RatingOptions
from kiosk.identity import CardIdentity

__all__ = ["DispatcherClient", "TicketRequest", "id_card_body", "parse_status_url"]


class _NoBody(BaseModel):
    """POST with an empty JSON object (rejoin)."""


def id_card_body(card: CardIdentity) -> IdCard:
    """The `id_card` of a request: the full number and name go to the dispatcher only (HTTPS in a hall)."""
    return IdCard(id_number=card.id_number, name=card.name, birth=card.birth.strftime("%Y%m%d"))


@dataclass(frozen=True)
class TicketRequest:
    """One citizen action's ticket request; `key` is made once and kept across every retry."""

    service: str
    priority: str = "normal"
    green_reason: str | None = None
    id_card: CardIdentity | None = None
    device: str | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def body(self) -> IssueBody:
        return IssueBody.model_validate(
            {
                "service": self.service,
                "priority": self.priority,
                "green_reason": self.green_reason,
                "id_card": id_card_body(self.id_card) if self.id_card is not None else None,
                "channel": "kiosk",
                "device": self.device or None,
            }
        )


def parse_status_url(text: str) -> tuple[str, str | None] | None:
    """(ticket_id, access) from a ticket QR (`…/t/{hall}/{ticket_id}?k={access}`), or None."""
    url = urlparse(text.strip())
    parts = [p for p in url.path.split("/") if p]
    if len(parts) >= 3 and parts[-3] == "t":
        access = parse_qs(url.query).get("k", [None])[0]
        return parts[-1], access
    return None


def parse_booking_url(text: str) -> tuple[str, str | None] | None:
    """(appointment_id, access) from a booking's QR (`…/a/{hall}/b/{appointment_id}?k={access}`), or None."""
    url = urlparse(text.strip())
    parts = [p for p in url.path.split("/") if p]
    if len(parts) >= 4 and parts[-4] == "a" and parts[-2] == "b":
        return parts[-1], parse_qs(url.query).get("k", [None])[0]
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
        self._http = DispatcherHttp(
            base_url, headers, timeout=timeout, attempts=attempts, backoff_s=backoff_s, transport=transport, sleep=sleep
        )

    def close(self) -> None:
        self._http.close()

    # -- reads ---------------------------------------------------------------------------------
    def hall_info(self) -> HallInfo:
        """The hall and its services: open now, how many wait and the estimate for each."""
        return self._http.call("GET", self._hall, HallInfo)

    def ticket(self, ticket_id: str, access: str | None = None) -> TicketAnswer:
        params = {"k": access} if access else None
        return self._http.call("GET", f"{self._hall}/tickets/{quote(ticket_id, safe='')}", TicketAnswer, params=params)

    def rating_options(self) -> RatingOptions:
        """The five 好差评 levels with the hall's reasons for each (public)."""
        return self._http.call("GET", f"{self._hall}/evaluations/options", RatingOptions)

    def ticket_by_number(self, number: str) -> TicketAnswer:
        path = f"{self._hall}/tickets/by-number/{quote(number.strip().upper(), safe='')}"
        return self._http.call("GET", path, TicketAnswer)

    # -- writes --------------------------------------------------------------------------------
    def issue_ticket(self, request: TicketRequest) -> TicketAnswer:
        return self._http.call("POST", f"{self._hall}/tickets", TicketAnswer, body=request.body(), key=request.key)

    def rejoin(self, ticket_id: str, key: str) -> TicketAnswer:
        path = f"{self._hall}/tickets/{quote(ticket_id, safe='')}/rejoin"
        return self._http.call("POST", path, TicketAnswer, body=_NoBody(), key=key)

    def served_by_card(self, card: CardIdentity) -> TicketAnswer:
        """The card holder's ticket served last today (to rate it); 404 with a sentence when none."""
        body = CardBody(id_card=id_card_body(card))
        return self._http.call("POST", f"{self._hall}/tickets/served-by-card", TicketAnswer, body=body)

    def rate(self, ticket_id: str, access: str, body: RatingBody, key: str) -> TicketAnswer:
        """好差评 of a served ticket, with the ticket's access key from its QR (the citizen's own proof)."""
        path = f"{self._hall}/tickets/{quote(ticket_id, safe='')}/evaluation"
        return self._http.call("POST", path, TicketAnswer, params={"k": access}, body=body, key=key)

    def check_in_booking(self, appointment_id: str, device: str | None) -> CheckInAnswer:
        """预约 check-in from a scanned booking QR: the booking's code (read with this kiosk's token), then
        the check-in, which answers the ticket (priority `appointment`, or normal when late)."""
        booking = self._http.call("GET", f"{self._hall}/appointments/{quote(appointment_id, safe='')}", AppointmentView)
        path = f"{self._hall}/appointments/{quote(booking.code, safe='')}/check-in"
        return self._http.call("POST", path, CheckInAnswer, body=CheckInBody(device=device))

    def check_in_by_card(self, card: CardIdentity, device: str | None) -> CheckInAnswer:
        """预约 check-in by ID card: today's booking of the card's holder (404 when there is none)."""
        body = IdCheckInBody(id_card=id_card_body(card), device=device)
        return self._http.call("POST", f"{self._hall}/appointments/check-in", CheckInAnswer, body=body)

    # -- 24-hour submissions and the handbook (docs/cases.md; used by kiosk/submission) ---------------
    def handbook(self) -> Handbook:
        return self._http.call("GET", f"{self._hall}/handbook", Handbook)

    def handbook_item(self, item: str) -> HandbookItemAnswer:
        return self._http.call("GET", f"{self._hall}/items/{quote(item, safe='')}", HandbookItemAnswer)

    def start_submission(self, item: str, id_card: CardIdentity, phone: str = "") -> SubmissionStarted:
        body = SubmissionBody(item=item, id_card=id_card_body(id_card), phone=phone)
        return self._http.call("POST", f"{self._hall}/submissions", SubmissionStarted, body=body)

    def submission(self, case_id: str, access: str) -> CaseView:
        return self._http.call("GET", self._case(case_id), CaseView, params={"k": access})

    def upload_material(self, case_id: str, access: str, idx: int, data: bytes, mime: str) -> StoredFile:
        return self._http.call(
            "PUT",
            f"{self._case(case_id)}/materials/{int(idx)}",
            StoredFile,
            params={"k": access},
            content=data,
            headers={"Content-Type": mime},
        )

    def defer_material(self, case_id: str, access: str, idx: int, signature_png: bytes) -> CaseView:
        return self._http.call(
            "POST",
            f"{self._case(case_id)}/materials/{int(idx)}/defer",
            CaseView,
            params={"k": access},
            content=signature_png,
            headers={"Content-Type": "image/png"},
        )

    def set_locker(self, case_id: str, access: str, slot: str) -> LockerAnswer:
        path = f"{self._case(case_id)}/locker"
        return self._http.call("POST", path, LockerAnswer, params={"k": access}, body=LockerBody(slot=slot))

    def complete_submission(self, case_id: str, access: str) -> CaseReceipt:
        return self._http.call("POST", f"{self._case(case_id)}/complete", CaseReceipt, params={"k": access})

    def resubmit(self, case_id: str, access: str) -> CaseReceipt:
        return self._http.call("POST", f"{self._case(case_id)}/resubmit", CaseReceipt, params={"k": access})

    def abandon_submission(self, case_id: str, access: str) -> None:
        self._http.send("DELETE", self._case(case_id), params={"k": access})

    @property
    def _hall(self) -> str:
        return f"/halls/{quote(self.hall, safe='')}"

    def _case(self, case_id: str) -> str:
        return f"{self._hall}/submissions/{quote(case_id, safe='')}"
