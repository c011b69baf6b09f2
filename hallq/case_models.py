"""The bodies and answers of the case endpoints a kiosk uses (docs/cases.md): the handbook
(标准化手册), one item of it, the submission / case view, an upload and the locker, as pydantic
models defined once.

They match the JSON `server/api/cases.py` and `server/cases/service.py` send today, field for field;
like `hallq.api_models` they ignore unknown fields. A case view holds a masked name and a masked ID
number only (DESIGN.md section 7). Times are aware datetimes, written back as the dispatcher writes
them (`hallq.api_models.Timestamp`); deadlines are dates (working days).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from hallq.api_models import AnswerModel, Body, IdCard, Timestamp

ItemKind = Literal["instant", "promised"]
MaterialForm = Literal["original", "copy"]
MaterialStatus = Literal["missing", "provided", "deferred"]
CaseStatus = Literal[
    "draft",
    "received",
    "correction",
    "accepted",
    "approved",
    "rejected",
    "ready",
    "posted",
    "delivered",
    "archived",
    "abandoned",
    "forwarded",
    "result_sent",
    "result_refused",
    "receipt_returned",
    "pending",
    "prereview",
    "prereview_fix",
    "prereviewed",
]
HandoverKind = Literal["materials", "results"]


# ---- bodies -------------------------------------------------------------------------------------


class SubmissionBody(Body):
    """POST /halls/{hall}/submissions: a kiosk starts a 24-hour submission for the card's holder."""

    item: str = Field(min_length=1, max_length=48)
    id_card: IdCard
    phone: str = Field("", max_length=20)


class LockerBody(Body):
    slot: str = Field(pattern=r"^[A-Za-z0-9-]{1,8}$")


# a material's number as the database stores it (a 32-bit integer): larger is a 422, never a 500
MaterialNumber = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class ActionBody(Body):
    """POST …/cases/{id}/actions/{action}: the office's step (受理, 补正, 办结 …) with its note."""

    note: str = Field("", max_length=500)
    materials: list[MaterialNumber] = Field(default_factory=list, max_length=50)
    tracking_no: str = Field("", max_length=40)


class MaterialCheckBody(Body):
    """One material as the window clerk checked it off against the handbook at 收件."""

    idx: MaterialNumber
    status: Literal["provided", "deferred"]
    original_seen: bool = False
    promise_signed: bool = Field(False, description="容缺: the citizen signed the paper promise")


class AgencyBody(Body):
    """代办: a village point's agent submits for the citizen, who signed the 代办委托书."""

    point: str = Field(min_length=1, max_length=40)
    agent_name: str = Field(min_length=1, max_length=40)
    consent_signed: bool = False


class IntakeBody(Body):
    """POST …/cases/intake: 收件 at a comprehensive window, every material checked off; `agency` when a
    village point's agent submits for the citizen."""

    item: str = Field(min_length=1, max_length=48)
    id_card: IdCard
    phone: str = Field("", max_length=20)
    window: str = Field(min_length=1, max_length=16)
    materials: list[MaterialCheckBody] = Field(default_factory=list, max_length=50)
    agency: AgencyBody | None = None


class HandoverBody(Body):
    """POST …/handovers: a 《材料交接表》 (the window's paper for a department) or a 《办理结果交接表》
    (a department's results for the output window)."""

    kind: HandoverKind
    department: str = Field(min_length=1, max_length=24)
    window: str | None = Field(None, max_length=16, description="materials: the window handing over")
    cases: list[str] = Field(default_factory=list, max_length=200, description="results: the case ids")


class BundlePartBody(Body):
    item: str = Field(min_length=1, max_length=48)
    materials: list[MaterialCheckBody] = Field(default_factory=list, max_length=50)


class BundleBody(Body):
    """POST …/bundles: a 一件事 received at a comprehensive window: the one form's shared fields once,
    every part's materials checked off."""

    bundle: str = Field(min_length=1, max_length=32)
    id_card: IdCard
    phone: str = Field("", max_length=20)
    window: str = Field(min_length=1, max_length=16)
    form: dict[str, str] = Field(default_factory=dict, max_length=30)
    parts: list[BundlePartBody] = Field(min_length=1, max_length=20)


class PrereviewBody(Body):
    """POST /public/halls/{hall}/prereviews: 网上预审 started on the citizen's phone."""

    item: str = Field(min_length=1, max_length=48)
    id_number: str = Field(min_length=15, max_length=18)
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(min_length=7, max_length=20)


class ReceiveBody(Body):
    """POST …/cases/{id}/receive: the window receives a pre-reviewed case, originals seen."""

    window: str = Field(min_length=1, max_length=16)
    materials: list[MaterialCheckBody] = Field(default_factory=list, max_length=50)


class BundleActionBody(Body):
    note: str = Field("", max_length=500)


class InstantBody(Body):
    """POST …/cases/instant: a 即办件 done at a comprehensive window."""

    item: str = Field(min_length=1, max_length=48)
    id_card: IdCard | None = None
    window: str = Field(min_length=1, max_length=16)


# ---- the handbook -------------------------------------------------------------------------------


class HandbookMaterial(AnswerModel):
    name: str
    form: MaterialForm = "original"
    copies: int = Field(1, ge=1)
    deferrable: bool = False
    note: str = ""


class HandbookItem(AnswerModel):
    """An item (事项) with its seven published elements (七公开), as the hall config holds it."""

    code: str
    name: str
    kind: ItemKind = "instant"
    promised_days: int = Field(0, ge=0)
    legal_days: int | None = None
    materials: list[HandbookMaterial] = Field(default_factory=list)
    fee: str = "不收费"
    legal_basis: str = ""
    conditions: str = ""
    process: str = ""
    defer_days: int = Field(5, ge=1)


class HandbookService(AnswerModel):
    code: str
    name: str
    department: str = ""
    items: list[HandbookItem] = Field(default_factory=list)


class Handbook(AnswerModel):
    """GET /halls/{hall}/handbook: every service and its items."""

    hall: str
    services: list[HandbookService] = Field(default_factory=list)


class ServiceRef(AnswerModel):
    code: str
    name: str
    department: str = ""


class HandbookItemAnswer(HandbookItem):
    """GET /halls/{hall}/items/{item}: the item, its service and where the result is collected."""

    service: ServiceRef
    output_window: str = ""


# ---- submissions and cases ----------------------------------------------------------------------


class StoredFile(AnswerModel):
    """PUT …/materials/{idx}: one stored page (content-addressed)."""

    sha256: str
    size: int = Field(ge=0)
    mime: str


class CaseMaterial(AnswerModel):
    idx: int
    name: str
    form: MaterialForm = "original"
    copies: int = Field(1, ge=1)
    deferrable: bool = False
    status: MaterialStatus
    files: list[StoredFile] = Field(default_factory=list)
    signed: bool = False


class Correction(AnswerModel):
    """补齐补正告知: every material to supply again, named once (一次性告知)."""

    note: str = ""
    materials: list[str] = Field(default_factory=list)
    at: Timestamp | None = None


class CaseTimes(AnswerModel):
    created_at: Timestamp | None = None
    received_at: Timestamp | None = None
    accepted_at: Timestamp | None = None
    decided_at: Timestamp | None = None
    output_at: Timestamp | None = None
    delivered_at: Timestamp | None = None
    archived_at: Timestamp | None = None
    handed_over_at: Timestamp | None = None
    result_sent_at: Timestamp | None = None
    result_refused_at: Timestamp | None = None
    receipt_returned_at: Timestamp | None = None
    prereview_at: Timestamp | None = None
    prereviewed_at: Timestamp | None = None


class CaseDeadlines(AnswerModel):
    """In the hall's working days: 受理 (or 一次性告知), 审批 (承诺时限), 容缺 materials."""

    accept_due: dt.date | None = None
    decide_due: dt.date | None = None
    deferred_due: dt.date | None = None
    result_fix_due: dt.date | None = None
    receipt_due: dt.date | None = None
    prereview_due: dt.date | None = None


class Agency(AnswerModel):
    """代办: the point and its agent (masked) who submitted for the citizen, and when the consent was signed."""

    point: str
    agent: str
    consent_at: Timestamp


class PaperHandover(AnswerModel):
    """Where the case's paper stands between the window and its department (材料交接)."""

    due_at: Timestamp
    signed_at: Timestamp | None = None
    late: bool = False


class NextAction(AnswerModel):
    """A step open to the case now, and the desk that takes it (window / department / output)."""

    action: str
    label: str
    desk: Literal["window", "department", "output"]


class DeskWindow(AnswerModel):
    id: str
    name: str
    kind: str
    printer: bool = Field(False, description="a receipt printer is configured at this window")


class BackOfficeInfo(AnswerModel):
    """GET …/back-office: the departments deciding behind the window, the windows, and the caller's department."""

    departments: list[str] = Field(default_factory=list)
    windows: list[DeskWindow] = Field(default_factory=list)
    my_department: str | None = None


class HistoryEntry(AnswerModel):
    # a plain datetime: the store gives SQLite's history times back without their (UTC) offset
    at: dt.datetime
    actor: str
    role: str
    action: str
    label: str
    from_status: str | None = Field(None, alias="from")
    to_status: str = Field(alias="to")
    note: str = ""


class CaseSummary(AnswerModel):
    """A case as the office's lists show it (GET /cases): who, what, where it stands, its deadlines."""

    id: str
    receipt_no: str | None = None
    item: str
    item_name: str
    service: str
    service_name: str
    department: str = ""
    kind: ItemKind = "instant"
    promised_days: int = Field(0, ge=0)
    status: CaseStatus
    status_label: str = ""
    channel: str = "kiosk"
    masked_name: str = ""
    masked_id: str = ""
    locker_slot: str | None = None
    delivery: str | None = None
    tracking_no: str | None = None
    correction: Correction | None = None
    decision_note: str | None = None
    times: CaseTimes = Field(default_factory=CaseTimes)
    deadlines: CaseDeadlines = Field(default_factory=CaseDeadlines)
    overdue: list[str] = Field(default_factory=list)
    due_soon: bool = False
    back_office: bool = Field(False, description="its department accepts and decides it behind the window")
    bundle_id: str | None = Field(None, description="a part of this 一件事")
    prereview_rounds: int = Field(0, ge=0, description="网上预审: how many times the phone sent the materials")
    agency: Agency | None = None
    received_window: str | None = None
    decision: Literal["approved", "rejected"] | None = None
    handover: PaperHandover | None = None
    next_desk: list[str] = Field(default_factory=list, description="who takes the next step: 业务部门 …")
    next_actions: list[NextAction] = Field(default_factory=list)


class CaseView(CaseSummary):
    """A submission (draft) or case with its materials and history: what its kiosk sees (GET
    …/submissions/{id}, …/defer) and the office's case page (GET /cases/{id}, actions)."""

    materials: list[CaseMaterial] = Field(default_factory=list)
    phone: str = Field("", description="masked for a kiosk: 138****1234; whole for the office")
    history: list[HistoryEntry] = Field(default_factory=list)

    def material(self, idx: int) -> CaseMaterial:
        return next(m for m in self.materials if m.idx == idx)


class CaseReceipt(CaseView):
    """POST …/complete and …/resubmit: the case with the QR the receipt prints (收件通知书)."""

    status_url: str = ""


class SubmissionStarted(CaseReceipt):
    """POST /halls/{hall}/submissions: the draft, and its access key (kept by the kiosk, in the QR)."""

    access: str


class IntakeAnswer(CaseReceipt):
    """POST …/cases/intake: the received case and its 收件通知书 at the window's printer."""

    printed: bool = False
    print_message: str = ""
    print_preview: str = Field("", description="the slip as text (masked name only)")


class HandoverItem(AnswerModel):
    case_id: str
    receipt_no: str | None = None
    item_name: str
    masked_name: str = ""
    received_at: Timestamp | None = None
    materials: list[str] = Field(default_factory=list)
    due_at: Timestamp | None = None
    late: bool = False
    status: CaseStatus
    status_label: str = ""


class HandoverSheet(AnswerModel):
    """A 《材料交接表》 or 《办理结果交接表》 with its cases; late counts the paper that arrived late."""

    id: str
    kind: HandoverKind
    title: str
    department: str
    window: str | None = None
    created_at: Timestamp
    created_by: str
    signed_at: Timestamp | None = None
    signed_by: str | None = None
    late: int = 0
    items: list[HandoverItem] = Field(default_factory=list)
    printed: bool | None = None
    print_message: str = ""
    print_preview: str = ""


class PendingPaper(AnswerModel):
    case_id: str
    receipt_no: str | None = None
    due_at: Timestamp | None = None
    late: bool = False


class HandoverList(AnswerModel):
    """GET …/handovers: the sheets, newest first, and the paper waiting for the next sheet."""

    sheets: list[HandoverSheet] = Field(default_factory=list)
    pending: list[PendingPaper] = Field(default_factory=list)


class BundlePart(AnswerModel):
    """A part of a 一件事 as its pages show it: the item, its department, where it stands."""

    case_id: str | None = None  # the office's only
    receipt_no: str | None = None
    item: str
    item_name: str
    department: str = ""
    status: CaseStatus
    status_label: str = ""
    after: list[str] = Field(default_factory=list, description="前置: the items decided before this one")
    decide_due: dt.date | None = None
    overdue: list[str] = Field(default_factory=list)


class FormField(AnswerModel):
    label: str
    value: str = ""


class BundleState(AnswerModel):
    """A 一件事: one receipt number, one promise, each part's state."""

    code: str
    name: str
    receipt_no: str
    masked_name: str = ""
    received_window: str | None = None
    received_at: Timestamp
    promised_days: int
    promised_due: dt.date
    status_label: str
    ready_to_hand_out: bool = False
    parts: list[BundlePart] = Field(default_factory=list)


class BundleView(BundleState):
    """The office's 一件事, with the one form's fields (一表式); after 收件 also its receipt's print."""

    id: str
    form: list[FormField] = Field(default_factory=list)
    status_url: str = ""
    printed: bool | None = None
    print_message: str = ""
    print_preview: str = ""


class BundleFieldDefinition(AnswerModel):
    key: str
    label: str


class BundlePartDefinition(AnswerModel):
    item: str
    after: list[str] = Field(default_factory=list)


class BundleDefinition(AnswerModel):
    """A 一件事 as the hall config defines it: the one form's fields, the parts and their order."""

    code: str
    name: str
    promised_days: int
    fields: list[BundleFieldDefinition] = Field(default_factory=list)
    parts: list[BundlePartDefinition] = Field(default_factory=list)


class BundleCatalogue(AnswerModel):
    """GET …/bundles/catalogue: the hall's 一件事, for the window's form."""

    bundles: list[BundleDefinition] = Field(default_factory=list)


class LockerAnswer(AnswerModel):
    """POST …/locker: the slot the paper originals went into."""

    locker_slot: str


class CaseList(AnswerModel):
    """GET /halls/{hall}/cases: the office's list, and the years whose holidays the hall has not
    configured (a deadline in such a year is provisional, 暂定)."""

    cases: list[CaseSummary] = Field(default_factory=list)
    unknown_calendar_years: list[int] = Field(default_factory=list)


class PublicMaterial(AnswerModel):
    name: str
    status: str


class PublicHistoryEntry(AnswerModel):
    at: dt.datetime
    label: str


class CollectAt(AnswerModel):
    where: str
    address: str = ""
    phone: str = ""


class CaseElsewhere(AnswerModel):
    """Where a forwarded case (转报) is being decided, and how far it has come there."""

    hall: str
    hall_name: str = ""
    status: str | None = None
    status_label: str = "已转报，等待对方收件"
    at: dt.datetime | None = None


class PublicCase(AnswerModel):
    """The citizen's case page (the receipt's QR): status, what is missing, where to collect; a
    masked name only."""

    receipt_no: str | None = None
    item_name: str
    department: str = ""
    kind: ItemKind = "instant"
    promised_days: int = Field(0, ge=0)
    status: CaseStatus
    status_label: str = ""
    masked_name: str = ""
    delivery: str | None = None
    tracking_no: str | None = None
    correction: Correction | None = None
    decision_note: str | None = None
    times: CaseTimes = Field(default_factory=CaseTimes)
    deadlines: CaseDeadlines = Field(default_factory=CaseDeadlines)
    overdue: list[str] = Field(default_factory=list)
    materials: list[PublicMaterial] = Field(default_factory=list)
    history: list[PublicHistoryEntry] = Field(default_factory=list)
    agency: Agency | None = None
    collect: CollectAt
    elsewhere: CaseElsewhere | None = Field(None, description="转报: the hall deciding the case, and its state there")


class PublicBundle(BundleState):
    """The citizen's 一件事 page (its receipt's QR): each part's state; a masked name only."""

    collect: CollectAt
