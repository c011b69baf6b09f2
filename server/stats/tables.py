"""Statistics tables, on the dispatcher store's metadata (created by migration 0003_stats).

`stats_hourly` is the roll-up: one row per hall × local day × local hour × service × window × clerk
('' where an event has none: an issue has no window yet). Counts, sums and maxima add up over any
range; the two histograms (JSON: bucket upper bound in seconds → count) add up too, so a month's
p50 comes from summed buckets. `stats_daily` holds the same rows summed over the day's hours (written
in the same transaction), so a month or a year by day, service, window or clerk reads ~10× fewer rows.
`stats_cursor` is the last event folded per hall (with the windows' state the folding needs),
`stats_tickets` what the folding remembers of a ticket between its events.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.store.schema import UtcDateTime, metadata

COUNTERS = (
    "issued", "called", "served", "no_show", "cancelled", "expired", "transferred", "recalled",
    "wait_sum_s", "service_count", "service_sum_s", "open_s",
    "rating_count", "rating_sum", "rating_good", "rating_bad",
    "queue_s",  # seconds tickets spent waiting in the hour: ÷ 3600 is the mean queue length
)  # fmt: skip
MAXIMA = ("wait_max_s", "service_max_s")
HISTOGRAMS = ("wait_hist", "service_hist")
HOURLY_KEY = ("hall", "day", "hour", "service", "window", "clerk")
DAILY_KEY = ("hall", "day", "service", "window", "clerk")


def _rollup(name: str, hourly: bool) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),  # the hall's local date, YYYY-MM-DD
        *([sa.Column("hour", sa.SmallInteger, primary_key=True, autoincrement=False)] if hourly else []),  # 0-23
        sa.Column("service", sa.String(4), primary_key=True),
        sa.Column("window", sa.String(16), primary_key=True),
        sa.Column("clerk", sa.String(32), primary_key=True),
        *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in COUNTERS + MAXIMA),
        *(sa.Column(name, sa.JSON, nullable=False) for name in HISTOGRAMS),
    )


stats_hourly = _rollup("stats_hourly", hourly=True)
stats_daily = _rollup("stats_daily", hourly=False)

stats_cursor = sa.Table(
    "stats_cursor",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("windows", sa.JSON, nullable=False),  # window → {state, clerk, since}
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

stats_tickets = sa.Table(
    "stats_tickets",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("ticket_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), nullable=False),  # local day of issue
    sa.Column("issued_hour", sa.SmallInteger, nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("service", sa.String(4), nullable=False, server_default=""),  # at its last call
    sa.Column("first_called_at", UtcDateTime(), nullable=True),
    sa.Column("window", sa.String(16), nullable=True),  # where it was called last, and the clerk there
    sa.Column("clerk", sa.String(32), nullable=True),
    sa.Index("ix_stats_tickets_day", "hall", "day"),
)
