"""Store and forward at the hub (转报): what one hall sends another, kept until the other takes it.

A transfer is stored once per key: the sender, not knowing whether a lost answer meant a lost
request, sends again and is told the hub already holds it. The destination hall lists what waits
for it, oldest first, applies each (once, by key, in its own transaction) and acknowledges it; an
acknowledged transfer is not listed again. A transfer to an unregistered hall is refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hallq.forward_models import InboundTransfer, Transfer
from server.network.forward_tables import hub_transfers
from server.network.tables import hub_halls
from server.store.database import insert_missing, utcnow

LIST_LIMIT = 100


class TransferRefused(ValueError):
    """A transfer the hub will not store (the message says why, for the sending hall's log)."""


def store_transfer(engine: Engine, from_hall: str, transfer: Transfer) -> bool:
    """Keep the transfer for its destination; False when the key was already held."""
    if transfer.to_hall == from_hall:
        raise TransferRefused(f"hall {from_hall!r} cannot send a case to itself")
    with engine.begin() as conn:
        known = conn.execute(sa.select(hub_halls.c.hall).where(hub_halls.c.hall == transfer.to_hall)).first()
        if known is None:
            raise TransferRefused(f"the hub has no hall {transfer.to_hall!r} (hallq hub add-hall registers one)")
        held = conn.execute(sa.select(hub_transfers.c.from_hall).where(hub_transfers.c.key == transfer.key)).first()
        if held is not None:
            if held.from_hall != from_hall:
                raise TransferRefused(f"key {transfer.key!r} is another hall's")
            return False
        payload = transfer.model_dump(mode="json", include={"case", "news"})
        row = {
            "key": transfer.key,
            "from_hall": from_hall,
            "to_hall": transfer.to_hall,
            "kind": transfer.kind,
            "case_id": transfer.case_id,
            "payload": payload,
            "created_at": utcnow(),
        }
        insert_missing(conn, hub_transfers, row, ("key",))
    return True


def waiting_for(engine: Engine, hall: str, limit: int = LIST_LIMIT) -> list[InboundTransfer]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(hub_transfers)
            .where(hub_transfers.c.to_hall == hall, hub_transfers.c.delivered_at.is_(None))
            .order_by(hub_transfers.c.id)
            .limit(limit)
        ).mappings()
        return [
            InboundTransfer(
                key=r["key"],
                from_hall=r["from_hall"],
                to_hall=r["to_hall"],
                kind=r["kind"],
                case_id=r["case_id"],
                **r["payload"],
            )
            for r in rows
        ]


def acknowledge(engine: Engine, hall: str, key: str) -> bool:
    """The destination applied it; False when the key is not one of the hall's (or already taken)."""
    with engine.begin() as conn:
        done = conn.execute(
            hub_transfers.update()
            .where(hub_transfers.c.key == key, hub_transfers.c.to_hall == hall, hub_transfers.c.delivered_at.is_(None))
            .values(delivered_at=utcnow())
        )
        if done.rowcount:
            return True
        held = conn.execute(
            sa.select(hub_transfers.c.key).where(hub_transfers.c.key == key, hub_transfers.c.to_hall == hall)
        ).first()
    return held is not None
