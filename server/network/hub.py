"""The running hub (`app.state.hub`): its database, the register of halls, the staff logins and the
folding worker. Built by server/network/hub_app.py at start, used by the hub's routers."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa

from hallq.network_models import EventBatch, HubHall
from server.network.folder import HubFolder
from server.network.hub_live import LiveBoard
from server.network.ingest import Stored, store_batch
from server.network.registry import HallRegistry, RegisteredHall
from server.network.settings import HubSettings
from server.network.staff import HubAuthenticator
from server.stats.rollups import folded_seq
from server.stats.tables import stats_cursor
from server.store import CredentialStore, Store
from server.store.database import utcnow


class Hub:
    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self.store = Store(settings.database)
        self.registry = HallRegistry(self.store.engine)
        self.auth = HubAuthenticator(
            CredentialStore(self.store.engine),
            demo=settings.demo,
            session_hours=settings.session_hours,
            limits=settings.limits,
        )
        self.folder = HubFolder(self.store, self.registry)
        self.live = LiveBoard(self.store)  # every hall now, for /city (server/network/city_live.py)
        self.hall_seqs: dict[str, int] = {}  # each hall's last seq as its uplink last said (in memory)

    def note_hall_seq(self, hall: str, hall_seq: int | None) -> None:
        """What the hall's uplink says it has committed, so /city shows how far behind the hub is."""
        if hall_seq is not None:
            self.hall_seqs[hall] = hall_seq

    async def start(self) -> None:
        await asyncio.to_thread(self.store.migrate)
        await asyncio.to_thread(self.auth.load_sessions)
        self.folder.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.folder.stop)
        await asyncio.to_thread(self.store.close)

    async def ingest(self, hall: str, batch: EventBatch) -> Stored:
        """Store the batch (exactly once, gaps refused: server/network/ingest.py), then let the
        folding worker count it."""
        stored = await asyncio.to_thread(store_batch, self.store.engine, hall, batch)
        if stored.stored:
            self.folder.wake(hall)
        return stored

    def hall_row(
        self, registered: RegisteredHall, now: dt.datetime | None = None, folded: int | None = None
    ) -> HubHall:
        now = now or utcnow()
        contact = registered.last_contact_at
        online = contact is not None and (now - contact).total_seconds() <= self.settings.online_window_s
        return HubHall(
            hall=registered.hall,
            name=registered.name,
            kind=registered.kind,  # type: ignore[arg-type]  # checked at registration
            parent=registered.parent,
            acked_seq=registered.acked_seq,
            last_event_at=registered.last_event_at,
            online=online,
            last_contact_at=contact,
            folded_seq=folded_seq(self.store, registered.hall) if folded is None else folded,
        )

    def halls(self) -> list[HubHall]:
        """Every registered hall's row (two queries, however many halls: the /city page polls it)."""
        now = utcnow()
        with self.store.engine.connect() as conn:
            folded = dict(conn.execute(sa.select(stats_cursor.c.hall, stats_cursor.c.last_seq)).all())
        return [self.hall_row(r, now, int(folded.get(r.hall, 0))) for r in self.registry.all()]
