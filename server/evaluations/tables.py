"""好差评 tables, on the dispatcher store's metadata (created by migration 0003_evaluations).

`ratings` is the national record of every rating (one per ticket or case and round: 一次一评, 一事一评,
and one 追评 later); the older `evaluations` table the queue engine's commit writes stays as it was for
the statistics that read it. Personal data: only a masked phone and its HMAC, never the number.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.store.schema import UtcDateTime, metadata

TS = UtcDateTime()

ratings = sa.Table(
    "ratings",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("subject", sa.String(8), nullable=False),  # ticket / case
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),  # 0 the rating, 1 the 追评 after a rectification
    sa.Column("number", sa.String(24), nullable=False),  # 办件编号: the ticket's number or the receipt's
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),  # reason codes of the hall's list for that level
    sa.Column("comment", sa.String(500), nullable=False, server_default=""),
    sa.Column("channel", sa.String(12), nullable=False),
    sa.Column("pf", sa.Integer, nullable=False),  # the platform's channel code
    sa.Column("window", sa.String(16), nullable=True),
    sa.Column("clerk", sa.String(32), nullable=True),  # the staff id who served, never the citizen's data
    sa.Column("service", sa.String(4), nullable=True),
    sa.Column("task_code", sa.String(48), nullable=False),  # 事项编码
    sa.Column("task_name", sa.String(64), nullable=False),
    sa.Column("masked_phone", sa.String(16), nullable=False, server_default=""),  # 实名 when not empty
    sa.Column("phone_hmac", sa.String(64), nullable=True),
    sa.Column("counts", sa.Boolean, nullable=False),  # false once an appeal is upheld
    sa.Column("void_reason", sa.String(500), nullable=True),
    sa.Column("served_at", TS, nullable=False),
    sa.Column("rated_at", TS, nullable=False),
    sa.UniqueConstraint("hall", "subject", "subject_id", "round", name="uq_ratings_once"),
    sa.Index("ix_ratings_hall_rated", "hall", "rated_at"),
)

rectifications = sa.Table(
    "rectifications",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("rating_id", sa.String(32), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("window", sa.String(16), nullable=True),
    sa.Column("opened_on", sa.Date, nullable=False),  # the hall's local day of the 差评
    sa.Column("rectified_on", sa.Date, nullable=True),  # the latest 整改's local day
    sa.Column("reopened", sa.Integer, nullable=False, server_default="0"),
    sa.Column("facts", sa.String(1000), nullable=False, server_default=""),  # 核实情况
    sa.Column("measures", sa.String(1000), nullable=False, server_default=""),  # 整改措施
    sa.Column("call_back", sa.String(500), nullable=False, server_default=""),  # 回访结果
    sa.Column("satisfied", sa.Boolean, nullable=True),
    sa.Column("appeal", sa.String(500), nullable=False, server_default=""),
    sa.Column("appealed_by", sa.String(64), nullable=True),
    sa.Column("decision", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.UniqueConstraint("hall", "rating_id", name="uq_rectifications_rating"),
    sa.Index("ix_rectifications_hall_status", "hall", "status"),
)

rectification_history = sa.Table(
    "rectification_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("order_id", sa.String(32), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("from_status", sa.String(12), nullable=True),
    sa.Column("to_status", sa.String(12), nullable=False),
    sa.Column("note", sa.String(1000), nullable=False, server_default=""),  # never the citizen's data
    sa.Index("ix_rectification_history_order", "hall", "order_id"),
)

# The platform feed's outbox: one row per rating and per later change of its record (an order's step),
# written in the same transaction as the change. `seq` is per hall and gap-free in commit order (taken
# from `rating_feed`'s row, which the transaction holds locked until it commits), so a sink's cursor
# never passes a row that commits later.
rating_feed = sa.Table(
    "rating_feed",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

rating_outbox = sa.Table(
    "rating_outbox",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("rating_id", sa.String(32), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),  # 0 the rating, then one per later change
    sa.Column("record", sa.JSON, nullable=False),  # the export's record as it stood at the change
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("hall", "rating_id", "revision", name="uq_rating_outbox_revision"),
)

# How far each sink got: the last outbox seq it delivered, per hall and sink kind.
rating_sink_cursor = sa.Table(
    "rating_sink_cursor",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("sink", sa.String(16), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)
