"""The hub's folding worker (server/network/folder.py): woken by a stored batch, it counts each hall in
its own time zone; a hall whose events cannot be folded holds up its own numbers, not the city's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hallq.network_models import EventBatch
from server.network.folder import HubFolder
from server.network.ingest import store_batch
from server.network.registry import HallRegistry
from server.stats.rollups import folded_seq
from server.store import Store
from tests.network.halls import wait_until

AT = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def issued(seq: int) -> dict[str, object]:
    at = (AT + dt.timedelta(minutes=seq)).isoformat()
    payload = {"at": at, "ticket_id": f"t{seq}", "window": None, "number": f"A{seq:03d}", "service": "A",
               "service_name": "社保", "priority": "normal", "green_reason": None, "channel": "kiosk",
               "device": "kiosk-1", "masked_name": None, "ahead": 0, "estimated_wait_s": 0}  # fmt: skip
    return {"seq": seq, "kind": "ticket_issued", "payload": payload, "created_at": at}


def test_one_halls_unfoldable_event_does_not_stop_the_others(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    store.migrate()
    registry = HallRegistry(store.engine)
    for hall in ("bad", "good"):
        registry.add(hall, name=hall, kind="town", parent=None, timezone="Asia/Shanghai", token_sha256=hall * 32)
    broken = {"seq": 1, "kind": "ticket_issued", "payload": {"no": "time"}, "created_at": AT.isoformat()}
    store_batch(store.engine, "bad", EventBatch.model_validate({"from_seq": 1, "events": [broken]}))
    store_batch(store.engine, "good", EventBatch.model_validate({"from_seq": 1, "events": [issued(1), issued(2)]}))
    folder = HubFolder(store, registry, gather_s=0.01)
    folder.start()
    try:
        wait_until(lambda: folded_seq(store, "good") == 2, "the good hall's events folded")
        store_batch(store.engine, "good", EventBatch.model_validate({"from_seq": 3, "events": [issued(3)]}))
        folder.wake("good")
        wait_until(lambda: folded_seq(store, "good") == 3, "a later batch folded once the folder is woken")
        assert folded_seq(store, "bad") == 0
    finally:
        folder.stop()
        store.close()
