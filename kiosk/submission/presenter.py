"""The 24-hour submission flow in plain Python (no Kivy), beside the kiosk's own presenter.

    handbook → item (what to bring) → ID card → phone → [draft created] → each material: scan pages
    or 容缺 + signature → locker (optional) → confirm → complete → 收件通知书 printed and shown

and the correction (补正) path opened by scanning a receipt's QR. The draft's id and access key live in
a state file until the case is received, so a restart offers to resume or abandon it; requests that
cannot reach the dispatcher are retried with a message; a citizen who walks away is asked "您还在吗？"
before the draft is abandoned. Slow work goes through `Tasks`; device callbacks arrive through `post`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from hallq.case_models import (
    CaseMaterial,
    CaseReceipt,
    CaseView,
    Handbook,
    HandbookItemAnswer,
    StoredFile,
    SubmissionStarted,
)
from hallq.client import DispatcherRefused, DispatcherUnreachable
from hallq.worker import Backoff
from kiosk.api import DispatcherClient
from kiosk.devices import PAPER_OUT, PrintOutcome
from kiosk.identity import CardIdentity
from kiosk.submission.devices import LockerPort, Receipt, ReceiptPrinter
from kiosk.submission.documents import DocumentSource, Page
from kiosk.submission.signature import Stroke, is_signed, signature_png
from kiosk.submission.state import Draft, DraftStore
from kiosk.submission.views import (
    FORM_LABELS,
    KIND_LABELS,
    SUBMISSION_VIEWS,
    CardView,
    ConfirmLine,
    ConfirmView,
    HandbookEntry,
    HandbookGroup,
    HandbookView,
    ItemView,
    LockerView,
    MaterialLine,
    MaterialView,
    PhoneView,
    ReceiptView,
    SignView,
    SubMessageView,
)
from kiosk.tasks import Cancel, Tasks
from kiosk.views import BusyView

log = logging.getLogger(__name__)

CARD_HINT = "未能读取身份证，请将身份证平放在读卡区，保持不动"
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$")
OFFLINE = "暂时无法连接服务器，正在自动重试（已重试{n}次）。\n已提交的材料保存在服务器上，不会丢失。"
Post = Callable[[Callable[[], None]], None]


class Host(Protocol):
    """What the submission flow needs from the kiosk's main presenter (kiosk/presenter.py)."""

    hall: Any
    citizen: CardIdentity | None
    current: Any

    def show_view(self, view: Any, speak: bool = True) -> None: ...

    def choose_service(self, code: str) -> None: ...

    def go_home(self) -> None: ...


@dataclass(frozen=True)
class SubmissionOptions:
    idle_timeout_s: float = 60.0  # filling in a case takes longer than taking a ticket
    still_there_s: float = 30.0  # how long "您还在吗？" waits before abandoning
    retry_s: float = 3.0
    locker_poll_s: float = 1.0


def parse_case_url(text: str) -> tuple[str, str] | None:
    """(case_id, access) from a receipt QR (`…/c/{hall}/{case_id}?k=KEY`), or None."""
    url = urlparse(text.strip())
    parts = [p for p in url.path.split("/") if p]
    access = parse_qs(url.query).get("k", [""])[0]
    if len(parts) >= 3 and parts[-3] == "c" and access:
        return parts[-1], access
    return None


def polite(detail: str) -> str:
    """The dispatcher's sentence for the citizen: its Chinese part, ended with a full stop."""
    sentence = detail.split(" — ")[0].strip()
    return sentence if sentence.endswith(("。", "！", "？", "）")) else sentence + "。"


class SubmissionPresenter:
    def __init__(
        self,
        host: Host,
        client: DispatcherClient,
        tasks: Tasks,
        post: Post,
        *,
        printer: ReceiptPrinter | None,
        documents: DocumentSource | None,
        locker: LockerPort | None,
        drafts: DraftStore | None,
        options: SubmissionOptions | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host, self.client, self.tasks, self._post = host, client, tasks, post
        self.printer, self.documents, self.locker, self.drafts = printer, documents, locker, drafts
        self.options = options or SubmissionOptions()
        self._now = monotonic
        self.draft: Draft | None = None
        self.case: CaseView | None = None  # the dispatcher's latest view of the draft or case
        self.item: HandbookItemAnswer | None = None
        self.citizen: CardIdentity | None = None
        self.phone = ""
        self.mode = "submit"
        self.order: list[int] = []  # material indexes of this pass (all, or those to correct)
        self.pos = 0
        self.locker_slot = ""
        self.receipt: ReceiptView | None = None
        self.busy = False
        self._back_to: Any = None  # where 返回 / 继续办理 goes
        self._asked_at: float | None = None
        self._last = monotonic()
        self._retry: Cancel | None = None
        self._locker_poll: Cancel | None = None
        self._attempts = 0
        self._watching = False
        self._previews: dict[int, Page] = {}  # last uploaded page per material, in memory for this citizen only

    # -- the host's hooks --------------------------------------------------------------------------
    def owns(self, view: Any) -> bool:
        return isinstance(view, SUBMISSION_VIEWS) or (self.busy and isinstance(view, BusyView))

    def activity(self) -> None:
        self._last = self._now()

    def start(self) -> None:
        """At kiosk start: an unfinished submission in the state file is offered for resuming."""
        self.draft = self.drafts.load() if self.drafts else None
        if self.draft is None:
            return
        draft = self.draft
        log.info("unfinished %s %s found at start", draft.mode, draft.case_id)
        self.tasks.run(
            lambda: self.client.submission(draft.case_id, draft.access),
            self._restored,
            lambda exc: self._restore_failed(draft, exc),
        )

    def _restored(self, case: CaseView) -> None:
        self.case = case
        if not self._offer_resume(case) and self.owns(self.host.current):
            self.host.go_home()

    def _restore_failed(self, draft: Draft, exc: Exception) -> None:
        if isinstance(exc, DispatcherRefused) and exc.status == 404:  # swept or abandoned elsewhere: nothing to resume
            self._forget_draft()
            return
        log.warning(
            "unfinished submission %s not checked yet (%s); offered when the handbook opens", draft.case_id, exc
        )

    def card_read(self, card: CardIdentity) -> None:
        self.activity()
        if isinstance(self.host.current, CardView | PhoneView | ItemView) and self.draft is None:
            self.citizen = card
            self._show_phone()

    def card_failed(self, reason: str) -> None:
        self.activity()
        log.info("card read failed during a submission: %s", reason)
        current = self.host.current
        if isinstance(current, CardView):
            self._show(replace(current, error=CARD_HINT, speech=CARD_HINT))

    def scanned(self, text: str) -> bool:
        """A QR at the scanner: a receipt's QR opens its case (corrections); anything else is not ours."""
        found = parse_case_url(text)
        if found is None:
            return False
        self.activity()
        if self.busy:
            return True
        case_id, access = found
        self._call(
            lambda: self.client.submission(case_id, access),
            lambda case: self._opened(case_id, access, case),
            "正在查询办件…",
            refused=self._case_refused,
        )
        return True

    def left(self) -> None:
        """The kiosk went home while this flow was not on screen (the citizen tapped away and left):
        a draft in progress is abandoned, as the idle question would have done."""
        if self.draft is not None and not self.owns(self.host.current):
            self._abandon_quietly()

    def tick(self) -> None:
        """Every second while a submission screen shows: ask, then give up, when nobody touches it."""
        if self.busy:
            return
        now = self._now()
        if self._asked_at is not None:
            if now - self._asked_at >= self.options.still_there_s:
                log.info("nobody answered 您还在吗: the submission is abandoned")
                self._asked_at = None
                self._abandon_quietly()
                self.host.go_home()
            return
        if now - self._last < self.options.idle_timeout_s:
            return
        if self._in_progress():
            self._back_to = self.host.current
            self._asked_at = now
            self._show(
                SubMessageView(
                    title="您还在吗？",
                    text=f"如需继续办理，请点击“继续办理”。\n{int(self.options.still_there_s)}秒内无操作，"
                    "本次申报将被取消，已扫描的材料将被删除。",
                    actions=(("继续办理", "continue"), ("放弃申报", "abandon")),
                    kind="question",
                    speech="您还在吗？如需继续办理，请点击继续办理",
                )
            )
        else:
            self._leave()

    def _in_progress(self) -> bool:
        return self.draft is not None and not isinstance(self.host.current, ReceiptView)

    # -- handbook ----------------------------------------------------------------------------------
    def open_handbook(self) -> None:
        self.activity()
        if self.draft is not None and self.case is not None and self._offer_resume(self.case):
            return
        if self.draft is not None:  # found at start but not checked yet (dispatcher was away)
            draft = self.draft
            self._call(
                lambda: self.client.submission(draft.case_id, draft.access),
                self._checked_then_handbook,
                "正在查询上次未完成的申报…",
                refused=self._draft_gone,
            )
            return
        self._call(self.client.handbook, self._show_handbook, "正在打开办事指南…")

    def _checked_then_handbook(self, case: CaseView) -> None:
        self.case = case
        if not self._offer_resume(case):
            self.open_handbook()

    def _draft_gone(self, exc: DispatcherRefused) -> None:
        self._forget_draft()
        self.open_handbook()

    def _show_handbook(self, book: Handbook) -> None:
        groups = tuple(
            HandbookGroup(
                s.code,
                s.name,
                s.department,
                tuple(HandbookEntry(i.code, i.name, KIND_LABELS.get(i.kind, "")) for i in s.items),
            )
            for s in book.services
            if s.items
        )
        self._show(HandbookView(groups=groups))

    def choose_item(self, code: str) -> None:
        self.activity()
        self._call(lambda: self.client.handbook_item(code), self._show_item, "正在读取办事指南…")

    def _show_item(self, item: HandbookItemAnswer) -> None:
        self.item = item
        self._show(self._item_view(item))

    def _item_view(self, item: HandbookItemAnswer) -> ItemView:
        days = item.promised_days
        promise = f"承诺受理后 {days} 个工作日内办结" if item.kind == "promised" else "即办件：材料齐全当场办结"
        materials = tuple(
            MaterialLine(m.name, FORM_LABELS.get(m.form, ""), m.copies, m.deferrable) for m in item.materials
        )
        hall_service = self.host.hall.service(item.service.code) if self.host.hall else None
        names = "、".join(m.name for m in materials)
        return ItemView(
            code=item.code,
            name=item.name,
            service_code=item.service.code,
            service_name=item.service.name,
            kind_label=KIND_LABELS.get(item.kind, item.kind),
            promise=promise,
            fee=item.fee or "不收费",
            conditions=item.conditions,
            legal_basis=item.legal_basis,
            materials=materials,
            defer_days=item.defer_days,
            ticket_open=bool(hall_service.open_now) if hall_service else False,
            speech=f"{item.name}。需要准备：{names}",
        )

    def take_ticket(self) -> None:
        """From the handbook to the queue: a ticket for the item's service (the main presenter's flow)."""
        self.activity()
        if self.item and self.item.service.code:
            self.host.choose_service(self.item.service.code)

    def back_to_handbook(self) -> None:
        self.activity()
        self.open_handbook()

    # -- identity and phone ------------------------------------------------------------------------
    def begin(self) -> None:
        """自助申报 on the item's page: a card first (one swiped on the home screen counts)."""
        self.activity()
        if self.item is None:
            return
        if self.draft is not None:  # one submission at a time: the unfinished one is resumed or abandoned first
            self.open_handbook()
            return
        self.mode, self.phone, self.locker_slot = "submit", "", ""
        self.citizen = self.host.citizen
        if self.citizen is None:
            self._show(CardView(item_name=self.item.name))
        else:
            self._show_phone()

    def _show_phone(self, error: str = "") -> None:
        if self.item is None or self.citizen is None:
            return
        self._show(
            PhoneView(
                item_name=self.item.name,
                masked_name=self.citizen.masked,
                entry=self.phone,
                error=error,
                speech=error or PhoneView.speech,
            ),
            speak=True,
        )

    def phone_key(self, key: str) -> None:
        self.activity()
        if key == "back":
            self.phone = self.phone[:-1]
        elif key == "clear":
            self.phone = ""
        elif key.isdigit() and len(self.phone) < 12:
            self.phone += key
        self._show_phone()

    def phone_done(self) -> None:
        self.activity()
        if not PHONE.match(self.phone):
            self._show_phone("请输入11位手机号码（或带区号的固定电话），用于接收办理进度通知")
            return
        item, citizen, phone = self.item, self.citizen, self.phone
        if item is None or citizen is None:
            return
        self._call(
            lambda: self.client.start_submission(item.code, citizen, phone),
            self._started,
            "正在建立申报…",
            refused=lambda exc: self._show_phone(polite(exc.detail)),
        )

    def _started(self, case: SubmissionStarted) -> None:
        assert self.item is not None
        self.draft = Draft(case_id=case.id, access=case.access, mode="submit", item_name=self.item.name)
        if self.drafts:
            self.drafts.save(self.draft)
        self.citizen = None  # the dispatcher has what it needs; the kiosk forgets the card data now
        self.case = case
        self.order = [m.idx for m in case.materials]
        self.pos = 0
        self._next_step_or_material()

    # -- materials -----------------------------------------------------------------------------------
    def _material(self, idx: int) -> CaseMaterial:
        assert self.case is not None
        return self.case.material(idx)

    def _pages(self, material: CaseMaterial) -> int:
        return len(material.files) if material.status == "provided" else 0

    def _material_view(self, uploading: bool = False, error: str = "") -> MaterialView:
        assert self.case is not None
        m = self._material(self.order[self.pos])
        correction = self.case.correction if self.mode == "correct" else None
        hint = self.documents.hint if self.documents else "本机未连接扫描仪，请到窗口提交材料"
        form = FORM_LABELS.get(m.form, "")
        preview = self._previews.get(m.idx) if m.status == "provided" else None
        return MaterialView(
            item_name=self.case.item_name,
            index=self.pos,
            count=len(self.order),
            idx=m.idx,
            name=m.name,
            form=form,
            copies=m.copies,
            deferrable=m.deferrable and self.mode == "submit",  # a correction asks for the paper
            status=m.status,
            pages=self._pages(m),
            hint=hint,
            can_request=bool(self.documents and self.documents.can_request),
            uploading=uploading,
            error=error,
            preview=preview.data if preview and preview.mime != "application/pdf" else b"",
            preview_pdf=bool(preview and preview.mime == "application/pdf"),
            correction=self.mode == "correct",
            note=correction.note if correction else "",
            speech=error or f"第{self.pos + 1}项材料：{m.name}，{form}。{hint}",
        )

    def _show_material(self, uploading: bool = False, error: str = "") -> None:
        self._watch_documents(True)
        self._show(self._material_view(uploading, error), speak=not uploading)

    def _watch_documents(self, on: bool) -> None:
        if self.documents is None or on == self._watching:
            return
        self._watching = on
        if on:
            self.documents.start(
                lambda page: self._post(lambda: self.page_arrived(page)),
                lambda reason: self._post(lambda: self.page_failed(reason)),
            )
        else:
            self.documents.stop()

    def scan_page(self) -> None:
        self.activity()
        if self.documents is not None and isinstance(self.host.current, MaterialView):
            self.documents.request(self.host.current.name)

    def page_arrived(self, page: Page) -> None:
        """A scanned page (UI thread): uploaded at once to the material on screen."""
        self.activity()
        current = self.host.current
        if not isinstance(current, MaterialView) or self.draft is None:
            log.info("a scanned page arrived with no material on screen: dropped")
            return
        draft, idx = self.draft, current.idx
        self._show_material(uploading=True)
        self.busy = True
        self.tasks.run(
            lambda: self.client.upload_material(draft.case_id, draft.access, idx, page.data, page.mime),
            lambda stored: self._uploaded(idx, stored, page),
            self._upload_failed,
        )

    def _uploaded(self, idx: int, stored: StoredFile, page: Page) -> None:
        self.busy = False
        self._previews[idx] = page
        material = self._material(idx)  # as the dispatcher now has it: one more page (the same page once)
        files = [f for f in material.files if f.sha256 != stored.sha256]
        material.files = [*files, stored] if material.status == "provided" else [stored]
        material.status = "provided"
        if isinstance(self.host.current, MaterialView):
            self._show_material()

    def _upload_failed(self, exc: Exception) -> None:
        self.busy = False
        if isinstance(exc, DispatcherRefused):
            error = polite(exc.detail)
        elif isinstance(exc, DispatcherUnreachable):
            error = "网络连接中断，这一页没有上传成功，请稍后重新扫描这一页。"
        else:
            log.exception("upload failed", exc_info=exc)
            error = "这一页没有上传成功，请重新扫描。"
        if isinstance(self.host.current, MaterialView):
            self._show_material(error=error)

    def page_failed(self, reason: str) -> None:
        if isinstance(self.host.current, MaterialView):
            self._show_material(error=reason)

    def next_material(self) -> None:
        self.activity()
        if not self.order:
            return
        if self._material(self.order[self.pos]).status == "missing":
            self._show_material(
                error="请先扫描这份材料"
                + ("，或选择容缺承诺后补" if self._material(self.order[self.pos]).deferrable else "")
            )
            return
        self.pos += 1
        self._next_step_or_material()

    def previous_material(self) -> None:
        self.activity()
        self.pos = max(0, self.pos - 1)
        self._show_material()

    def _next_step_or_material(self) -> None:
        if self.pos < len(self.order):
            self._show_material()
            return
        self._watch_documents(False)
        if self.mode == "submit" and self.locker is not None and not self.locker_slot:
            self._show(
                LockerView(
                    state="offer",
                    text="如有纸质原件需要交给工作人员，可存入自助文件柜，工作人员上班后取出核验。",
                    demo=self.locker.demo,
                    speech="是否需要把纸质原件存入文件柜？",
                )
            )
        else:
            self._show_confirm()

    # -- 容缺 and the signature ------------------------------------------------------------------
    def defer_material(self) -> None:
        self.activity()
        current = self.host.current
        if not isinstance(current, MaterialView) or not current.deferrable:
            return
        days = self.item.defer_days if self.item else 5
        promise = (
            f"本人承诺：「{current.name}」暂缺，将在受理之日起{days}个工作日内补交。"
            "逾期未补交的，同意按撤回申请处理，并承担相应责任。"
        )
        self._back_to = current
        self._show(SignView(material_name=current.name, promise=promise, speech=promise + "请在下方签名"))

    def sign_cancel(self) -> None:
        self.activity()
        self._show_material()

    def sign_done(self, strokes: Sequence[Stroke], size: tuple[float, float]) -> None:
        self.activity()
        current = self.host.current
        if not isinstance(current, SignView) or self.draft is None:
            return
        if not is_signed(strokes):
            self._show(replace(current, error="请用手指在框内签上您的姓名", speech="请在框内签名"))
            return
        png = signature_png(strokes, size)
        draft, idx = self.draft, self.order[self.pos]
        self._call(
            lambda: self.client.defer_material(draft.case_id, draft.access, idx, png),
            self._deferred,
            "正在保存容缺承诺…",
            refused=lambda exc: self._show(replace(current, error=polite(exc.detail))),
        )

    def _deferred(self, case: CaseView) -> None:
        self.case = case
        self.pos += 1
        self._next_step_or_material()

    # -- locker --------------------------------------------------------------------------------------
    def use_locker(self) -> None:
        self.activity()
        locker = self.locker
        if locker is None:
            return
        self._call(locker.free_slot, self._slot_found, "正在打开文件柜…")

    def _slot_found(self, slot: int | None) -> None:
        if slot is None or self.locker is None:
            self._show(
                LockerView(
                    state="unavailable",
                    text="文件柜暂无空格。请在工作时间把原件交到综合受理窗口，或继续提交（原件可在领取结果时出示）。",
                )
            )
            return
        locker = self.locker
        self._call(lambda: locker.open(slot), lambda _none: self._locker_opened(slot), "正在打开文件柜…")

    def _locker_opened(self, slot: int) -> None:
        assert self.locker is not None
        self._show(
            LockerView(
                state="open",
                slot=str(slot),
                demo=self.locker.demo,
                text=f"{slot}号柜门已打开。请放入纸质原件，然后关好柜门。",
                speech=f"{slot}号柜门已打开，请放入原件后关好柜门",
            )
        )
        self._locker_poll = self.tasks.later(self.options.locker_poll_s, lambda: self._poll_locker(slot))

    def _poll_locker(self, slot: int) -> None:
        locker = self.locker
        if locker is None or not isinstance(self.host.current, LockerView) or self.host.current.state != "open":
            return

        def checked(closed: bool) -> None:
            if not closed:
                self._locker_poll = self.tasks.later(self.options.locker_poll_s, lambda: self._poll_locker(slot))
                return
            draft = self.draft
            assert draft is not None
            self._call(
                lambda: self.client.set_locker(draft.case_id, draft.access, str(slot)),
                lambda _r: self._locker_recorded(str(slot)),
                "正在登记文件柜…",
            )

        def failed(exc: Exception) -> None:
            log.warning("locker status failed: %s", exc)
            self._locker_poll = self.tasks.later(self.options.locker_poll_s * 3, lambda: self._poll_locker(slot))

        self.tasks.run(lambda: locker.is_closed(slot), checked, failed)

    def _locker_recorded(self, slot: str) -> None:
        self.locker_slot = slot
        self._show_confirm()

    def demo_close_locker(self) -> None:
        current = self.host.current
        if self.locker is not None and isinstance(current, LockerView) and current.slot:
            self.locker.demo_close(int(current.slot))

    def skip_locker(self) -> None:
        self.activity()
        self._show_confirm()

    # -- confirm and complete ----------------------------------------------------------------------
    def _show_confirm(self) -> None:
        assert self.case is not None
        lines = []
        for idx in self.order if self.mode == "correct" else [m.idx for m in self.case.materials]:
            m = self._material(idx)
            state = {"provided": f"已扫描 {self._pages(m)} 页", "deferred": "容缺（已签署承诺）"}.get(
                m.status, "尚未提交"
            )
            lines.append(ConfirmLine(m.name, state, m.status != "missing"))
        self._show(
            ConfirmView(
                item_name=self.case.item_name,
                masked_name=self.case.masked_name,
                phone=self.case.phone,
                lines=tuple(lines),
                locker=self.locker_slot,
                correction=self.mode == "correct",
            )
        )

    def edit(self) -> None:
        self.activity()
        self.pos = 0
        self._show_material()

    def confirm(self) -> None:
        self.activity()
        draft = self.draft
        if draft is None:
            return
        if self.mode == "correct":
            self._call(
                lambda: self.client.resubmit(draft.case_id, draft.access),
                self._received,
                "正在提交补正材料…",
                refused=self._confirm_refused,
            )
        else:
            self._call(
                lambda: self.client.complete_submission(draft.case_id, draft.access),
                self._received,
                "正在提交申报…",
                refused=self._confirm_refused,
            )

    def _confirm_refused(self, exc: DispatcherRefused) -> None:
        self._show(
            SubMessageView(
                title="暂时不能提交",
                text=polite(exc.detail),
                actions=(("返回修改", "edit"), ("放弃申报", "abandon")),
                kind="refused",
            )
        )

    def _received(self, case: CaseReceipt) -> None:
        """收件 done (or 补正 answered): the state file goes, the receipt is shown and printed."""
        correction = self.mode == "correct"
        self._forget_draft()
        self.case = case
        received = tuple(m.name for m in case.materials if m.status == "provided")
        deferred = tuple(m.name for m in case.materials if m.status == "deferred")
        due = case.deadlines
        deadlines = []
        if due.deferred_due and deferred:
            deadlines.append(f"容缺材料补交期限：{due.deferred_due.isoformat()}前")
        if due.accept_due:
            deadlines.append(f"受理（或一次性告知补正）期限：{due.accept_due.isoformat()}前")
        if case.kind == "promised":
            deadlines.append(f"承诺时限：受理后 {case.promised_days} 个工作日内办结")
        view = ReceiptView(
            receipt_no=case.receipt_no or "",
            item_name=case.item_name,
            masked_name=case.masked_name,
            received=received,
            deferred=deferred,
            deadlines=tuple(deadlines),
            qr=case.status_url,
            title="补正材料已提交" if correction else "收件通知书",
            speech=("补正材料已提交" if correction else "申报已提交") + "，请取走收件通知书",
        )
        self.receipt = view
        self._show(view)
        self._print(view, case)

    def _print(self, view: ReceiptView, case: CaseReceipt) -> None:
        if self.printer is None:
            self._printed(view, PrintOutcome(False, "no_answer", "no printer"))
            return
        hall = self.host.hall
        zone = ZoneInfo(hall.timezone if hall else "Asia/Shanghai")
        received_at = case.times.received_at
        receipt = Receipt(
            hall_name=hall.name if hall else "政务服务中心",
            receipt_no=view.receipt_no,
            item_name=view.item_name,
            masked_name=view.masked_name,
            received_at=received_at.astimezone(zone) if received_at else dt.datetime.now(zone),
            received=view.received,
            deferred=view.deferred,
            supplement_by=case.deadlines.deferred_due,
            promised_by=case.deadlines.decide_due,
            status_url=view.qr,
        )
        printer = self.printer
        self.tasks.run(
            lambda: printer.print_receipt(receipt),
            lambda outcome: self._printed(view, outcome),
            lambda exc: self._printed(view, PrintOutcome(False, "no_answer", str(exc))),
        )

    def _printed(self, view: ReceiptView, outcome: PrintOutcome) -> None:
        if outcome.printed:
            done = replace(
                view, printing=False, printed=True, print_message="请取走收件通知书并妥善保管，扫码可随时查看办理进度"
            )
        else:
            reason = "打印机缺纸" if outcome.paper == PAPER_OUT else "打印机暂时无法打印"
            log.warning("receipt %s not printed: %s", view.receipt_no, outcome.error)
            done = replace(
                view,
                printing=False,
                printed=False,
                print_message=f"{reason}，未能打印收件通知书。您的申报已成功提交（收件编号 "
                f"{view.receipt_no}），不会丢失；请用手机拍下本页保存。",
            )
        self.receipt = done
        if isinstance(self.host.current, ReceiptView) and self.host.current.receipt_no == view.receipt_no:
            self._show(done, speak=False)

    # -- corrections (补正) from the receipt's QR ---------------------------------------------------
    def _opened(self, case_id: str, access: str, case: CaseView) -> None:
        self.case = case
        status = case.status
        if status == "draft":
            self.draft = Draft(case_id, access, "submit", case.item_name)
            self._offer_resume(case)
            return
        if status != "correction":
            self._show(
                SubMessageView(
                    title=f"办件状态：{case.status_label or status}",
                    text=f"收件编号：{case.receipt_no or ''}\n办理事项：{case.item_name}\n"
                    "目前不需要补正材料。办理进度请用手机扫描收件通知书上的二维码查看。",
                )
            )
            return
        self.draft = Draft(case_id, access, "correct", case.item_name)
        if self.drafts:
            self.drafts.save(self.draft)
        self._show(self._correction_notice(case))

    def _correction_notice(self, case: CaseView) -> SubMessageView:
        correction = case.correction
        named = correction.materials if correction else []
        names = list(named or [m.name for m in case.materials if m.status == "missing"])
        lines = "\n".join(f"{i}. {n}" for i, n in enumerate(names, start=1))
        note = f"\n说明：{correction.note}" if correction and correction.note else ""
        return SubMessageView(
            title="补齐补正告知",
            text=f"收件编号：{case.receipt_no}\n办理事项：{case.item_name}\n请补交以下材料：\n{lines}{note}",
            actions=(("开始补正", "correct"), ("返回首页", "home")),
            kind="info",
            speech="补齐补正告知。请补交：" + "、".join(names),
        )

    def _case_refused(self, exc: DispatcherRefused) -> None:
        text = (
            "未找到该办件。请扫描收件通知书上的二维码，或咨询大厅工作人员。"
            if exc.status == 404
            else polite(exc.detail)
        )
        self._show(SubMessageView(title="无法打开办件", text=text, kind="refused"))

    def start_correction(self) -> None:
        self.activity()
        if self.case is None or self.draft is None:
            return
        self.mode = "correct"
        self.order = [m.idx for m in self.case.materials if m.status == "missing"]
        self.pos = 0
        self._next_step_or_material()

    # -- resume, abandon, idle -------------------------------------------------------------------------
    def _offer_resume(self, case: CaseView) -> bool:
        """Show 继续 / 放弃 for an unfinished draft or correction; a case received meanwhile shows its
        receipt (complete went through just before the kiosk stopped). False if nothing to resume."""
        draft = self.draft
        if draft is None:
            return False
        status = case.status
        if draft.mode == "submit" and status == "received":  # repeating complete returns the same case
            self._call(
                lambda: self.client.complete_submission(draft.case_id, draft.access),
                self._received,
                "正在取回收件通知书…",
            )
            return True
        if (draft.mode, status) not in (("submit", "draft"), ("correct", "correction")):
            self._forget_draft()
            return False
        done = sum(1 for m in case.materials if m.status != "missing")
        what = "申报" if draft.mode == "submit" else "补正"
        self._show(
            SubMessageView(
                title=f"有一份未完成的{what}",
                text=f"事项：{case.item_name}\n申请人：{case.masked_name}\n"
                f"已提交材料 {done} / {len(case.materials)} 项。\n继续办理，还是放弃？",
                actions=(("继续办理", "resume"), ("放弃" + what, "abandon")),
                kind="question",
                speech=f"有一份未完成的{what}，请选择继续办理或放弃",
            )
        )
        return True

    def resume(self) -> None:
        self.activity()
        if self.draft is None or self.case is None:
            return
        self.mode = self.draft.mode
        materials = self.case.materials
        if self.mode == "correct":
            self.order = [m.idx for m in materials if m.status == "missing"]
        else:
            self.order = [m.idx for m in materials]
        missing = [i for i, idx in enumerate(self.order) if self._material(idx).status == "missing"]
        self.pos = missing[0] if missing else len(self.order)
        self.locker_slot = self.case.locker_slot or ""
        code = self.case.item

        def item_loaded(item: HandbookItemAnswer) -> None:
            self.item = item
            self._next_step_or_material()

        self._call(lambda: self.client.handbook_item(code), item_loaded, "正在恢复…")

    def abandon(self) -> None:
        """The citizen gives up: a draft is deleted (its files go with it); a correction stays as it was."""
        self.activity()
        draft = self.draft
        if draft is None:
            self._leave()
            return
        if draft.mode != "submit":
            self._forget_draft()
            self._leave()
            return
        self._call(
            lambda: self.client.abandon_submission(draft.case_id, draft.access),
            self._abandoned,
            "正在取消申报…",
            refused=lambda _exc: self._abandoned(None),
        )

    def _abandoned(self, _result: Any) -> None:
        self._forget_draft()
        self._leave()

    def _abandon_quietly(self) -> None:
        draft = self.draft
        self._watch_documents(False)
        if draft is None:
            return
        self.draft = None
        if draft.mode != "submit":
            self._forget_draft()
            return

        def gone(_result: Any) -> None:
            if self.draft is None and self.drafts:
                self.drafts.clear()

        def failed(exc: Exception) -> None:  # unreachable: kept in the state file, offered at the next start
            log.warning("abandoning %s failed: %s", draft.case_id, exc)
            if isinstance(exc, DispatcherRefused) and self.draft is None and self.drafts:
                self.drafts.clear()

        self.tasks.run(lambda: self.client.abandon_submission(draft.case_id, draft.access), gone, failed)

    def _forget_draft(self) -> None:
        self.draft = None
        if self.drafts:
            self.drafts.clear()

    def _leave(self) -> None:
        self._watch_documents(False)
        self._cancel_timers()
        self.citizen, self.item, self.phone, self.order, self.pos = None, None, "", [], 0
        self._previews.clear()
        self._asked_at = None
        self.host.go_home()

    def _cancel_timers(self) -> None:
        for cancel in (self._retry, self._locker_poll):
            if cancel:
                cancel()
        self._retry = self._locker_poll = None

    def stop(self) -> None:
        self._cancel_timers()
        self._watch_documents(False)

    # -- buttons of SubMessageView ------------------------------------------------------------------
    def action(self, name: str) -> None:
        self.activity()
        if name == "continue":
            self._asked_at = None
            self._show(self._back_to or self._material_view())
        elif name == "abandon":
            self._asked_at = None
            self.abandon()
        elif name == "resume":
            self.resume()
        elif name == "correct":
            self.start_correction()
        elif name == "edit":
            self.edit()
        elif name == "back" and self._back_to is not None:
            self._show(self._back_to)
        elif name == "cancel_retry" and self._back_to is not None:
            self._cancel_timers()
            self._show(self._back_to)
        elif name == "home" and self._in_progress():
            self._back_to = self.host.current if not isinstance(self.host.current, SubMessageView) else self._back_to
            self._show(
                SubMessageView(
                    title="返回首页？",
                    text="返回首页将放弃本次办理，已扫描的材料将被删除。",
                    actions=(("继续办理", "continue"), ("放弃并返回首页", "abandon")),
                    kind="question",
                )
            )
        else:
            self._leave()

    def done(self) -> None:
        """完成 on the receipt."""
        self.activity()
        self.receipt = None
        self._leave()

    # -- plumbing ----------------------------------------------------------------------------------
    def _show(self, view: Any, speak: bool = True) -> None:
        if not isinstance(view, SubMessageView | BusyView):
            self._back_to = view
        self.host.show_view(view, speak)

    def _call(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        busy_text: str,
        *,
        refused: Callable[[DispatcherRefused], None] | None = None,
    ) -> None:
        """One request with a busy screen; an unreachable dispatcher is retried every `retry_s` with a
        message (the citizen may cancel); a refusal becomes a polite sentence."""
        self._retry = None
        self.busy = True
        self._show(BusyView(text=busy_text), speak=False)

        def ok(result: Any) -> None:
            self.busy = False
            self._attempts = 0
            done(result)

        def failed(exc: Exception) -> None:
            self.busy = False
            if isinstance(exc, DispatcherUnreachable):
                self._attempts += 1
                log.warning("submission request failed (attempt %d), retrying: %s", self._attempts, exc)
                self._show(
                    SubMessageView(
                        title="网络连接中断",
                        text=OFFLINE.format(n=self._attempts),
                        actions=(("取消", "cancel_retry"),),
                        kind="offline",
                        speech="网络连接中断，正在自动重试",
                    ),
                    speak=self._attempts == 1,
                )
                delay = Backoff((self.options.retry_s,)).delay(self._attempts)
                self._retry = self.tasks.later(delay, lambda: self._call(work, done, busy_text, refused=refused))
                return
            self._attempts = 0
            if isinstance(exc, DispatcherRefused):
                if refused is not None:
                    refused(exc)
                    return
                self._show(
                    SubMessageView(
                        title="抱歉，暂时不能办理",
                        text=polite(exc.detail),
                        actions=(("返回", "back"), ("返回首页", "home")),
                        kind="refused",
                    )
                )
                return
            log.exception("submission request failed", exc_info=exc)
            self._show(
                SubMessageView(
                    title="抱歉，系统出现问题",
                    text="请稍后再试，或联系大厅工作人员。",
                    actions=(("返回", "back"), ("返回首页", "home")),
                    kind="refused",
                )
            )

        self.tasks.run(work, ok, failed)
