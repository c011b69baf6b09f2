"""The hub stores each (hall, seq) once (server/network/ingest.py): batches acknowledged, a batch
sent again acknowledged and not stored twice, a gap refused whole, batches racing each other."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from hallq.network_models import EventBatch
from server.auth import sha256_hex
from server.network.ingest import Gap, HallNotRegistered, store_batch
from server.network.registry import HallRegistry, RegistryError
from server.store import Store
from server.store import schema as t

AT = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def event(seq: int) -> dict[str, Any]:
    at = AT + dt.timedelta(seconds=seq)
    return {"seq": seq, "kind": "ticket_issued", "payload": {"n": seq, "at": at.isoformat()}, "created_at": at}


def batch(first: int, last: int) -> EventBatch:
    return EventBatch(from_seq=first, events=[event(seq) for seq in range(first, last + 1)])


@pytest.fixture
def store(hub_database: str) -> Any:
    store = Store(hub_database)
    store.migrate()
    registry = HallRegistry(store.engine)
    registry.add("city", name="市中心", kind="center", parent=None, timezone="Asia/Shanghai", token_sha256="a" * 64)
    registry.add("town", name="下蜀镇", kind="town", parent="city", timezone="Asia/Shanghai", token_sha256="b" * 64)
    yield store
    store.close()


def stored(store: Store, hall: str) -> list[tuple[int, dict[str, Any]]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.events.c.seq, t.events.c.payload).where(t.events.c.hall == hall)).all()
    return sorted((int(r.seq), r.payload) for r in rows)


def test_batches_are_stored_once_and_acknowledged(store: Store) -> None:
    assert store_batch(store.engine, "town", batch(1, 3)).acked_seq == 3
    again = store_batch(store.engine, "town", batch(1, 3))  # the answer was lost: sent again
    assert (again.acked_seq, again.stored) == (3, 0)
    overlapping = store_batch(store.engine, "town", batch(2, 6))
    assert (overlapping.acked_seq, overlapping.stored) == (6, 3)
    assert [seq for seq, _ in stored(store, "town")] == [1, 2, 3, 4, 5, 6]
    assert stored(store, "town")[3][1] == event(4)["payload"]
    assert stored(store, "city") == []
    registered = HallRegistry(store.engine).get("town")
    assert registered is not None and registered.acked_seq == 6
    assert registered.last_event_at == event(6)["created_at"] and registered.last_contact_at is not None


def test_a_gap_is_refused_whole_and_names_the_seq_needed(store: Store) -> None:
    store_batch(store.engine, "town", batch(1, 2))
    with pytest.raises(Gap) as refused:
        store_batch(store.engine, "town", batch(4, 5))
    assert (refused.value.expected_seq, refused.value.acked_seq) == (3, 2)
    assert "seq 3" in str(refused.value)
    assert [seq for seq, _ in stored(store, "town")] == [1, 2]


def test_a_heartbeat_stores_nothing_and_answers_acked_seq(store: Store) -> None:
    store_batch(store.engine, "town", batch(1, 2))
    heartbeat = store_batch(store.engine, "town", EventBatch(from_seq=1, events=[]))
    assert (heartbeat.acked_seq, heartbeat.stored) == (2, 0)
    assert store_batch(store.engine, "town", EventBatch(from_seq=9, events=[])).acked_seq == 2


def test_a_hall_the_hub_does_not_know_is_refused(store: Store) -> None:
    with pytest.raises(HallNotRegistered):
        store_batch(store.engine, "nowhere", batch(1, 1))


def test_racing_batches_of_one_hall_store_each_event_once(store: Store) -> None:
    """Two uplinks of one hall (a standby dispatcher taking over while the old one still ships)."""
    errors: list[BaseException] = []

    def ship(first: int) -> None:
        try:
            for start in range(first, 200, 20):
                try:
                    store_batch(store.engine, "town", batch(start, start + 19))
                except Gap as gap:
                    store_batch(store.engine, "town", batch(gap.expected_seq, start + 19))
        except BaseException as exc:  # noqa: BLE001  (reported by the assert below)
            errors.append(exc)

    threads = [threading.Thread(target=ship, args=(1,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [seq for seq, _ in stored(store, "town")] == list(range(1, 201))


def test_the_register_refuses_an_unknown_parent_a_circle_and_a_bad_kind(store: Store) -> None:
    registry = HallRegistry(store.engine)
    with pytest.raises(RegistryError, match="not registered"):
        registry.add("v1", name="村", kind="village", parent="nowhere", timezone="Asia/Shanghai", token_sha256="c" * 64)
    with pytest.raises(RegistryError, match="circle"):
        registry.add("city", name="市", kind="center", parent="town", timezone="Asia/Shanghai", token_sha256="d" * 64)
    with pytest.raises(RegistryError, match="kind"):
        registry.add("v2", name="村", kind="hamlet", parent=None, timezone="Asia/Shanghai", token_sha256="e" * 64)
    again = registry.add(
        "town", name="下蜀镇便民服务中心", kind="town", parent="city", timezone="Asia/Shanghai",
        token_sha256=sha256_hex("new-token"),
    )  # fmt: skip
    assert again.name == "下蜀镇便民服务中心"
    assert registry.by_token(sha256_hex("new-token")) == again and registry.by_token("b" * 64) is None
