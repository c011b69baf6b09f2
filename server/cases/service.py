"""Cases in the store: submissions at the kiosk, the office's actions, deadlines and the citizen's view.

Each operation is one transaction that writes the case row, its materials and a history line (who did
what, when). A submission stays a `draft` until `complete` turns it into a received case with a
收件编号 in one step, so a kiosk or dispatcher stopping midway never leaves a half-recorded case: the
draft can be resumed with its token, and `sweep` abandons drafts nobody came back to.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hallq.config import HallConfig, Item, Service, ServiceKind
from server.cases import tables as t
from server.cases.calendar import WorkingCalendar
from server.cases.uploads import FileStore, StoredFile, UploadRejected
from server.cases.workflow import (
    ACTION_LABELS,
    DESK_LABELS,
    DESK_OF_ACTION,
    OFFICE_ACTIONS,
    OPEN_STATUSES,
    STATUS_LABELS,
    WINDOW_ONLY,
    CaseAction,
    CaseStatus,
    Deadlines,
    IllegalCaseAction,
    MaterialStatus,
    deadlines,
    due_soon,
    handover_due,
    handover_late,
    missing_materials,
    next_status,
    next_steps,
    overdue_flags,
    receipt_number,
    refusal,
)
from server.pii import check_id_card, id_hash, mask_id_number, mask_name
from server.store.database import aware

SIGNATURE_INDEX = -1  # material i's signed 容缺 promise is case_files.idx -1 - i
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
_TRACKING = re.compile(r"^[A-Za-z0-9-]{6,40}$")
R = TypeVar("R")
Transition = Callable[[Connection, dict[str, Any], CaseAction, CaseStatus, str, dt.datetime], None]


class CaseError(Exception):
    """A request about a case that cannot be done; the message is for the citizen or clerk."""


class CaseNotFound(CaseError):
    pass


class CaseForbidden(CaseError):
    """This person may not take this step or see this case (403): another department's, another desk's."""


@dataclass(frozen=True)
class MaterialCheck:
    """One material as the window clerk checked it off at 收件."""

    idx: int
    status: MaterialStatus
    original_seen: bool = False
    promise_signed: bool = False  # 容缺: the citizen signed the paper promise


@dataclass(frozen=True)
class Agency:
    """代办: a village point's agent submits for the citizen, who signed the 代办委托书 (consent)."""

    point: str  # the 代办点, e.g. 白兔镇解塘村便民服务站
    agent_name: str  # kept masked
    consent_signed: bool


@dataclass(frozen=True)
class Actor:
    name: str  # "device:kiosk-1" or "user:clerk3"
    role: str  # kiosk / clerk / supervisor / admin / department
    department: str | None = None  # department staff: the department they work for
    window: str | None = None  # a clerk's login window


def _in_utc(method: Callable[..., R]) -> Callable[..., R]:
    """Store every time in UTC: SQLite keeps wall-clock text, so a local time would read back shifted."""
    position = list(inspect.signature(method).parameters).index("now")

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        if "now" in kwargs:
            kwargs["now"] = kwargs["now"].astimezone(dt.UTC)
        elif len(args) > position:
            args = (*args[:position], args[position].astimezone(dt.UTC), *args[position + 1 :])
        return method(*args, **kwargs)

    return wrapper


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class CaseService:
    def __init__(
        self,
        engine: Engine,
        config: HallConfig,
        files: FileStore,
        hmac_key: bytes,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.hall = config.hall.id
        self.files = files
        self.hmac_key = hmac_key
        self.calendar = calendar or WorkingCalendar(config.hall.holidays, config.hall.workdays)
        self._writer = threading.Lock()  # one writer per hall: receipt numbers stay gap-free and unique
        self._last_sweep: dt.datetime | None = None
        # Called inside the transaction of every status change (row before it, action, new status,
        # note, time): the network's forwarding writes its outbox there (server/network/forwarding.py).
        self.on_transition: list[Transition] = []

    # ---- look-ups ---------------------------------------------------------------------------------

    def item(self, code: str) -> tuple[Service, Item]:
        found = self.config.item(code)
        if found is None:
            raise CaseNotFound(f"没有办理事项 {code!r} — unknown service item")
        return found

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.config.hall.tz()).date()

    def _row(self, conn: Connection, case_id: str) -> dict[str, Any]:
        row = conn.execute(sa.select(t.cases).where(t.cases.c.hall == self.hall, t.cases.c.id == case_id)).mappings()
        found = row.first()
        if found is None:
            raise CaseNotFound(f"没有编号为 {case_id} 的办件 — no such case")
        return {k: aware(v) if isinstance(v, dt.datetime) else v for k, v in found.items()}

    def check_access(self, case_id: str, token: str | None) -> None:
        with self.engine.connect() as conn:
            row = self._row(conn, case_id)
        if not token or not secrets.compare_digest(row["access_sha256"], _sha(token)):
            raise CaseNotFound(f"没有编号为 {case_id} 的办件 — no such case")

    def find_by_receipt(self, receipt_no: str) -> str:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(t.cases.c.id).where(
                    t.cases.c.hall == self.hall,
                    t.cases.c.origin_hall == "",
                    t.cases.c.receipt_no == receipt_no.strip().upper(),
                )
            ).scalar()
        if found is None:
            raise CaseNotFound(f"没有收件编号为 {receipt_no} 的办件 — no such receipt")
        return str(found)

    # ---- submissions (kiosk) ------------------------------------------------------------------

    @_in_utc
    def start_submission(
        self,
        item_code: str,
        id_card: dict[str, str] | None,
        phone: str,
        actor: Actor,
        now: dt.datetime,
        channel: str = "kiosk",
    ) -> tuple[dict[str, Any], str]:
        """A draft case with the item's materials list; returns (view, access token for QR and resume)."""
        with self._writer, self.engine.begin() as conn:
            case_id, token = self._insert_draft(conn, item_code, id_card, phone, actor, now, channel)
        return self.view(case_id, now), token

    def _insert_draft(
        self,
        conn: Connection,
        item_code: str,
        id_card: dict[str, str] | None,
        phone: str,
        actor: Actor,
        now: dt.datetime,
        channel: str,
    ) -> tuple[str, str]:
        """Check the card and phone, then write the draft in the caller's transaction: (case id, token)."""
        service, item = self.item(item_code)
        identity = self._identity(id_card, self.local_date(now))
        phone = phone.strip().replace(" ", "")
        if phone and not _PHONE.match(phone):
            raise CaseError("请输入11位手机号码或带区号的固定电话 — enter a mobile or landline number")
        token = secrets.token_urlsafe(18)
        case_id = secrets.token_hex(8)
        conn.execute(
            t.cases.insert().values(
                hall=self.hall,
                id=case_id,
                item=item.code,
                service=service.code,
                status=CaseStatus.draft.value,
                channel=channel,
                device=actor.name,
                phone=phone,
                access_sha256=_sha(token),
                created_at=now,
                updated_at=now,
                **identity,
            )
        )
        conn.execute(
            t.case_materials.insert(),
            [
                {
                    "hall": self.hall,
                    "case_id": case_id,
                    "idx": i,
                    "name": m.name,
                    "form": m.form.value,
                    "copies": m.copies,
                    "deferrable": m.deferrable,
                    "status": MaterialStatus.missing.value,
                    "updated_at": now,
                }
                for i, m in enumerate(item.materials)
            ]
            or [],
        )
        self._history(conn, case_id, actor, "start", None, CaseStatus.draft, now, item.name)
        return case_id, token

    def _identity(self, id_card: dict[str, str] | None, today: dt.date) -> dict[str, Any]:
        if not id_card:
            raise CaseError("请先刷身份证以确认申请人 — swipe the applicant's ID card first")
        # the number's check character, and the card's birth date against the number's: a misread or
        # forged card is InvalidIdCard (422 with the sentence), never a case under a wrong identity
        number = check_id_card(id_card.get("id_number", ""), id_card.get("birth"), today).number
        return {
            "id_hash": id_hash(self.hmac_key, number),
            "masked_name": mask_name(id_card.get("name", "")),
            "masked_id": mask_id_number(number),
        }

    def _material(self, conn: Connection, case_id: str, idx: int) -> dict[str, Any]:
        row = (
            conn.execute(
                sa.select(t.case_materials).where(
                    t.case_materials.c.hall == self.hall,
                    t.case_materials.c.case_id == case_id,
                    t.case_materials.c.idx == idx,
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise CaseNotFound(f"该事项没有第 {idx + 1} 项材料 — no material {idx}")
        return dict(row)

    def _editable(self, row: dict[str, Any]) -> None:
        editable = (CaseStatus.draft.value, CaseStatus.correction.value, CaseStatus.prereview_fix.value)
        if row["status"] not in editable:
            label = STATUS_LABELS[CaseStatus(row["status"])]
            raise CaseError(
                f"办件状态为「{label}」，不能再提交材料 — materials can be added only before "
                "submitting or when a correction is requested"
            )

    @_in_utc
    def upload(self, case_id: str, idx: int, data: bytes, actor: Actor, now: dt.datetime) -> StoredFile:
        """Store one scanned material (a material may have several pages/files)."""
        with self.engine.connect() as conn:  # refuse before writing a file nobody will refer to
            self._editable(self._row(conn, case_id))
            self._material(conn, case_id, idx)
        stored = self.files.put(data)  # validates type and size; content-addressed, so safe to repeat
        with self._writer, self.engine.begin() as conn:
            row = self._row(conn, case_id)
            self._editable(row)
            material = self._material(conn, case_id, idx)
            self._attach(conn, case_id, idx, stored, now)
            self._set_material(conn, case_id, idx, MaterialStatus.provided, now)
            self._history(
                conn,
                case_id,
                actor,
                "upload",
                CaseStatus(row["status"]),
                CaseStatus(row["status"]),
                now,
                f"{material['name']} ({stored.size // 1024} KB)",
            )
        return stored

    def _attach(self, conn: Connection, case_id: str, idx: int, stored: StoredFile, now: dt.datetime) -> None:
        key = (
            t.case_files.c.hall == self.hall,
            t.case_files.c.case_id == case_id,
            t.case_files.c.idx == idx,
            t.case_files.c.sha256 == stored.sha256,
        )
        if conn.execute(sa.select(t.case_files.c.sha256).where(*key)).first() is None:
            conn.execute(
                t.case_files.insert().values(
                    hall=self.hall,
                    case_id=case_id,
                    idx=idx,
                    sha256=stored.sha256,
                    size=stored.size,
                    mime=stored.mime,
                    uploaded_at=now,
                )
            )

    @_in_utc
    def defer(self, case_id: str, idx: int, signature_png: bytes, actor: Actor, now: dt.datetime) -> None:
        """容缺受理: the citizen signs a promise on screen to supply the material later."""
        with self.engine.connect() as conn:
            self._editable(self._row(conn, case_id))
            if not self._material(conn, case_id, idx)["deferrable"]:
                raise CaseError("该材料不适用容缺受理，必须提交 — this material cannot be deferred")
        signature = self.files.put(signature_png)
        if signature.mime != "image/png":
            raise UploadRejected("签名应为 PNG 图片 — the signature must be a PNG image")
        with self._writer, self.engine.begin() as conn:
            row = self._row(conn, case_id)
            self._editable(row)
            material = self._material(conn, case_id, idx)
            if not material["deferrable"]:
                raise CaseError(f"「{material['name']}」不适用容缺受理，必须提交 — this material cannot be deferred")
            self._attach(conn, case_id, SIGNATURE_INDEX - idx, signature, now)
            self._set_material(conn, case_id, idx, MaterialStatus.deferred, now, signature.sha256)
            self._history(
                conn,
                case_id,
                actor,
                "defer",
                CaseStatus(row["status"]),
                CaseStatus(row["status"]),
                now,
                f"{material['name']}：签署容缺承诺",
            )

    @_in_utc
    def set_locker(self, case_id: str, slot: str, actor: Actor, now: dt.datetime) -> None:
        with self._writer, self.engine.begin() as conn:
            row = self._row(conn, case_id)
            self._editable(row)
            conn.execute(
                t.cases.update()
                .where(t.cases.c.hall == self.hall, t.cases.c.id == case_id)
                .values(locker_slot=slot, updated_at=now)
            )
            self._history(
                conn,
                case_id,
                actor,
                "locker",
                CaseStatus(row["status"]),
                CaseStatus(row["status"]),
                now,
                f"纸质原件存入 {slot} 号柜",
            )

    @_in_utc
    def complete(self, case_id: str, actor: Actor, now: dt.datetime, *, at_window: bool = False) -> dict[str, Any]:
        """收件: the draft becomes a received case with a receipt number. Repeating it changes nothing. A
        pre-reviewed case is received only at a window, where its originals are seen (`at_window`)."""
        with self._writer, self.engine.begin() as conn:
            self._complete_in(conn, case_id, actor, now, at_window=at_window)
            return self.view(case_id, now, conn=conn)

    def _complete_in(self, conn: Connection, case_id: str, actor: Actor, now: dt.datetime, *, at_window: bool) -> None:
        """收件 in the caller's transaction (nothing to do for a case already received)."""
        row = self._row(conn, case_id)
        status = CaseStatus(row["status"])
        if status == CaseStatus.prereviewed and not at_window:
            raise CaseError("预审通过的办件请携带原件到窗口收件 — bring the originals to a window")
        if status != CaseStatus.draft:
            if row["receipt_no"]:
                return
            next_status(status, CaseAction.complete)
        self._require_materials(conn, case_id)
        day = self.local_date(now)
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.cases)
            .where(
                t.cases.c.hall == self.hall,
                t.cases.c.origin_hall == "",  # a case forwarded here keeps its own hall's number
                t.cases.c.receipt_no.like(f"SJ{day:%Y%m%d}%"),
            )
        ).scalar_one()
        conn.execute(
            t.cases.update()
            .where(t.cases.c.hall == self.hall, t.cases.c.id == case_id)
            .values(
                status=CaseStatus.received.value,
                receipt_no=receipt_number(day, int(count) + 1),
                received_at=now,
                updated_at=now,
            )
        )
        self._history(conn, case_id, actor, CaseAction.complete.value, status, CaseStatus.received, now, "")

    def _require_materials(self, conn: Connection, case_id: str) -> None:
        rows = conn.execute(
            sa.select(t.case_materials.c.name, t.case_materials.c.status).where(
                t.case_materials.c.hall == self.hall, t.case_materials.c.case_id == case_id
            )
        ).all()
        missing = missing_materials([(r.name, MaterialStatus(r.status)) for r in rows])
        if missing:
            raise CaseError(
                "还缺少材料：" + "、".join(missing) + "（请扫描提交，或对可容缺材料签署承诺） — materials missing"
            )

    @_in_utc
    def abandon(self, case_id: str, actor: Actor, now: dt.datetime) -> None:
        with self._writer, self.engine.begin() as conn:
            row = self._row(conn, case_id)
            self._transition(conn, row, CaseAction.abandon, actor, now, "")

    @_in_utc
    def resubmit(self, case_id: str, actor: Actor, now: dt.datetime) -> dict[str, Any]:
        """补正提交: the citizen answered the correction notice; the case is received again."""
        with self._writer, self.engine.begin() as conn:
            row = self._row(conn, case_id)
            if CaseStatus(row["status"]) == CaseStatus.received:
                return self.view(case_id, now, conn=conn)
            self._require_materials(conn, case_id)
            self._transition(conn, row, CaseAction.resubmit, actor, now, "", received_at=now)
            return self.view(case_id, now, conn=conn)

    # ---- the office ---------------------------------------------------------------------------

    @_in_utc
    def act(
        self,
        case_id: str,
        action: CaseAction,
        actor: Actor,
        now: dt.datetime,
        *,
        note: str = "",
        materials: list[int] | None = None,
        tracking_no: str = "",
    ) -> dict[str, Any]:
        if action not in OFFICE_ACTIONS:
            raise CaseError(f"「{ACTION_LABELS[action]}」由申请人在自助终端完成 — not an office action")
        return self._act(case_id, action, actor, now, note, materials or [], tracking_no, authorize=True)

    def _act(
        self,
        case_id: str,
        action: CaseAction,
        actor: Actor,
        now: dt.datetime,
        note: str,
        materials: list[int],
        tracking_no: str,
        *,
        authorize: bool,
    ) -> dict[str, Any]:
        """One step; `authorize` False only for a 即办件 the window does start to end in one go."""
        note = note.strip()[:500]
        with self._writer, self.engine.begin() as conn:
            row = self._row(conn, case_id)
            if authorize:
                self._authorize(row, action, actor)
                self._require_hand_overs(row, action)
            next_status(CaseStatus(row["status"]), action)  # refuse before any write
            values = self._action_values(conn, case_id, action, now, note, materials, tracking_no)
            self._transition(conn, row, action, actor, now, values.pop("_note", note), **values)
            if row["bundle_id"] and action in (CaseAction.approve, CaseAction.reject):
                self._after_decision(conn, row, action, now)
            return self.view(case_id, now, conn=conn)

    def _after_decision(self, conn: Connection, row: dict[str, Any], action: CaseAction, now: dt.datetime) -> None:
        """一件事: a part decided releases the parts that wait for it once all they wait for are approved,
        or, refused, ends them (前置 → 后置)."""
        parts = self.bundle_parts(conn, row["bundle_id"])
        bundle = self.config.bundle(self.bundle_code(conn, row["bundle_id"]))
        if bundle is None:
            return
        after = {p.item: p.after for p in bundle.parts}
        system = Actor("system:bundle", "system")
        _, decided = self.item(row["item"])
        for part in parts:
            if part["status"] != CaseStatus.pending.value or row["item"] not in after.get(part["item"], []):
                continue
            if action == CaseAction.reject:
                note = f"前置事项「{decided.name}」不予批准，本事项不再办理"
                self._transition(conn, part, CaseAction.abandon, system, now, note)
                continue
            approved = {p["item"] for p in parts if p["decision"] == CaseStatus.approved.value} | {row["item"]}
            if set(after[part["item"]]) <= approved:
                note = f"前置事项「{decided.name}」已准予"
                self._transition(conn, part, CaseAction.release, system, now, note, received_at=now)

    def bundle_parts(self, conn: Connection, bundle_id: str) -> list[dict[str, Any]]:
        ids = conn.execute(
            sa.select(t.cases.c.id)
            .where(t.cases.c.hall == self.hall, t.cases.c.bundle_id == bundle_id)
            .order_by(t.cases.c.receipt_no)
        )
        return [self._row(conn, r.id) for r in ids]

    def bundle_code(self, conn: Connection, bundle_id: str) -> str:
        return str(
            conn.execute(
                sa.select(t.bundles.c.code).where(t.bundles.c.hall == self.hall, t.bundles.c.id == bundle_id)
            ).scalar_one()
        )

    def department_of(self, row: dict[str, Any]) -> str:
        service, _ = self.item(row["item"])
        return service.department

    def back_office(self, row: dict[str, Any]) -> bool:
        """Whether the case's department accepts and decides it behind the window."""
        return self.config.has_back_office(self.department_of(row))

    def _authorize(self, row: dict[str, Any], action: CaseAction, actor: Actor) -> None:
        reason = refusal(
            action,
            role=actor.role,
            own_department=actor.department,
            case_department=self.department_of(row),
            back_office=self.back_office(row),
        )
        if reason:
            raise CaseForbidden(f"{reason} — not yours to {action.value}")

    def check_visible(self, case_id: str, actor: Actor) -> None:
        """A department's staff see their department's cases only (403 for another's)."""
        if actor.role != "department":
            return
        with self.engine.connect() as conn:
            department = self.department_of(self._row(conn, case_id))
        if department != actor.department:
            raise CaseForbidden(
                f"该办件属于{department}，不是本部门（{actor.department}）的办件 — another department's case"
            )

    def _require_hand_overs(self, row: dict[str, Any], action: CaseAction) -> None:
        if row["bundle_id"] and action in (CaseAction.ready, CaseAction.post, CaseAction.deliver):
            raise CaseError("一件事的结果在出件窗口一次出件：请在「一件事」中办理 — hand a bundle out as one")
        self._require_sheets(row, action)

    def _require_sheets(self, row: dict[str, Any], action: CaseAction) -> None:
        """Behind the window paper and results move on sheets: a department accepts paper received at
        a window once it signed for it; the output window hands out a result the department handed over."""
        if not self.back_office(row):
            return
        paper = row["channel"] == "window" or row["locker_slot"]
        if action in (CaseAction.accept, CaseAction.correct) and paper and row["handed_over_at"] is None:
            raise CaseError("纸质材料尚未交接签收，请先在《材料交接表》上签收 — sign for the paper first")
        if (CaseStatus(row["status"]), action) in WINDOW_ONLY:
            if action == CaseAction.archive:
                raise CaseError("送达回执须先交回部门，再由部门归档 — return the 送达回执 first")
            raise CaseError("结果须由部门以《办理结果交接表》移交出件窗口 — the department hands the result over first")

    def _action_values(
        self,
        conn: Connection,
        case_id: str,
        action: CaseAction,
        now: dt.datetime,
        note: str,
        materials: list[int],
        tracking_no: str,
    ) -> dict[str, Any]:
        if action == CaseAction.accept:
            return {"accepted_at": now}
        if action in (CaseAction.correct, CaseAction.fix_prereview):
            return self._correction(conn, case_id, now, note, materials)
        if action == CaseAction.pass_prereview:
            return {"prereviewed_at": now, "correction": None}
        if action in (CaseAction.approve, CaseAction.reject):
            if action == CaseAction.reject and not note:
                raise CaseError("不予批准须写明理由 — a rejection needs its reason")
            decision = CaseStatus.approved if action == CaseAction.approve else CaseStatus.rejected
            return {"decided_at": now, "decision_note": note, "decision": decision.value}
        if action == CaseAction.ready:
            return {"output_at": now, "delivery": "window"}
        if action == CaseAction.post:
            if not _TRACKING.match(tracking_no.strip()):
                raise CaseError("请填写邮件单号（6-40位字母数字） — enter the postal tracking number")
            return {
                "output_at": now,
                "delivery": "post",
                "tracking_no": tracking_no.strip(),
                "_note": f"邮件单号 {tracking_no.strip()}",
            }
        return self._later_values(action, now, note)

    @staticmethod
    def _later_values(action: CaseAction, now: dt.datetime, note: str) -> dict[str, Any]:
        """After the decision: the result's hand-over, its delivery, the 送达回执, the archive."""
        if action == CaseAction.send_result:
            return {"result_sent_at": now}
        if action == CaseAction.refuse_result:
            if not note:
                raise CaseError("退回结果须写明问题（如证照信息与办件不符） — say what is wrong with the result")
            return {"result_refused_at": now}
        if action == CaseAction.deliver:
            return {"delivered_at": now}
        if action == CaseAction.return_receipt:
            return {"receipt_returned_at": now}
        return {"archived_at": now}

    def _correction(
        self, conn: Connection, case_id: str, now: dt.datetime, note: str, materials: list[int]
    ) -> dict[str, Any]:
        """补齐补正告知: name every material to supply again, once (一次性告知)."""
        if not materials:
            raise CaseError("请勾选需要补正的材料 — select the materials to correct")
        names = []
        for idx in sorted(set(materials)):
            material = self._material(conn, case_id, idx)
            names.append(material["name"])
            self._set_material(conn, case_id, idx, MaterialStatus.missing, now)
        return {
            "correction": {"note": note, "materials": names, "at": now.isoformat()},
            "_note": "需补正：" + "、".join(names) + (f"（{note}）" if note else ""),
        }

    @_in_utc
    def instant_case(
        self, item_code: str, id_card: dict[str, str] | None, window: str, actor: Actor, now: dt.datetime
    ) -> dict[str, Any]:
        """即办件 accepted at a comprehensive window: received, accepted, approved and delivered at once."""
        service, item = self.item(item_code)
        if item.kind != ServiceKind.instant:
            raise CaseError(f"「{item.name}」是承诺件，请按收件、受理流程办理 — not an instant item")
        view, _ = self.start_submission(item_code, id_card, "", actor, now, channel="window")
        case_id = view["id"]
        with self._writer, self.engine.begin() as conn:
            conn.execute(
                t.case_materials.update()
                .where(t.case_materials.c.hall == self.hall, t.case_materials.c.case_id == case_id)
                .values(status=MaterialStatus.provided.value, updated_at=now)
            )
        self.complete(case_id, actor, now)
        for action in (CaseAction.accept, CaseAction.approve, CaseAction.ready, CaseAction.deliver):
            self._act(case_id, action, actor, now, f"{window}号窗口即办", [], "", authorize=False)
        return self._act(case_id, CaseAction.archive, actor, now, "", [], "", authorize=False)

    @_in_utc
    def submit_online(self, case_id: str, actor: Actor, now: dt.datetime) -> dict[str, Any]:
        """网上预审: the phone sends the materials for the department to review (again after a fix)."""
        with self._writer, self.engine.begin() as conn:
            row = self._row(conn, case_id)
            if row["status"] == CaseStatus.prereview.value:
                return self.view(case_id, now, conn=conn)  # sent twice: once is enough
            next_status(CaseStatus(row["status"]), CaseAction.submit_online)
            self._require_materials(conn, case_id)
            rounds = (row["prereview_rounds"] or 0) + 1
            self._transition(
                conn,
                row,
                CaseAction.submit_online,
                actor,
                now,
                f"第{rounds}次提交",
                prereview_at=now,
                prereview_rounds=rounds,
            )
            return self.view(case_id, now, conn=conn)

    @_in_utc
    def receive_prereviewed(
        self, case_id: str, window: str, checks: list[MaterialCheck], actor: Actor, now: dt.datetime
    ) -> dict[str, Any]:
        """The citizen brings the paper of a pre-reviewed case; the window sees the originals and receives it."""
        found = self.config.window(window)
        if found is None or found.kind.value == "output":
            raise CaseError(f"{window} 号窗口不是收件窗口 — not a receiving window")
        with self.engine.connect() as conn:
            row = self._row(conn, case_id)
        if row["status"] != CaseStatus.prereviewed.value:
            raise IllegalCaseAction(CaseAction.complete, CaseStatus(row["status"]))
        statuses, note = self._checked(self.item(row["item"])[1], checks)
        with self._writer, self.engine.begin() as conn:
            for idx, status in statuses.items():
                self._set_material(conn, case_id, idx, status, now)
            conn.execute(
                t.cases.update()
                .where(t.cases.c.hall == self.hall, t.cases.c.id == case_id)
                .values(received_window=window, channel="window", updated_at=now)
            )
            passed = CaseStatus.prereviewed
            self._history(conn, case_id, actor, "check", passed, passed, now, "预审通过件：" + note)
        return self.complete(case_id, actor, now, at_window=True)

    @_in_utc
    def intake(
        self,
        item_code: str,
        id_card: dict[str, str] | None,
        phone: str,
        window: str,
        checks: list[MaterialCheck],
        actor: Actor,
        now: dt.datetime,
        agency: Agency | None = None,
    ) -> tuple[dict[str, Any], str]:
        """收件 at a comprehensive window: the clerk checked each material against the handbook (originals
        seen, 容缺 promises signed on paper); the case is received at once. With `agency` a village
        point's agent submits for the citizen (代办). Returns (view, access key)."""
        self.receiving_window(window)
        _, item = self.item(item_code)
        statuses, note = self._checked(item, checks)
        agent = self._agency(agency, now)
        with self._writer, self.engine.begin() as conn:
            case_id, token = self._intake_in(conn, item_code, id_card, phone, window, statuses, note, actor, now, agent)
            return self.view(case_id, now, conn=conn), token

    def receiving_window(self, window: str) -> None:
        found = self.config.window(window)
        if found is None or found.kind.value == "output":
            raise CaseError(f"{window} 号窗口不是收件窗口 — not a receiving window")

    def _intake_in(
        self,
        conn: Connection,
        item_code: str,
        id_card: dict[str, str] | None,
        phone: str,
        window: str,
        statuses: dict[int, MaterialStatus],
        note: str,
        actor: Actor,
        now: dt.datetime,
        agent: dict[str, Any] | None = None,
    ) -> tuple[str, str]:
        """The window's 收件 in the caller's transaction, the materials already checked: (case id, token)."""
        case_id, token = self._insert_draft(conn, item_code, id_card, phone, actor, now, "window")
        for idx, status in statuses.items():
            self._set_material(conn, case_id, idx, status, now)
        conn.execute(
            t.cases.update()
            .where(t.cases.c.hall == self.hall, t.cases.c.id == case_id)
            .values(received_window=window, agency=agent, updated_at=now)
        )
        self._history(conn, case_id, actor, "check", CaseStatus.draft, CaseStatus.draft, now, note)
        if agent:
            line = f"{agent['point']} 代办员{agent['agent']}代为申报，申请人已签代办委托书"
            self._history(conn, case_id, actor, "agency", CaseStatus.draft, CaseStatus.draft, now, line)
        self._complete_in(conn, case_id, actor, now, at_window=True)
        return case_id, token

    @staticmethod
    def _agency(agency: Agency | None, now: dt.datetime) -> dict[str, Any] | None:
        """代办 needs the citizen's signed consent (代办委托书) and names the point and the agent (masked)."""
        if agency is None:
            return None
        problems = [] if agency.consent_signed else ["须由申请人签署代办委托书"]
        problems += [] if agency.point.strip() else ["请填写代办点"]
        problems += [] if agency.agent_name.strip() else ["请填写代办员"]
        if problems:
            raise CaseError("；".join(problems) + " — agency needs the citizen's consent, the point and the agent")
        return {
            "point": agency.point.strip()[:40],
            "agent": mask_name(agency.agent_name.strip()),
            "consent_at": now.isoformat(),
        }

    @staticmethod
    def _checked(item: Item, checks: list[MaterialCheck]) -> tuple[dict[int, MaterialStatus], str]:
        """Every material of the handbook ticked: provided (an original seen), or deferred under a signed
        容缺 promise. All problems are named at once."""
        by_idx = {c.idx: c for c in checks}
        statuses: dict[int, MaterialStatus] = {}
        problems: list[str] = []
        seen: list[str] = []
        deferred: list[str] = []
        for idx, material in enumerate(item.materials):
            check = by_idx.get(idx)
            if check is None or check.status == MaterialStatus.missing:
                problems.append(f"「{material.name}」未收")
            elif check.status == MaterialStatus.deferred and not (material.deferrable and check.promise_signed):
                why = "须签署容缺承诺书" if material.deferrable else "不适用容缺"
                problems.append(f"「{material.name}」{why}")
            elif (
                check.status == MaterialStatus.provided
                and material.form.value == "original"
                and not check.original_seen
            ):
                problems.append(f"「{material.name}」须核验原件")
            else:
                statuses[idx] = check.status
                (deferred if check.status == MaterialStatus.deferred else seen).append(material.name)
        unknown = sorted(set(by_idx) - set(range(len(item.materials))))
        problems += [f"该事项没有第 {i + 1} 项材料" for i in unknown]
        if problems:
            raise CaseError("；".join(problems) + " — materials not checked off")
        note = "窗口核验材料：" + "、".join(seen) + (f"；容缺（已签承诺书）：{'、'.join(deferred)}" if deferred else "")
        return statuses, note

    def _transition(
        self,
        conn: Connection,
        row: dict[str, Any],
        action: CaseAction,
        actor: Actor,
        now: dt.datetime,
        note: str,
        **values: Any,
    ) -> None:
        before = CaseStatus(row["status"])
        after = next_status(before, action)
        conn.execute(
            t.cases.update()
            .where(t.cases.c.hall == self.hall, t.cases.c.id == row["id"])
            .values(status=after.value, updated_at=now, **values)
        )
        self._history(conn, row["id"], actor, action.value, before, after, now, note)
        for hook in self.on_transition:
            hook(conn, row, action, after, note, now)

    def _set_material(
        self,
        conn: Connection,
        case_id: str,
        idx: int,
        status: MaterialStatus,
        now: dt.datetime,
        signature: str | None = None,
    ) -> None:
        conn.execute(
            t.case_materials.update()
            .where(
                t.case_materials.c.hall == self.hall,
                t.case_materials.c.case_id == case_id,
                t.case_materials.c.idx == idx,
            )
            .values(status=status.value, signature_sha256=signature, updated_at=now)
        )

    def _history(
        self,
        conn: Connection,
        case_id: str,
        actor: Actor,
        action: str,
        before: CaseStatus | None,
        after: CaseStatus,
        now: dt.datetime,
        note: str,
    ) -> None:
        conn.execute(
            t.case_history.insert().values(
                hall=self.hall,
                case_id=case_id,
                at=now,
                actor=actor.name,
                role=actor.role,
                action=action,
                from_status=before.value if before else None,
                to_status=after.value,
                note=note[:500],
            )
        )

    # ---- views --------------------------------------------------------------------------------

    def deadlines_of(self, row: dict[str, Any], has_deferred: bool) -> Deadlines:
        _, item = self.item(row["item"])
        received = row["received_at"]
        accepted = row["accepted_at"]
        behind = self.back_office(row)
        status = CaseStatus(row["status"])
        # shown while they run: a refused result until it is handed over again, the 送达回执 until returned
        refused = row.get("result_refused_at") if behind and status == CaseStatus.result_refused else None
        delivered = row.get("delivered_at") if behind and status == CaseStatus.delivered else None
        rules = self.config.back_office
        return deadlines(
            self.calendar,
            received_on=self.local_date(received) if received else None,
            accepted_on=self.local_date(accepted) if accepted else None,
            promised_days=item.promised_days if item.kind == ServiceKind.promised else 0,
            defer_days=item.defer_days,
            has_deferred=has_deferred,
            # shown while they run: a refused result until it is handed over again, the 送达回执 until returned
            refused_on=self.local_date(refused) if behind and refused and status == CaseStatus.result_refused else None,
            delivered_on=self.local_date(delivered)
            if behind and delivered and status == CaseStatus.delivered
            else None,
            result_fix_days=rules.result_fix_days,
            receipt_days=rules.receipt_return_days,
            prereview_on=self.local_date(row["prereview_at"]) if row.get("prereview_at") else None,
        )

    def paper_due(self, row: dict[str, Any]) -> dt.datetime | None:
        """By when the case's paper must reach its department (None: no paper, or decided at the window)."""
        paper = row["channel"] == "window" or row["locker_slot"]
        if not (paper and row["received_at"] and self.back_office(row)):
            return None
        rules = self.config.back_office
        local = row["received_at"].astimezone(self.config.hall.tz())
        return handover_due(
            self.calendar,
            local,
            noon=rules.noon,
            morning_by=rules.morning_handover_by,
            afternoon_by=rules.afternoon_handover_by,
        )

    def _back_office_summary(self, row: dict[str, Any], status: CaseStatus, now: dt.datetime) -> dict[str, Any]:
        due = self.paper_due(row)
        signed = row.get("handed_over_at")
        late = due is not None and handover_late(due, signed, now)
        pending = next_steps(status, self.back_office(row))
        desks = sorted({DESK_OF_ACTION[a] for a in pending}, key=list(DESK_LABELS).index)
        return {
            "back_office": self.back_office(row),
            "bundle_id": row.get("bundle_id"),
            "agency": row.get("agency"),
            "received_window": row.get("received_window"),
            "decision": row.get("decision"),
            "handover": {"due_at": _iso(due), "signed_at": _iso(signed), "late": late} if due else None,
            "next_desk": [DESK_LABELS[d] for d in desks],
            "next_actions": [
                {"action": a.value, "label": ACTION_LABELS[a], "desk": DESK_OF_ACTION[a].value} for a in pending
            ],
        }

    def view(
        self,
        case_id: str,
        now: dt.datetime,
        *,
        conn: Connection | None = None,
        staff: bool = False,
        history: bool = True,
    ) -> dict[str, Any]:
        if conn is None:
            with self.engine.connect() as own:
                return self.view(case_id, now, conn=own, staff=staff, history=history)
        row = self._row(conn, case_id)
        materials = self._materials(conn, case_id)
        summary = self._summary(row, materials, now)
        summary["materials"] = materials
        summary["phone"] = row["phone"] if staff else mask_phone(row["phone"]) if row["phone"] else ""
        if history:
            summary["history"] = self._history_of(conn, case_id)
        return summary

    def _materials(self, conn: Connection, case_id: str) -> list[dict[str, Any]]:
        files: dict[int, list[dict[str, Any]]] = {}
        for f in conn.execute(
            sa.select(t.case_files).where(t.case_files.c.hall == self.hall, t.case_files.c.case_id == case_id)
        ).mappings():
            files.setdefault(f["idx"], []).append({"sha256": f["sha256"], "size": f["size"], "mime": f["mime"]})
        rows = conn.execute(
            sa.select(t.case_materials)
            .where(t.case_materials.c.hall == self.hall, t.case_materials.c.case_id == case_id)
            .order_by(t.case_materials.c.idx)
        ).mappings()
        return [
            {
                "idx": m["idx"],
                "name": m["name"],
                "form": m["form"],
                "copies": m["copies"],
                "deferrable": m["deferrable"],
                "status": m["status"],
                "files": files.get(m["idx"], []),
                "signed": m["signature_sha256"] is not None,
            }
            for m in rows
        ]

    def _summary(self, row: dict[str, Any], materials: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
        service, item = self.item(row["item"])
        status = CaseStatus(row["status"])
        has_deferred = any(m["status"] == MaterialStatus.deferred.value for m in materials)
        due = self.deadlines_of(row, has_deferred)
        today = self.local_date(now)
        return {
            "id": row["id"],
            "receipt_no": row["receipt_no"],
            "item": item.code,
            "item_name": item.name,
            "service": service.code,
            "service_name": service.name,
            "department": service.department,
            "kind": item.kind.value,
            "promised_days": item.promised_days,
            "status": status.value,
            "status_label": STATUS_LABELS[status],
            "channel": row["channel"],
            "masked_name": row["masked_name"],
            "masked_id": row["masked_id"],
            "locker_slot": row["locker_slot"],
            "delivery": row["delivery"],
            "tracking_no": row["tracking_no"],
            "correction": row["correction"],
            "decision_note": row["decision_note"],
            "times": {
                k: _iso(row[k])
                for k in (
                    "created_at",
                    "received_at",
                    "accepted_at",
                    "decided_at",
                    "output_at",
                    "delivered_at",
                    "archived_at",
                    "handed_over_at",
                    "result_sent_at",
                    "result_refused_at",
                    "receipt_returned_at",
                    "prereview_at",
                    "prereviewed_at",
                )
            },
            "deadlines": {
                "accept_due": _iso(due.accept_due),
                "decide_due": _iso(due.decide_due),
                "deferred_due": _iso(due.deferred_due),
                "result_fix_due": _iso(due.result_fix_due),
                "receipt_due": _iso(due.receipt_due),
                "prereview_due": _iso(due.prereview_due) if status == CaseStatus.prereview else None,
            },
            "prereview_rounds": row.get("prereview_rounds") or 0,
            "overdue": overdue_flags(status, due, today, has_deferred)
            + (["handover"] if self._paper_late(row, now) else []),
            "due_soon": due_soon(status, due, today, self.calendar),
            **self._back_office_summary(row, status, now),
        }

    def _paper_late(self, row: dict[str, Any], now: dt.datetime) -> bool:
        """Open and its paper not signed for by the deadline (a late signature stays on the sheet)."""
        due = self.paper_due(row)
        return due is not None and row.get("handed_over_at") is None and now > due

    def _history_of(self, conn: Connection, case_id: str) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(t.case_history)
            .where(t.case_history.c.hall == self.hall, t.case_history.c.case_id == case_id)
            .order_by(t.case_history.c.id)
        ).mappings()
        return [
            {
                "at": _iso(r["at"]),
                "actor": r["actor"],
                "role": r["role"],
                "action": r["action"],
                "label": _action_label(r["action"]),
                "from": r["from_status"],
                "to": r["to_status"],
                "note": r["note"],
            }
            for r in rows
        ]

    def list_cases(
        self,
        now: dt.datetime,
        *,
        status: str | None = None,
        flag: str | None = None,
        limit: int = 200,
        department: str | None = None,
    ) -> list[dict[str, Any]]:
        """The office's lists: by status, or `overdue` / `due_soon` over every open case; a department's
        staff see their department's only."""
        query = sa.select(t.cases).where(t.cases.c.hall == self.hall)
        if department is not None:
            codes = [s.code for s in self.config.services if s.department == department]
            query = query.where(t.cases.c.service.in_(codes))
        if status:
            query = query.where(t.cases.c.status == CaseStatus(status).value)
        elif flag:
            # delivered: its 送达回执 can be late; prereview: the department's 2 working days
            watched = [*OPEN_STATUSES, CaseStatus.delivered, CaseStatus.prereview]
            query = query.where(t.cases.c.status.in_([s.value for s in watched]))
        else:
            query = query.where(t.cases.c.status != CaseStatus.draft.value)
        out = []
        with self.engine.connect() as conn:
            for row in conn.execute(query.order_by(t.cases.c.received_at.desc()).limit(5000)).mappings():
                summary = self._summary(dict(row), self._materials(conn, row["id"]), now)
                if flag == "overdue" and not summary["overdue"] or flag == "due_soon" and not summary["due_soon"]:
                    continue
                out.append(summary)
                if len(out) >= limit:
                    break
        return out

    def rating_facts(self, case_id: str) -> dict[str, Any]:
        """What 一事一评 records of the case: receipt number, item, status, when it was delivered, who
        accepted it (the clerk's username), and the contact phone that makes the rating 实名."""
        with self.engine.connect() as conn:
            row = self._row(conn, case_id)
            accepted_by = conn.execute(
                sa.select(t.case_history.c.actor)
                .where(
                    t.case_history.c.hall == self.hall,
                    t.case_history.c.case_id == case_id,
                    t.case_history.c.action == CaseAction.accept.value,
                )
                .order_by(t.case_history.c.id.desc())
            ).scalar()
        service, item = self.item(row["item"])
        status = CaseStatus(row["status"])
        return {
            "receipt_no": row["receipt_no"] or case_id,
            "item": item.code,
            "item_name": item.name,
            "service": service.code,
            "status": status.value,
            "status_label": STATUS_LABELS[status],
            "delivered": status in (CaseStatus.delivered, CaseStatus.archived),
            "delivered_at": row["delivered_at"] or row["archived_at"],
            "clerk": accepted_by.split(":", 1)[-1] if accepted_by and accepted_by.startswith("user:") else None,
            "phone": row["phone"],
        }

    def public_view(self, case_id: str, now: dt.datetime) -> dict[str, Any]:
        """What the citizen's phone page shows: status, what is missing, where to collect; a masked name only."""
        view = self.view(case_id, now, history=True)
        hall = self.config.hall
        keep = (
            "receipt_no",
            "item_name",
            "department",
            "kind",
            "promised_days",
            "status",
            "status_label",
            "masked_name",
            "delivery",
            "tracking_no",
            "correction",
            "decision_note",
            "times",
            "deadlines",
            "overdue",
            "agency",
        )
        public = {k: view[k] for k in keep}
        public["materials"] = [{"name": m["name"], "status": m["status"]} for m in view["materials"]]
        public["history"] = [
            {"at": h["at"], "label": h["label"]}
            for h in view["history"]
            if h["action"] not in ("upload", "defer", "locker", "start")
        ]
        output_window = next((w.name for w in self.config.windows if w.kind.value == "output"), "综合出件窗口")
        public["collect"] = {"where": f"{hall.name} {output_window}", "address": hall.address, "phone": hall.phone}
        public["elsewhere"] = None  # 转报: the route names the deciding hall (server/network/forwarding.py)
        return public

    def sweep_if_due(self, now: dt.datetime, every: dt.timedelta = dt.timedelta(hours=1)) -> None:
        if self._last_sweep is None or now - self._last_sweep >= every:
            self._last_sweep = now
            self.sweep(now)

    @_in_utc
    def sweep(self, now: dt.datetime, max_draft_age: dt.timedelta = dt.timedelta(hours=24)) -> tuple[int, int]:
        """Abandon drafts nobody resumed, then delete files that no case refers to."""
        cutoff = now - max_draft_age
        with self._writer, self.engine.begin() as conn:
            stale = (
                conn.execute(
                    sa.select(t.cases).where(
                        t.cases.c.hall == self.hall,
                        t.cases.c.status == CaseStatus.draft.value,
                        t.cases.c.updated_at < cutoff,
                    )
                )
                .mappings()
                .all()
            )
            for row in stale:
                self._transition(
                    conn,
                    {**row},
                    CaseAction.abandon,
                    Actor("system:sweeper", "system"),
                    now,
                    "超过24小时未完成，自动放弃",
                )
                conn.execute(
                    t.case_files.delete().where(t.case_files.c.hall == self.hall, t.case_files.c.case_id == row["id"])
                )
            referenced = {r[0] for r in conn.execute(sa.select(t.case_files.c.sha256))}
        return len(stale), self.files.remove_unreferenced(referenced)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _action_label(action: str) -> str:
    extra = {
        "start": "开始填写",
        "upload": "提交材料",
        "defer": "容缺承诺",
        "locker": "存入原件",
        "check": "窗口核验材料",
        "agency": "代办",
        "handover": "材料交接签收",
    }
    try:
        return ACTION_LABELS[CaseAction(action)]
    except ValueError:
        return extra.get(action, action)
