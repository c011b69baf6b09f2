"""The city's numbers (DESIGN §14): the halls' shipped events, folded by the halls' own code
(server/stats/rollups.py), read by the halls' own code (server/stats/queries.py `grouped`), then
added up across halls: counts and sums add, histograms merge (so the city's p50 / p90 are of every
citizen's wait, not a mean of the halls'), maxima take the largest.

`by=hall`: one row per hall, the same numbers the hall's own `GET /halls/{hall}/stats` totals;
`by=area`: each hall into its nearest 市中心 or 分中心 (server/network/levels.py); `by=level`: one row
per kind of hall; `by=day` / `by=hour`: the halls summed per day or hour of day. `under`: only that
hall and the halls below it. The cases' numbers are not shipped as events and are left out
(`cases: null`); the hour rows' queue means are a hall's own (`null` here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from hallq.network_models import HubStatsAnswer, HubStatsBy
from server.network.levels import KIND_LABELS, KINDS, Node, area_of, in_tree_order, subtree
from server.network.registry import RegisteredHall
from server.stats.queries import Group, check_range, grouped, stats_row
from server.store import Store

DEFAULT_TARGET_WAIT_MIN = 20  # a hall that has not sent its profile yet: the config's default


class UnknownHall(LookupError):
    pass


def target_waits(registered: RegisteredHall) -> Callable[[str], int]:
    """The hall's services' target waits in seconds, as its config resolves them."""
    profile = registered.profile
    if profile is None:
        return lambda _code: DEFAULT_TARGET_WAIT_MIN * 60
    own = {s.code: s.target_wait_min * 60 for s in profile.services}
    default = profile.target_wait_min * 60
    return lambda code: own.get(code, default)


def add(into: Group, part: Group) -> None:
    into.cell.absorb(part.cell)
    into.within_target += part.within_target


def hub_stats(
    store: Store, registered: list[RegisteredHall], start: dt.date, end: dt.date, by: HubStatsBy, under: str | None
) -> HubStatsAnswer:
    """Raises BadRange (server/stats/queries.py) or UnknownHall (`under` is not registered)."""
    check_range(start, end)
    halls = {r.hall: r for r in registered}
    nodes = {r.hall: Node(r.hall, r.kind, r.parent) for r in registered}
    if under is not None and under not in nodes:
        raise UnknownHall(f"中心没有登记大厅 {under}。 No hall {under!r} is registered at the hub.")
    counted = subtree(nodes, under) if under is not None else in_tree_order(nodes)
    per_key: dict[str, Group] = {}
    total = Group()
    for hall in counted:
        groups, hall_total = grouped(
            store, hall, target_waits(halls[hall]), start, end, "hour" if by == "hour" else "day"
        )
        add(total, hall_total)
        if by in ("day", "hour"):
            for key, group in groups.items():
                add(per_key.setdefault(key, Group()), group)
        else:
            key = {"hall": hall, "area": area_of(nodes, hall), "level": nodes[hall].kind}[by]
            add(per_key.setdefault(key, Group()), hall_total)
    label = _labeller(by, halls)
    ordered = sorted(per_key, key=_order(by, counted))
    return HubStatsAnswer(
        from_=start,
        to=end,
        by=by,
        under=under,
        halls=counted,
        rows=[stats_row(key, label(key), per_key[key]) for key in ordered],
        total=stats_row("total", "合计", total),
    )


def _labeller(by: HubStatsBy, halls: dict[str, RegisteredHall]) -> Callable[[str], str]:
    if by in ("hall", "area"):
        return lambda key: halls[key].name if key in halls else key
    if by == "level":
        return lambda key: KIND_LABELS.get(key, key)
    if by == "hour":
        return lambda key: f"{key}:00-{int(key) + 1:02d}:00"
    return lambda key: key


def _order(by: HubStatsBy, counted: list[str]) -> Callable[[str], tuple[int, str]]:
    if by in ("hall", "area"):
        return lambda key: (counted.index(key) if key in counted else len(counted), key)
    if by == "level":
        return lambda key: (KINDS.index(key) if key in KINDS else len(KINDS), key)
    return lambda key: (0, key)
