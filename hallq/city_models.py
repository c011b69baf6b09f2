"""What the city's supervisors read at the hub (`/city`, DESIGN §14): every hall live, rolled up by
area and level, and the halls ranked over a range of days. Answers only; nothing here names a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field

from hallq.api_models import AnswerModel, Timestamp
from hallq.network_models import HallKindName

RankingMetric = Literal["good_pct", "wait_mean", "served", "longest_wait", "within_target_pct"]


class HallLive(AnswerModel):
    hall: str
    name: str
    kind: HallKindName
    parent: str | None
    area: str = Field(description="the 市中心 or 分中心 the hall's numbers roll up to (itself for those)")
    online: bool
    last_contact_at: Timestamp | None = Field(description="the uplink's last batch or heartbeat")
    offline_since: Timestamp | None = Field(description="when the hub last heard from an offline hall")
    waiting: int = Field(description="tickets waiting now, by the events the hub holds")
    longest_wait_s: int = Field(description="the longest-waiting ticket's wait so far (0: nobody waits)")
    oldest_issued_at: Timestamp | None = Field(description="when that ticket was issued")
    windows_open: int
    windows: int = Field(description="the hall's windows (from its profile)")
    acked_seq: int = Field(description="the hall's last event the hub holds")
    folded_seq: int = Field(description="the last event counted in the hub's statistics")
    unfolded: int = Field(description="events held but not counted yet (acked_seq − folded_seq)")
    last_event_at: Timestamp | None
    events_behind: int | None = Field(
        description="the hall's events not at the hub yet, as its uplink last said (None: not said since the hub"
        " started); for an offline hall, as of its last contact"
    )
    behind_s: int | None = Field(
        description="seconds since the last event the hub holds, while the hall is offline or still shipping"
        " (what happened after is not here yet); 0: online with nothing left to ship"
    )


class LiveRollup(AnswerModel):
    key: str
    label: str
    halls: int
    online: int
    waiting: int
    longest_wait_s: int
    windows_open: int


class CityLive(AnswerModel):
    at: Timestamp
    halls: list[HallLive] = Field(description="in the tree's order: parents before children")
    areas: list[LiveRollup] = Field(description="per 市中心 / 分中心 area: the hall and the halls below it")
    levels: list[LiveRollup] = Field(description="per kind of hall, 市中心 → 代办点")
    total: LiveRollup


class RankedHall(AnswerModel):
    rank: int
    hall: str
    name: str
    kind: HallKindName
    value: float
    samples: int = Field(description="what the value is made of: ratings, first calls or served tickets")


class Ranking(AnswerModel):
    metric: RankingMetric
    label: str
    unit: str
    rows: list[RankedHall] = Field(description="best first; halls without a sample are left out")


class CityRankings(AnswerModel):
    from_: dt.date = Field(alias="from")
    to: dt.date
    rankings: list[Ranking]

    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)
