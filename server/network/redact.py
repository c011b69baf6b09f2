"""What never leaves the hall (DESIGN §7): the uplink ships every event, minus what could name a person.

The engine's events carry no ID number, no phone and no full name: a ticket has the masked name
(张*) the citizen already sees, a window the clerk's staff id. The one field a citizen writes
freely is a rating's comment (ticket_evaluated): it may hold a name or a phone number, so it stays
in the hall (which keeps it for its own 好差评 and the provincial platform) and ships as null. The
hub's numbers count ratings by score and never read the comment.
"""

from __future__ import annotations

from typing import Any

# kind → fields shipped as null (kept so the payload has the shape the hall's own events have).
WITHHELD: dict[str, tuple[str, ...]] = {
    "ticket_evaluated": ("comment",),
}


def shippable(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as it may leave the hall (a copy; the hall's own row is not touched)."""
    withheld = WITHHELD.get(kind, ())
    if not any(payload.get(name) is not None for name in withheld):
        return payload
    return {name: (None if name in withheld else value) for name, value in payload.items()}
