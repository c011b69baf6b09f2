"""The city's catalogue at the hub (统一事项): imported from a file, served with a strong ETag.

`publish` replaces the whole catalogue in one transaction (an item no longer in the file is no longer
published), so halls never see half an import. `document` builds the canonical JSON the ETag is
computed over: the items, and the registered halls a case may be forwarded to.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hallq.catalogue import Catalogue, CatalogueHall, CatalogueItem, canonical_json, etag_of
from server.network.forward_tables import hub_catalogue
from server.network.tables import hub_halls
from server.store.database import utcnow


@dataclass(frozen=True)
class Published:
    body: bytes
    etag: str
    items: int


def publish(engine: Engine, items: list[CatalogueItem]) -> tuple[int, int]:
    """Make `items` the city's catalogue; returns (items now published, items withdrawn)."""
    now = utcnow()
    codes = {i.code for i in items}
    with engine.begin() as conn:
        before = set(conn.execute(sa.select(hub_catalogue.c.code)).scalars())
        conn.execute(hub_catalogue.delete())
        if items:
            conn.execute(
                hub_catalogue.insert(),
                [
                    {"code": i.code, "department": i.department, "item": i.model_dump(mode="json"), "updated_at": now}
                    for i in items
                ],
            )
    return len(items), len(before - codes)


def current(engine: Engine) -> Catalogue:
    with engine.connect() as conn:
        items = [CatalogueItem.model_validate(row.item) for row in conn.execute(sa.select(hub_catalogue.c.item))]
        halls = [
            CatalogueHall(hall=row.hall, name=row.name, kind=row.kind)
            for row in conn.execute(sa.select(hub_halls.c.hall, hub_halls.c.name, hub_halls.c.kind))
        ]
    return Catalogue(items=items, halls=halls)


def document(engine: Engine) -> Published:
    catalogue = current(engine)
    body = canonical_json(catalogue)
    return Published(body=body, etag=etag_of(body), items=len(catalogue.items))
