"""What to send, decided from the hall's committed events and its live engine (no I/O here).

- "请到X号窗口" for each `ticket_called` event of type `call` (not a recall: the citizen is there
  already) of a ticket with a phone; one message per call, keyed by the event's seq;
- "还有N位" once per ticket, the first time its `ahead` is `notify.ahead` or fewer while it waits
  (at once when fewer are ahead when it is taken: a remote ticket's holder should come now), and
  once more after each rejoin (过号后重新排队, possibly from the phone page, away from the hall);
- the phone is forgotten when the ticket ends (done, cancelled, expired) or leaves the engine.

Call it in the event loop between two awaits, so the engine is read as one moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.engine.states import Status
from server.runtime import HallRuntime
from server.store import EventRow

ENDS = frozenset({"ticket_finished", "ticket_cancelled", "ticket_expired"})
ENDED = frozenset({Status.done, Status.cancelled, Status.expired})


@dataclass(frozen=True)
class Phone:
    ticket_id: str
    phone: str
    ahead_sent: bool


@dataclass(frozen=True)
class Message:
    key: str  # the message's id: the gateway recognises a repeat by it
    ticket_id: str
    kind: str  # ahead | call
    phone: str
    text: str


@dataclass
class Plan:
    last_seq: int  # the events read up to here
    messages: list[Message] = field(default_factory=list)
    ahead_sent: list[str] = field(default_factory=list)  # ticket ids
    ahead_reset: list[str] = field(default_factory=list)  # ticket ids that rejoined: told again
    forget: list[str] = field(default_factory=list)  # ticket ids whose phone is deleted

    @property
    def empty(self) -> bool:
        return not (self.messages or self.ahead_sent or self.ahead_reset or self.forget)


def plan(runtime: HallRuntime, rows: list[EventRow], phones: dict[str, Phone], after_seq: int,
         caught_up: bool) -> Plan:  # fmt: skip
    """The messages for `rows` (events after `after_seq`, in order) and the engine now. `caught_up`:
    the rows reach the newest commit, so a ticket the engine shows ended has no call left to send."""
    result = Plan(last_seq=rows[-1].seq if rows else after_seq)
    for row in rows:
        _from_event(runtime, row, phones, result)
    forgotten, rejoined = set(result.forget), set(result.ahead_reset)
    if runtime.config.notify.ahead > 0:
        for phone in phones.values():
            told = phone.ahead_sent and phone.ticket_id not in rejoined
            if not told and phone.ticket_id not in forgotten:
                _ahead(runtime, phone, result)
    if caught_up:
        engine = runtime.live()
        for ticket_id in phones.keys() - forgotten:
            ticket = engine.ticket(ticket_id)
            if ticket is None or ticket.status in ENDED:
                result.forget.append(ticket_id)
    return result


def _from_event(runtime: HallRuntime, row: EventRow, phones: dict[str, Phone], result: Plan) -> None:
    ticket_id = row.payload.get("ticket_id")
    phone = phones.get(ticket_id) if isinstance(ticket_id, str) else None
    if phone is None or phone.ticket_id in result.forget:
        return
    if row.kind == "ticket_called" and row.payload.get("type") == "call":
        data = row.payload
        text = _text(runtime, runtime.config.notify.call_text, data["number"], data.get("service_name", ""),
                     window_name=data.get("window_name", ""))  # fmt: skip
        result.messages.append(Message(f"{runtime.hall}-{phone.ticket_id}-call-{row.seq}", phone.ticket_id,
                                       "call", phone.phone, text))  # fmt: skip
    elif row.kind == "ticket_rejoined":
        result.ahead_reset.append(phone.ticket_id)
    elif row.kind in ENDS:
        result.forget.append(phone.ticket_id)


def _ahead(runtime: HallRuntime, phone: Phone, result: Plan) -> None:
    engine = runtime.live()
    ticket = engine.ticket(phone.ticket_id)
    if ticket is None or ticket.status != Status.waiting:
        return
    ahead = engine.ahead(ticket.id)
    if ahead > runtime.config.notify.ahead:
        return
    service = runtime.config.service(ticket.service)
    text = _text(runtime, runtime.config.notify.ahead_text, ticket.number, service.name if service else "",
                 ahead=ahead)  # fmt: skip
    # one per planning: the events read so far tell this one from the one after a rejoin
    key = f"{runtime.hall}-{ticket.id}-ahead-{result.last_seq}"
    result.messages.append(Message(key, ticket.id, "ahead", phone.phone, text))
    result.ahead_sent.append(ticket.id)


def _text(runtime: HallRuntime, template: str, number: str, service_name: str, *, ahead: int = 0,
          window_name: str = "") -> str:  # fmt: skip
    """The hall's template (its names checked by hallq.config.NotifyRules) filled in."""
    values = {"hall_name": runtime.config.hall.name, "number": number, "ahead": ahead,
              "window_name": window_name, "service_name": service_name}  # fmt: skip
    return template.format_map(values)
