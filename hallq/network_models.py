"""The hub's HTTP contract (DESIGN.md §14), defined once for the hub and the halls' uplinks.

A hall ships its committed events in `seq` order: `EventBatch` → `BatchAck`; a gap is refused with
`GapAnswer` (409). The hall tells the hub what its numbers need to be read (its services' target
waits, names) with `HallProfile`. Staff read `HubHall` rows and `HubStatsAnswer`. No model here
carries personal data: the uplink strips free text before shipping (server/network/redact.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from hallq.api_models import AnswerModel, Body, Timestamp
from hallq.stats_models import StatsRow

HallKindName = Literal["center", "sub_center", "town", "village"]
# by=hall: a row per hall; area: each hall rolled up into its nearest 市中心 or 分中心 (itself
# included); level: a row per kind of hall; day / hour: the halls' numbers summed per day or hour.
HubStatsBy = Literal["hall", "area", "level", "day", "hour"]
MAX_BATCH = 1000  # events in one POST; the uplink sends at most 500


class ShippedEvent(Body):
    """One committed event as the hall's `events` table holds it (the outbox row)."""

    seq: int = Field(ge=1)
    kind: str = Field(min_length=1, max_length=48)
    payload: dict[str, Any]
    created_at: Timestamp


class EventBatch(Body):
    """`from_seq` is the first event's seq; the events follow it without a gap. An empty batch is a
    heartbeat: it keeps the hall `online` and answers the hub's `acked_seq`."""

    from_seq: int = Field(ge=1)
    events: list[ShippedEvent] = Field(default_factory=list, max_length=MAX_BATCH)
    hall_seq: int | None = Field(
        None, ge=0, description="the hall's last committed seq when it sent this: how far behind the hub is (/city)"
    )

    @model_validator(mode="after")
    def _in_order(self) -> EventBatch:
        for offset, event in enumerate(self.events):
            if event.seq != self.from_seq + offset:
                raise ValueError(
                    f"events[{offset}] has seq {event.seq}, expected {self.from_seq + offset}: a batch is "
                    "consecutive events starting at from_seq"
                )
        return self


class BatchAck(AnswerModel):
    acked_seq: int = Field(description="every event up to this seq is stored at the hub; ship the next one")


class GapAnswer(AnswerModel):
    """409: the batch starts after the next seq the hub needs; nothing of it was stored."""

    detail: str
    expected_seq: int = Field(description="the seq the hub needs next (acked_seq + 1)")
    acked_seq: int


class ServiceProfile(Body):
    code: str = Field(min_length=1, max_length=4)
    name: str = Field(min_length=1, max_length=40)
    target_wait_min: int = Field(ge=1, le=480, description="the service's own, else the hall's")


class WindowProfile(Body):
    id: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=40)


class HallProfile(Body):
    """What the hub needs from the hall's config to read its events as the hall does: the time zone
    its days are counted in, and per service the target wait (served within target). No credentials."""

    name: str = Field(min_length=1, max_length=40)
    kind: HallKindName
    parent: str | None = None
    timezone: str = Field(min_length=1, max_length=64)
    target_wait_min: int = Field(ge=1, le=480, description="the hall's own target (stats.target_wait_min)")
    services: list[ServiceProfile] = Field(max_length=200)
    windows: list[WindowProfile] = Field(max_length=500)


class HubHall(AnswerModel):
    hall: str
    name: str
    kind: HallKindName
    parent: str | None
    acked_seq: int = Field(description="the last event of the hall the hub holds")
    last_event_at: Timestamp | None = Field(description="when the hall committed its last shipped event")
    online: bool = Field(description="the hall's uplink reached the hub within the last minute")
    last_contact_at: Timestamp | None = Field(description="the uplink's last batch or heartbeat: offline since")
    folded_seq: int = Field(0, description="the last event counted in the hub's statistics")


class HubStatsAnswer(AnswerModel):
    """As a hall's `StatsAnswer` (§12), for the halls `under` a hall (None: every hall of the city)."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    by: HubStatsBy
    under: str | None
    halls: list[str] = Field(description="the halls counted")
    rows: list[StatsRow]
    total: StatsRow

    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)
