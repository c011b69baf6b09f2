"""预约 over HTTP (DESIGN.md §13): slots, the booking body and answer, the booking's view, check-in.

Shared by the dispatcher (bodies and `response_model`s), the kiosk and the phone page. No answer holds
an ID number or a whole phone number: a booking shows the masked phone only.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from hallq.api_models import AnswerModel, Body, IdCard, TicketAnswer, Timestamp
from hallq.evaluation_models import MOBILE_PATTERN

AppointmentStatus = Literal["booked", "checked_in", "cancelled", "no_show"]


class BookableService(AnswerModel):
    code: str
    name: str
    department: str = ""


class AppointmentOptions(AnswerModel):
    """What the booking page needs first: the hall's rules, its services and its local today."""

    enabled: bool
    hall_name: str
    today: dt.date
    days_ahead: int
    slot_min: int
    early_min: int
    late_min: int
    services: list[BookableService]


class SlotView(AnswerModel):
    start: Timestamp
    end: Timestamp
    capacity: int
    booked: int


class BookingBody(Body):
    """`{service, start, id_card | id_number, phone}`: a kiosk sends the card it read, a phone the number."""

    service: str = Field(min_length=1, max_length=4)
    start: Timestamp = Field(description="the slot's start, as the slots list gives it")
    id_card: IdCard | None = None
    id_number: str | None = Field(None, min_length=15, max_length=18)
    phone: str = Field(pattern=MOBILE_PATTERN, description="a mobile number; only its masked form is kept")

    @model_validator(mode="after")
    def _one_identity(self) -> BookingBody:
        if (self.id_card is None) == (self.id_number is None):
            raise ValueError("give either id_card (read at a kiosk) or id_number (typed on a phone), not both")
        return self

    def raw_id_number(self) -> str:
        return self.id_card.id_number if self.id_card is not None else self.id_number or ""


class RescheduleBody(Body):
    start: Timestamp = Field(description="the new slot's start, the same service")


class BookingAnswer(AnswerModel):
    id: str
    code: str = Field(description="the booking code for check-in (also in its QR)")
    service: str
    start: Timestamp
    end: Timestamp
    status_url: str


class AppointmentView(AnswerModel):
    id: str
    code: str
    service: str
    service_name: str
    start: Timestamp
    end: Timestamp
    status: AppointmentStatus
    status_label: str
    masked_phone: str
    check_in_from: Timestamp
    check_in_until: Timestamp = Field(description="after this a check-in gives a normal ticket")
    ticket_id: str | None = None
    hall_name: str
    hall_address: str


class CheckInBody(Body):
    device: str | None = Field(None, max_length=48)


class IdCheckInBody(Body):
    """Check-in by ID card: today's booking of the card's holder."""

    id_card: IdCard
    device: str | None = Field(None, max_length=48)


class CheckInAnswer(AnswerModel):
    appointment: str
    on_time: bool = Field(description="false: checked in late, the ticket is a normal one")
    message: str
    ticket: TicketAnswer
