"""Hand-over sheets between the desks (材料交接、结果交接), in the store.

The comprehensive window hands a department the paper it received, on one 《材料交接表》 per department
and hand-over; the department signs for it, and each case's paper is late if it was signed for after
its deadline (`workflow.handover_due`). The department hands its decided cases' results to the output
window on a 《办理结果交接表》: each case moves to `result_sent`, and the output window checks it (出件)
or refuses it (退回) case by case. Each sheet is one transaction with its history lines.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.cases import tables as t
from server.cases.service import Actor, CaseError, CaseForbidden, CaseNotFound, CaseService, _in_utc, _iso
from server.cases.workflow import STATUS_LABELS, CaseAction, CaseStatus, MaterialStatus, handover_late, next_status

MATERIALS, RESULTS = "materials", "results"
PREFIX = {MATERIALS: "JJ", RESULTS: "JG"}
TITLES = {MATERIALS: "材料交接表", RESULTS: "办理结果交接表"}
# a case's paper waits for a hand-over from 收件 until its department signs for it
AWAITING_PAPER = (CaseStatus.received.value, CaseStatus.correction.value, CaseStatus.pending.value)


class Handovers:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.hall = cases.hall

    def _department(self, name: str) -> str:
        if not self.cases.config.has_back_office(name):
            raise CaseNotFound(f"没有在后台办理的部门「{name}」 — no such back-office department")
        return name

    # ---- 材料交接 -------------------------------------------------------------------------------

    def awaiting_paper(self, conn: Connection, department: str) -> list[dict[str, Any]]:
        """The department's cases whose paper has not been put on a 《材料交接表》 yet, oldest first."""
        codes = [s.code for s in self.cases.config.services if s.department == department]
        listed = sa.select(t.handover_items.c.case_id).where(
            t.handover_items.c.hall == self.hall, t.handover_items.c.handover_id.like("JJ%")
        )
        query = (
            sa.select(t.cases)
            .where(
                t.cases.c.hall == self.hall,
                t.cases.c.service.in_(codes),
                t.cases.c.status.in_(AWAITING_PAPER),
                sa.or_(t.cases.c.channel == "window", t.cases.c.locker_slot.is_not(None)),
                t.cases.c.id.not_in(listed),
            )
            .order_by(t.cases.c.received_at)
        )
        return [self.cases._row(conn, r.id) for r in conn.execute(query)]

    @_in_utc
    def hand_over_materials(self, department: str, window: str, actor: Actor, now: dt.datetime) -> dict[str, Any]:
        """The window puts every case of the department still holding paper on one sheet."""
        self._department(department)
        with self.cases._writer, self.cases.engine.begin() as conn:
            rows = self.awaiting_paper(conn, department)
            if not rows:
                raise CaseError(f"没有待交接给{department}的纸质材料 — nothing to hand over")
            sheet = self._new_sheet(conn, MATERIALS, department, window, actor, now)
            for row in rows:
                names = self._paper_of(conn, row["id"])
                due = self.cases.paper_due(row)
                self._add_item(conn, sheet, row["id"], due, names)
        return self.view(sheet, now)

    def _paper_of(self, conn: Connection, case_id: str) -> list[str]:
        rows = conn.execute(
            sa.select(t.case_materials.c.name)
            .where(
                t.case_materials.c.hall == self.hall,
                t.case_materials.c.case_id == case_id,
                t.case_materials.c.status == MaterialStatus.provided.value,
            )
            .order_by(t.case_materials.c.idx)
        )
        return [r.name for r in rows]

    @_in_utc
    def sign(self, sheet_id: str, actor: Actor, now: dt.datetime) -> dict[str, Any]:
        """The department signs for the paper on a 《材料交接表》; late items are named in each case's history."""
        with self.cases._writer, self.cases.engine.begin() as conn:
            sheet = self._sheet(conn, sheet_id)
            if sheet["kind"] != MATERIALS:
                raise CaseError("办理结果交接表由出件窗口逐件核验，不需签收 — results are checked case by case")
            self._may_sign(sheet, actor)
            if sheet["signed_at"] is not None:
                raise CaseError(f"交接单 {sheet_id} 已于 {sheet['signed_at']:%Y-%m-%d %H:%M} 签收 — already signed")
            conn.execute(
                t.handovers.update()
                .where(t.handovers.c.hall == self.hall, t.handovers.c.id == sheet_id)
                .values(signed_at=now, signed_by=actor.name)
            )
            for item in self._items(conn, sheet_id):
                self._signed_for(conn, item, sheet_id, actor, now)
        return self.view(sheet_id, now)

    def _may_sign(self, sheet: dict[str, Any], actor: Actor) -> None:
        if actor.role in ("supervisor", "admin"):
            return
        if actor.role != "department" or actor.department != sheet["department"]:
            raise CaseForbidden(
                f"《材料交接表》须由{sheet['department']}签收 — only the department signs for its paper"
            )

    def _signed_for(
        self, conn: Connection, item: dict[str, Any], sheet_id: str, actor: Actor, now: dt.datetime
    ) -> None:
        row = self.cases._row(conn, item["case_id"])
        conn.execute(
            t.cases.update()
            .where(t.cases.c.hall == self.hall, t.cases.c.id == item["case_id"])
            .values(handed_over_at=now, updated_at=now)
        )
        late = item["due_at"] is not None and handover_late(item["due_at"], now, now)
        note = f"交接单 {sheet_id}" + (
            f"；逾期交接（应于 {_local(self.cases, item['due_at'])} 前送达）" if late else ""
        )
        status = CaseStatus(row["status"])
        self.cases._history(conn, item["case_id"], actor, "handover", status, status, now, note)

    # ---- 结果交接 ---------------------------------------------------------------------------------

    @_in_utc
    def hand_over_results(self, department: str, case_ids: list[str], actor: Actor, now: dt.datetime) -> dict[str, Any]:
        """The department hands decided cases' results to the output window on one sheet."""
        self._department(department)
        if not case_ids:
            raise CaseError("请选择要移交的办件 — choose the cases whose results go to the output window")
        with self.cases._writer, self.cases.engine.begin() as conn:
            rows = [self.cases._row(conn, case_id) for case_id in dict.fromkeys(case_ids)]
            for row in rows:
                self.cases._authorize(row, CaseAction.send_result, actor)
                if self.cases.department_of(row) != department:
                    raise CaseForbidden(f"办件 {row['receipt_no']} 不属于{department} — another department's case")
                next_status(CaseStatus(row["status"]), CaseAction.send_result)
            sheet = self._new_sheet(conn, RESULTS, department, None, actor, now)
            for row in rows:
                self._add_item(
                    conn, sheet, row["id"], None, [f"{row['decision'] == 'approved' and '准予' or '不予'}决定"]
                )
                self.cases._transition(
                    conn, row, CaseAction.send_result, actor, now, f"交接单 {sheet}", result_sent_at=now
                )
        return self.view(sheet, now)

    # ---- sheets ---------------------------------------------------------------------------------

    def _new_sheet(
        self, conn: Connection, kind: str, department: str, window: str | None, actor: Actor, now: dt.datetime
    ) -> str:
        day = self.cases.local_date(now)
        prefix = f"{PREFIX[kind]}{day:%Y%m%d}"
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.handovers)
            .where(t.handovers.c.hall == self.hall, t.handovers.c.id.like(f"{prefix}%"))
        ).scalar_one()
        sheet_id = f"{prefix}{int(count) + 1:04d}"
        conn.execute(
            t.handovers.insert().values(
                hall=self.hall,
                id=sheet_id,
                kind=kind,
                department=department,
                window=window,
                created_at=now,
                created_by=actor.name,
            )
        )
        return sheet_id

    def _add_item(self, conn: Connection, sheet: str, case_id: str, due: dt.datetime | None, names: list[str]) -> None:
        conn.execute(
            t.handover_items.insert().values(
                hall=self.hall, handover_id=sheet, case_id=case_id, due_at=due, materials=names
            )
        )

    def _sheet(self, conn: Connection, sheet_id: str) -> dict[str, Any]:
        row = (
            conn.execute(sa.select(t.handovers).where(t.handovers.c.hall == self.hall, t.handovers.c.id == sheet_id))
            .mappings()
            .first()
        )
        if row is None:
            raise CaseNotFound(f"没有交接单 {sheet_id} — no such hand-over sheet")
        return dict(row)

    def _items(self, conn: Connection, sheet_id: str) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(t.handover_items).where(
                t.handover_items.c.hall == self.hall, t.handover_items.c.handover_id == sheet_id
            )
        ).mappings()
        return [dict(r) for r in rows]

    def view(self, sheet_id: str, now: dt.datetime, actor: Actor | None = None) -> dict[str, Any]:
        with self.cases.engine.connect() as conn:
            sheet = self._sheet(conn, sheet_id)
            if actor is not None and actor.role == "department" and actor.department != sheet["department"]:
                raise CaseForbidden(f"交接单 {sheet_id} 属于{sheet['department']} — another department's sheet")
            items = [self._item_view(conn, item, sheet, now) for item in self._items(conn, sheet_id)]
        items.sort(key=lambda i: i["receipt_no"] or "")
        return {
            "id": sheet["id"],
            "kind": sheet["kind"],
            "title": TITLES[sheet["kind"]],
            "department": sheet["department"],
            "window": sheet["window"],
            "created_at": _iso(sheet["created_at"]),
            "created_by": sheet["created_by"],
            "signed_at": _iso(sheet["signed_at"]),
            "signed_by": sheet["signed_by"],
            "late": sum(i["late"] for i in items),
            "items": items,
        }

    def _item_view(
        self, conn: Connection, item: dict[str, Any], sheet: dict[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        row = self.cases._row(conn, item["case_id"])
        _, found = self.cases.item(row["item"])
        due = item["due_at"]
        return {
            "case_id": row["id"],
            "receipt_no": row["receipt_no"],
            "item_name": found.name,
            "masked_name": row["masked_name"],
            "received_at": _iso(row["received_at"]),
            "materials": list(item["materials"]),
            "due_at": _iso(due),
            "late": due is not None and handover_late(due, sheet["signed_at"], now),
            "status": row["status"],
            "status_label": STATUS_LABELS[CaseStatus(row["status"])],
        }

    def sheets(
        self, now: dt.datetime, *, kind: str | None = None, department: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        query = sa.select(t.handovers.c.id).where(t.handovers.c.hall == self.hall)
        if kind:
            query = query.where(t.handovers.c.kind == kind)
        if department:
            query = query.where(t.handovers.c.department == department)
        with self.cases.engine.connect() as conn:
            ids = [r.id for r in conn.execute(query.order_by(t.handovers.c.created_at.desc()).limit(limit))]
        return [self.view(sheet_id, now) for sheet_id in ids]

    def pending(self, department: str, now: dt.datetime) -> list[dict[str, Any]]:
        """What the window would put on the department's next 《材料交接表》."""
        self._department(department)
        with self.cases.engine.connect() as conn:
            rows = self.awaiting_paper(conn, department)
        return [
            {
                "case_id": r["id"],
                "receipt_no": r["receipt_no"],
                "due_at": _iso(self.cases.paper_due(r)),
                "late": handover_late(self.cases.paper_due(r) or now, None, now),
            }
            for r in rows
        ]


def _local(cases: CaseService, moment: dt.datetime) -> str:
    return f"{moment.astimezone(cases.config.hall.tz()):%m-%d %H:%M}"
