"""Case tables, on the dispatcher store's metadata (created by migration 0002_cases; the back office's
columns and hand-over sheets by 0012_back_office)."""

from __future__ import annotations

import sqlalchemy as sa

from server.store.schema import UtcDateTime, metadata

TS = UtcDateTime()

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("receipt_no", sa.String(24), nullable=True),  # 收件编号, given when the submission completes
    sa.Column("item", sa.String(48), nullable=False),
    sa.Column("service", sa.String(4), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  # kiosk (24-hour) or window (即办件)
    sa.Column("device", sa.String(48), nullable=True),
    # Personal data: the HMAC of the ID number, masked forms for display, the phone for contact only.
    sa.Column("id_hash", sa.String(64), nullable=True),
    sa.Column("masked_name", sa.String(32), nullable=False, server_default=""),
    sa.Column("masked_id", sa.String(24), nullable=False, server_default=""),
    sa.Column("phone", sa.String(20), nullable=False, server_default=""),
    sa.Column("access_sha256", sa.String(64), nullable=False),  # the QR's token, kept hashed
    sa.Column("locker_slot", sa.String(8), nullable=True),
    sa.Column("delivery", sa.String(8), nullable=True),  # window / post
    sa.Column("tracking_no", sa.String(40), nullable=True),
    sa.Column("correction", sa.JSON, nullable=True),  # 补齐补正通知: {note, materials[]}
    sa.Column("decision_note", sa.String(500), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("received_at", TS, nullable=True),
    sa.Column("accepted_at", TS, nullable=True),
    sa.Column("decided_at", TS, nullable=True),
    sa.Column("output_at", TS, nullable=True),
    sa.Column("delivered_at", TS, nullable=True),
    sa.Column("archived_at", TS, nullable=True),
    sa.Column("updated_at", TS, nullable=False),
    # the back office (0012_back_office): which window received the paper, when its department signed
    # for it, the decision kept once the result moves on, the output window's refusal, the 送达回执
    sa.Column("received_window", sa.String(16), nullable=True),
    sa.Column("handed_over_at", TS, nullable=True),
    sa.Column("decision", sa.String(8), nullable=True),  # approved / rejected
    sa.Column("result_sent_at", TS, nullable=True),
    sa.Column("result_refused_at", TS, nullable=True),
    sa.Column("receipt_returned_at", TS, nullable=True),
    sa.Column("bundle_id", sa.String(32), nullable=True),  # a part of this 一件事 (case_bundles)
    # 网上预审: when the phone last sent the materials, when the department passed them, how many rounds
    sa.Column("prereview_at", TS, nullable=True),
    sa.Column("prereviewed_at", TS, nullable=True),
    sa.Column("prereview_rounds", sa.Integer, nullable=False, server_default="0"),
    sa.Column("agency", sa.JSON, nullable=True),  # 代办: {point, agent (masked), consent_at}
    # the hall a forwarded case (转报) came from, "" for the hall's own: a receipt number is unique per both
    sa.Column("origin_hall", sa.String(32), nullable=False, server_default=""),
    sa.UniqueConstraint("hall", "origin_hall", "receipt_no", name="uq_cases_receipt"),
    sa.Index("ix_cases_hall_status", "hall", "status"),
    # the statistics read a range of days by each step's time (server/stats/cases.py)
    sa.Index("ix_cases_hall_received", "hall", "received_at"),
    sa.Index("ix_cases_hall_accepted", "hall", "accepted_at"),
    sa.Index("ix_cases_hall_decided", "hall", "decided_at"),
    sa.Index("ix_cases_bundle", "hall", "bundle_id"),
)

case_materials = sa.Table(
    "case_materials",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(32), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("form", sa.String(8), nullable=False),
    sa.Column("copies", sa.Integer, nullable=False),
    sa.Column("deferrable", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # missing / provided / deferred
    sa.Column("signature_sha256", sa.String(64), nullable=True),  # the signed 容缺 promise
    sa.Column("updated_at", TS, nullable=False),
)

case_files = sa.Table(
    "case_files",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(32), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),  # material index; -1 = signature
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("mime", sa.String(32), nullable=False),
    sa.Column("uploaded_at", TS, nullable=False),
)

case_history = sa.Table(
    "case_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("case_id", sa.String(32), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),  # never personal data
    sa.Index("ix_case_history_case", "hall", "case_id"),
)

# 一件事: one submission of several departments' items; its parts are cases with its bundle_id
bundles = sa.Table(
    "case_bundles",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("code", sa.String(32), nullable=False),  # the hall config's bundle
    sa.Column("receipt_no", sa.String(24), nullable=False),  # YJ + date + number of the day
    sa.Column("access_sha256", sa.String(64), nullable=False),
    sa.Column("masked_name", sa.String(32), nullable=False),
    sa.Column("form", sa.JSON, nullable=False),  # 一表式: the shared fields, asked once
    sa.Column("received_window", sa.String(16), nullable=True),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.UniqueConstraint("hall", "receipt_no", name="uq_case_bundles_receipt"),
)

# 《材料交接表》 (window → department, paper) and 《办理结果交接表》 (department → output window)
handovers = sa.Table(
    "case_handovers",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(24), primary_key=True),  # JJ + date + number of the day, e.g. JJ202612070001
    sa.Column("kind", sa.String(12), nullable=False),  # materials / results
    sa.Column("department", sa.String(24), nullable=False),
    sa.Column("window", sa.String(16), nullable=True),  # the window that printed a materials sheet
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("signed_at", TS, nullable=True),
    sa.Column("signed_by", sa.String(64), nullable=True),
    sa.Index("ix_case_handovers_open", "hall", "kind", "department", "signed_at"),
)

handover_items = sa.Table(
    "case_handover_items",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("handover_id", sa.String(24), primary_key=True),
    sa.Column("case_id", sa.String(32), primary_key=True),
    sa.Column("due_at", TS, nullable=True),  # materials: by when the paper had to reach the department
    sa.Column("materials", sa.JSON, nullable=False),  # the names of what is handed over
    sa.Index("ix_case_handover_items_case", "hall", "case_id"),
)
