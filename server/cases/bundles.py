"""一件事 (集成服务) in the store: one submission at a comprehensive window of several departments' items.

The window asks the shared fields once (一表式) and checks every part's materials; each part becomes a
case of its department with the bundle's id, decided in parallel (并联), or held (`pending`) until the
parts it comes after are approved (前置 → 后置; `CaseService._after_decision`). The bundle has one
receipt number, one promise (the bundle's working days from 收件) and one hand-out at the output window
when every part's result is there; the citizen's page shows each part's state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hallq.config import Bundle
from server.cases import tables as t
from server.cases.service import (
    Actor,
    CaseError,
    CaseNotFound,
    CaseService,
    MaterialCheck,
    _in_utc,
    _iso,
)
from server.cases.workflow import (
    STATUS_LABELS,
    WINDOW_ONLY,
    CaseAction,
    CaseStatus,
    IllegalCaseAction,
    next_status,
)

DONE = {CaseStatus.delivered.value, CaseStatus.receipt_returned.value, CaseStatus.archived.value}
MAX_FIELD = 100


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Bundles:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.hall = cases.hall

    def definition(self, code: str) -> Bundle:
        found = self.cases.config.bundle(code)
        if found is None:
            raise CaseNotFound(f"没有「一件事」{code!r} — unknown bundle")
        return found

    # ---- 收件 --------------------------------------------------------------------------------------

    @_in_utc
    def submit(
        self,
        code: str,
        id_card: dict[str, str],
        phone: str,
        window: str,
        form: dict[str, str],
        checks: dict[str, list[MaterialCheck]],
        actor: Actor,
        now: dt.datetime,
    ) -> tuple[dict[str, Any], str]:
        """Every part received at once; returns (the bundle's view, its access key for the QR)."""
        bundle = self.definition(code)
        shared, problems = self._form(bundle, form)
        problems += self._check_parts(bundle, checks)
        if problems:  # the form and every part's materials, all told at once; nothing written
            raise CaseError("；".join(problems) + " — the form or the materials are incomplete")
        self.cases.receiving_window(window)
        checked = {p.item: self.cases._checked(self.cases.item(p.item)[1], checks[p.item]) for p in bundle.parts}
        bundle_id, token = secrets.token_hex(8), secrets.token_urlsafe(18)
        # one transaction: every part and the bundle, or nothing (a failure or a crash leaves no part behind)
        with self.cases._writer, self.cases.engine.begin() as conn:
            parts = []
            for part in bundle.parts:
                statuses, note = checked[part.item]
                args = (conn, part.item, id_card, phone, window, statuses, note, actor, now)
                parts.append((self.cases._intake_in(*args)[0], bool(part.after)))
            conn.execute(
                t.bundles.insert().values(
                    hall=self.hall,
                    id=bundle_id,
                    code=code,
                    receipt_no=self._receipt_no(conn, now),
                    access_sha256=_sha(token),
                    masked_name=self.cases._row(conn, parts[0][0])["masked_name"],
                    form=shared,
                    received_window=window,
                    received_at=now,
                    created_by=actor.name,
                )
            )
            for case_id, waits in parts:
                self._join(conn, case_id, bundle_id, waits, bundle.name, actor, now)
        return self.view(bundle_id, now), token

    def _form(self, bundle: Bundle, form: dict[str, str]) -> tuple[dict[str, str], list[str]]:
        """一表式: each shared field once, none missing, none unknown; (the fields, the problems)."""
        known = {f.key: f.label for f in bundle.fields}
        problems = [f"「{label}」未填写" for key, label in known.items() if not str(form.get(key, "")).strip()]
        problems += [f"表单没有「{key}」一项" for key in form if key not in known]
        problems += [f"「{known[k]}」过长" for k, v in form.items() if k in known and len(str(v)) > MAX_FIELD]
        return {key: str(form.get(key, "")).strip() for key in known}, problems

    def _check_parts(self, bundle: Bundle, checks: dict[str, list[MaterialCheck]]) -> list[str]:
        """Every part's materials checked before anything is written."""
        problems = [f"没有事项 {code!r}" for code in checks if code not in {p.item for p in bundle.parts}]
        for part in bundle.parts:
            _, item = self.cases.item(part.item)
            try:
                self.cases._checked(item, checks.get(part.item, []))
            except CaseError as exc:
                problems.append(f"{item.name}：{str(exc).split(' — ')[0]}")
        return problems

    def _receipt_no(self, conn: Connection, now: dt.datetime) -> str:
        prefix = f"YJ{self.cases.local_date(now):%Y%m%d}"
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.bundles)
            .where(t.bundles.c.hall == self.hall, t.bundles.c.receipt_no.like(f"{prefix}%"))
        ).scalar_one()
        return f"{prefix}{int(count) + 1:04d}"

    def _join(
        self, conn: Connection, case_id: str, bundle_id: str, waits: bool, name: str, actor: Actor, now: dt.datetime
    ) -> None:
        conn.execute(
            t.cases.update()
            .where(t.cases.c.hall == self.hall, t.cases.c.id == case_id)
            .values(bundle_id=bundle_id, updated_at=now)
        )
        if waits:  # 后置: held until the parts it comes after are approved
            row = self.cases._row(conn, case_id)
            self.cases._transition(conn, row, CaseAction.hold, actor, now, f"一件事「{name}」的后置事项")

    # ---- 出件 --------------------------------------------------------------------------------------

    @_in_utc
    def hand_out(self, bundle_id: str, action: CaseAction, actor: Actor, now: dt.datetime) -> dict[str, Any]:
        """One result at the output window: every part handed out (ready) or delivered at once."""
        if action not in (CaseAction.ready, CaseAction.deliver):
            raise CaseError("一件事在出件窗口办理：出件（窗口领取）或送达 — ready or deliver")
        with self.cases._writer, self.cases.engine.begin() as conn:
            self._bundle_row(conn, bundle_id)
            parts = [p for p in self.cases.bundle_parts(conn, bundle_id) if p["status"] != CaseStatus.abandoned.value]
            waiting = [p for p in parts if not self._may(p, action)]
            if waiting:
                names = "、".join(f"{self._item_name(p)}（{STATUS_LABELS[CaseStatus(p['status'])]}）" for p in waiting)
                raise CaseError(f"一件事须全部办结后一次出件，尚未就绪：{names} — not every part is ready")
            for part in parts:
                self.cases._authorize(part, action, actor)
                values = (
                    {"output_at": now, "delivery": "window"} if action == CaseAction.ready else {"delivered_at": now}
                )
                self.cases._transition(conn, part, action, actor, now, "一件事一次出件", **values)
        return self.view(bundle_id, now)

    def _may(self, part: dict[str, Any], action: CaseAction) -> bool:
        status = CaseStatus(part["status"])
        try:
            next_status(status, action)
        except IllegalCaseAction:
            return False
        return not (self.cases.back_office(part) and (status, action) in WINDOW_ONLY)

    def _item_name(self, part: dict[str, Any]) -> str:
        return self.cases.item(part["item"])[1].name

    # ---- views -------------------------------------------------------------------------------------

    def _bundle_row(self, conn: Connection, bundle_id: str) -> dict[str, Any]:
        row = (
            conn.execute(sa.select(t.bundles).where(t.bundles.c.hall == self.hall, t.bundles.c.id == bundle_id))
            .mappings()
            .first()
        )
        if row is None:
            raise CaseNotFound(f"没有编号为 {bundle_id} 的一件事 — no such bundle")
        return dict(row)

    def check_access(self, bundle_id: str, token: str | None) -> None:
        with self.cases.engine.connect() as conn:
            row = self._bundle_row(conn, bundle_id)
        if not token or not secrets.compare_digest(row["access_sha256"], _sha(token)):
            raise CaseNotFound(f"没有编号为 {bundle_id} 的一件事 — no such bundle")

    def view(self, bundle_id: str, now: dt.datetime) -> dict[str, Any]:
        with self.cases.engine.connect() as conn:
            row = self._bundle_row(conn, bundle_id)
            parts = self.cases.bundle_parts(conn, bundle_id)
            summaries = [self.cases._summary(p, self.cases._materials(conn, p["id"]), now) for p in parts]
        bundle = self.definition(row["code"])
        after = {p.item: p.after for p in bundle.parts}
        names = {s["item"]: s["item_name"] for s in summaries}
        received_on = self.cases.local_date(row["received_at"])
        return {
            "id": row["id"],
            "code": row["code"],
            "name": bundle.name,
            "receipt_no": row["receipt_no"],
            "masked_name": row["masked_name"],
            "form": [{"label": f.label, "value": row["form"].get(f.key, "")} for f in bundle.fields],
            "received_window": row["received_window"],
            "received_at": _iso(row["received_at"]),
            "promised_days": bundle.promised_days,
            "promised_due": _iso(self.cases.calendar.add_working_days(received_on, bundle.promised_days)),
            "status_label": self._label(summaries),
            "ready_to_hand_out": self._ready(parts),
            "parts": [
                {
                    "case_id": s["id"],
                    "receipt_no": s["receipt_no"],
                    "item": s["item"],
                    "item_name": s["item_name"],
                    "department": s["department"],
                    "status": s["status"],
                    "status_label": s["status_label"],
                    "after": [names.get(a, a) for a in after.get(s["item"], [])],
                    "decide_due": s["deadlines"]["decide_due"],
                    "overdue": s["overdue"],
                }
                for s in summaries
            ],
        }

    def _ready(self, parts: list[dict[str, Any]]) -> bool:
        live = [p for p in parts if p["status"] != CaseStatus.abandoned.value]
        return bool(live) and all(self._may(p, CaseAction.ready) for p in live)

    @staticmethod
    def _label(parts: list[dict[str, Any]]) -> str:
        live = [p for p in parts if p["status"] != CaseStatus.abandoned.value]
        statuses = {p["status"] for p in live}
        if live and statuses <= DONE:
            return "已送达"
        if statuses == {CaseStatus.ready.value}:
            return "已办结，请到综合出件窗口领取"
        finished = sum(p["status"] in DONE | {"ready", "result_sent", "approved", "rejected"} for p in live)
        return f"办理中（{finished}/{len(live)} 项已办结）"

    def public_view(self, bundle_id: str, now: dt.datetime) -> dict[str, Any]:
        """The citizen's page: each part's state, the one promise, where to collect; a masked name only."""
        view = self.view(bundle_id, now)
        view.pop("id")
        view.pop("form")  # the shared fields may name a company or an address: the office's only
        for part in view["parts"]:
            part.pop("case_id")
        hall = self.cases.config.hall
        output = next((w.name for w in self.cases.config.windows if w.kind.value == "output"), "综合出件窗口")
        view["collect"] = {"where": f"{hall.name} {output}", "address": hall.address, "phone": hall.phone}
        return view
