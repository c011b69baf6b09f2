"""线上取号 (DESIGN.md §13): a citizen takes a ticket on the phone page when the hall allows it, with the
same rules as at a kiosk — the service's hours and quotas, the per-person daily limit by the ID number's
HMAC, the elderly green channel by the number's age — and is counted per client address, since a
phone has no token. The ticket is the kiosk's, only its channel is `phone`."""

from __future__ import annotations

import weakref

from limits import RateLimitItemPerHour

from hallq.api_models import PhoneTicketBody
from server import pii
from server.auth import Forbidden
from server.engine import commands as c
from server.login_throttle import MovingLimit
from server.runtime import Answer, Dispatcher, utcnow
from server.usecases.tickets import new_access, new_ticket_id, notify_phone_rows, ticket_answer

PER_ADDRESS_PER_HOUR = 20  # a family or an office behind one address takes a few; a script takes many

_limits: weakref.WeakKeyDictionary[Dispatcher, MovingLimit] = weakref.WeakKeyDictionary()


class PhoneTicketsOff(Forbidden):
    def __init__(self) -> None:
        super().__init__("本大厅未开通线上取号，请到大厅自助取号机取号。 This hall takes no tickets from phones.")


def _admit(dispatcher: Dispatcher, hall: str, address: str) -> None:
    if dispatcher not in _limits:
        sentence = "此网络取号过于频繁，请稍后再试。 Too many tickets from this address."
        _limits[dispatcher] = MovingLimit(RateLimitItemPerHour(PER_ADDRESS_PER_HOUR), sentence)
    _limits[dispatcher].admit(hall, address)


async def take(dispatcher: Dispatcher, hall: str, body: PhoneTicketBody, address: str, key: str | None) -> Answer:
    runtime = dispatcher.runtime(hall)
    if not runtime.config.hall.phone_tickets:
        raise PhoneTicketsOff()
    now = utcnow()
    today = now.astimezone(runtime.config.hall.tz()).date()
    card = pii.check_id_card(body.id_number, None, today)  # 422 with a sentence when it does not hold
    _admit(dispatcher, hall, address)
    elderly = pii.age_on(card.birth, today) >= runtime.config.priority.elderly_age
    command = c.IssueTicket(
        service=body.service,
        ticket_id=new_ticket_id(),
        access=new_access(),
        priority="green" if elderly else "normal",
        green_reason="elderly" if elderly else None,
        id_hash=pii.id_hash(dispatcher.settings.hmac_key, card.number),
        channel="phone",
    )
    return await dispatcher.execute(
        hall,
        command,
        ticket_answer(command.ticket_id, 201),
        idempotency=("phone-ticket", key) if key else None,
        inserts=notify_phone_rows(command.ticket_id, body.notify_phone, now),
        now=now,
    )
