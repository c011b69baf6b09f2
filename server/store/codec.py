"""Engine objects ↔ store rows. The only place that knows how a Ticket / WindowStatus becomes JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from typing import Any

from server.engine.model import Ticket, WindowStatus
from server.engine.states import Status, WindowState


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _field_kinds(cls: type) -> dict[str, str]:
    """'datetime' / 'date' / 'status' / 'window_state' for fields that need parsing back."""
    hints = typing.get_type_hints(cls)
    kinds: dict[str, str] = {}
    for f in dataclasses.fields(cls):
        hint = str(hints[f.name])
        if "datetime.datetime" in hint:
            kinds[f.name] = "datetime"
        elif "datetime.date" in hint:
            kinds[f.name] = "date"
        elif hints[f.name] is Status:
            kinds[f.name] = "status"
        elif hints[f.name] is WindowState:
            kinds[f.name] = "window_state"
    return kinds


_TICKET_KINDS = _field_kinds(Ticket)
_WINDOW_KINDS = _field_kinds(WindowStatus)
_TICKET_FIELDS = {f.name for f in dataclasses.fields(Ticket)}
_WINDOW_FIELDS = {f.name for f in dataclasses.fields(WindowStatus)}


def _from_json(data: dict[str, Any], kinds: dict[str, str], known: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            continue  # a field a newer version wrote; ignore rather than refuse to start
        kind = kinds.get(key)
        if value is None or kind is None:
            out[key] = value
        elif kind == "datetime":
            out[key] = dt.datetime.fromisoformat(value)
        elif kind == "date":
            out[key] = dt.date.fromisoformat(value)
        elif kind == "status":
            out[key] = Status(value)
        else:
            out[key] = WindowState(value)
    return out


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {f: _to_json(getattr(ticket, f)) for f in _TICKET_FIELDS}


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "day": ticket.day.isoformat(),
        "number": ticket.number,
        "service": ticket.service,
        "status": str(ticket.status),
        "window": ticket.window,
        "id_hash": ticket.id_hash,
        "data": ticket_data(ticket),
    }


def window_row(window: WindowStatus) -> dict[str, Any]:
    return {
        "id": window.id,
        "state": str(window.state),
        "data": {f: _to_json(getattr(window, f)) for f in _WINDOW_FIELDS},
    }


def ticket_from_data(data: dict[str, Any]) -> Ticket:
    return Ticket(**_from_json(data, _TICKET_KINDS, _TICKET_FIELDS))


def window_from_data(data: dict[str, Any]) -> WindowStatus:
    return WindowStatus(**_from_json(data, _WINDOW_KINDS, _WINDOW_FIELDS))


def event_payload(event: Any) -> tuple[str, dict[str, Any]]:
    """(kind, JSON payload) of an engine event, for the outbox."""
    data = dict(event.to_dict())
    kind = str(data.pop("kind", getattr(event, "kind", type(event).__name__)))
    return kind, data
