"""`GET /hub/live`'s answer: every registered hall now (server/network/hub_live.py for the queue and
windows, the register for online / offline since and how far its events have come), in the tree's
order, rolled up per area (a 市中心 or 分中心 with the halls below it) and per level. Blocking SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from hallq.city_models import CityLive, HallLive, LiveRollup
from hallq.network_models import HubHall
from server.network.hub_live import LiveBoard
from server.network.levels import KIND_LABELS, KINDS, Node, area_of, in_tree_order
from server.network.registry import RegisteredHall


def city_live(board: LiveBoard, registered: list[RegisteredHall], rows: list[HubHall], now: dt.datetime,
              hall_seqs: Mapping[str, int]) -> CityLive:  # fmt: skip
    """`rows` are the register's answers (`Hub.halls()`: online, folded_seq) for the same halls;
    `hall_seqs` each hall's last seq as its uplink last said."""
    nodes = {r.hall: Node(r.hall, r.kind, r.parent) for r in registered}
    by_hall = {r.hall: r for r in registered}
    answers = {row.hall: row for row in rows}
    halls = [
        hall_live(board, by_hall[hall], answers[hall], area_of(nodes, hall), now, hall_seqs.get(hall))
        for hall in in_tree_order(nodes)
        if hall in answers
    ]
    areas = [
        rollup(hall.hall, hall.name, [h for h in halls if h.area == hall.hall])
        for hall in halls
        if hall.area == hall.hall
    ]
    levels = [
        rollup(kind, KIND_LABELS[kind], [h for h in halls if h.kind == kind])
        for kind in KINDS
        if any(h.kind == kind for h in halls)
    ]
    return CityLive(at=now, halls=halls, areas=areas, levels=levels, total=rollup("total", "全市合计", halls))


def hall_live(board: LiveBoard, registered: RegisteredHall, row: HubHall, area: str, now: dt.datetime,
              hall_seq: int | None) -> HallLive:  # fmt: skip
    windows = [w.id for w in registered.profile.windows] if registered.profile else []
    live = board.summary(registered.hall, windows)
    events_behind = None if hall_seq is None else max(0, hall_seq - row.acked_seq)
    behind_s = None
    if row.online and not events_behind:
        behind_s = 0  # the uplink said it has nothing more (or heartbeats only with nothing left to ship)
    elif row.last_event_at is not None:
        behind_s = max(0, round((now - row.last_event_at).total_seconds()))
    return HallLive(
        hall=row.hall,
        name=row.name,
        kind=row.kind,
        parent=row.parent,
        area=area,
        online=row.online,
        last_contact_at=row.last_contact_at,
        offline_since=None if row.online else row.last_contact_at,
        waiting=live.waiting,
        longest_wait_s=live.longest_wait_s(now),
        oldest_issued_at=live.oldest_issued_at,
        windows_open=live.windows_open,
        windows=len(windows) or len(live.window_states),
        acked_seq=row.acked_seq,
        folded_seq=row.folded_seq,
        unfolded=max(0, row.acked_seq - row.folded_seq),
        last_event_at=row.last_event_at,
        behind_s=behind_s,
        events_behind=events_behind,
    )


def rollup(key: str, label: str, halls: list[HallLive]) -> LiveRollup:
    return LiveRollup(
        key=key,
        label=label,
        halls=len(halls),
        online=sum(1 for h in halls if h.online),
        waiting=sum(h.waiting for h in halls),
        longest_wait_s=max((h.longest_wait_s for h in halls), default=0),
        windows_open=sum(h.windows_open for h in halls),
    )
