"""One-window cases over HTTP: the handbook (标准化手册), 24-hour submissions from kiosks, the back
office's actions, and the citizen's view by the receipt's QR.

Kiosks act on a submission with their device token AND the case's access key (printed in the QR), so a
kiosk cannot read other people's cases; clerks, supervisors and admins work in the office.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse
from limits import RateLimitItemPerHour

from hallq.case_models import (
    ActionBody,
    BackOfficeInfo,
    BundleActionBody,
    BundleBody,
    BundleCatalogue,
    BundleView,
    CaseList,
    CaseReceipt,
    CaseView,
    Handbook,
    HandbookItemAnswer,
    HandoverBody,
    HandoverList,
    HandoverSheet,
    InstantBody,
    IntakeAnswer,
    IntakeBody,
    LockerAnswer,
    LockerBody,
    PrereviewBody,
    PublicBundle,
    PublicCase,
    ReceiveBody,
    StoredFile,
    SubmissionBody,
    SubmissionStarted,
)
from hallq.config import HallConfig
from server.api.deps import DispatcherDep, PrincipalDep
from server.appointments import qr
from server.auth import Forbidden, Principal
from server.cases.bundles import Bundles
from server.cases.handovers import Handovers
from server.cases.printing import PrintOutcome, print_bundle_receipt, print_handover, print_receipt
from server.cases.service import (
    Actor,
    Agency,
    CaseError,
    CaseForbidden,
    CaseNotFound,
    CaseService,
    MaterialCheck,
)
from server.cases.uploads import MAX_UPLOAD_BYTES, FileStore, UploadRejected
from server.cases.workflow import CaseAction, CaseStatus, IllegalCaseAction, MaterialStatus
from server.login_throttle import MovingLimit
from server.network import forwarding
from server.runtime import Dispatcher, utcnow

router = APIRouter(tags=["cases"])
# A material's place in the item's list, within the databases' INTEGER column (PostgreSQL's is 32-bit):
# a number outside it is 422, a number no material has is 404.
MaterialIndex = Annotated[int, FastPath(ge=-(2**31), le=2**31 - 1)]
SUBMITTING_DEVICES = frozenset({"kiosk", "bridge"})
OFFICE_ROLES = frozenset({"clerk", "supervisor", "admin", "department"})


def files_root(dispatcher: Dispatcher) -> Path:
    """Uploaded materials live in the settings' files_dir (HALLQ_FILES_DIR), else beside an SQLite
    database, else in var/files."""
    configured = dispatcher.settings.files_dir
    if configured:
        return Path(configured)
    database = dispatcher.settings.database
    if database.startswith("sqlite:///") and database != "sqlite:///:memory:":
        return Path(database.removeprefix("sqlite:///")).resolve().parent / "files"
    return Path("var/files").resolve()


def case_service(state: Any, dispatcher: Dispatcher, hall: str) -> CaseService:
    """The hall's one CaseService (one writer lock per hall), for the routes and the forwarder."""
    services: dict[str, CaseService] | None = getattr(state, "case_services", None)
    if services is None:
        services = state.case_services = {}
    if hall not in services:
        config = dispatcher.runtime(hall).config
        cases = CaseService(
            dispatcher.store.engine, config, FileStore(files_root(dispatcher) / hall), dispatcher.settings.hmac_key
        )
        cases.on_transition.append(forwarding.news_hook(cases))  # 转报: news back to the first hall
        services[hall] = cases
    return services[hall]


async def get_cases(request: Request, hall: str, dispatcher: DispatcherDep) -> CaseService:
    cases = case_service(request.app.state, dispatcher, hall)
    await _run(cases.sweep_if_due, utcnow())  # drafts nobody came back to, at most hourly
    return cases


CasesDep = Annotated[CaseService, Depends(get_cases)]


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.actor, principal.role)


def submitting_device(principal: Principal) -> Actor:
    if principal.kind == "device" and principal.role in SUBMITTING_DEVICES or principal.is_user:
        return actor_of(principal)
    raise Forbidden(f"设备 {principal.name} 不能提交办件材料 — this device may not submit cases")


def office_user(principal: Principal, cases: CaseService | None = None) -> Actor:
    """Hall staff in the office; a department's staff carry their department (from the hall config)."""
    if not (principal.is_user and principal.role in OFFICE_ROLES):
        raise Forbidden("请以窗口工作人员身份登录后台 — log in as hall staff")
    department = cases.config.department_of(principal.name) if cases and principal.role == "department" else None
    if principal.role == "department" and department is None:
        raise Forbidden(f"账号 {principal.name} 未分配部门（大厅配置 departments.staff） — no department")
    return Actor(principal.actor, principal.role, department=department, window=principal.window)


def _run(function: Any, *args: Any, **kwargs: Any) -> Any:
    return asyncio.to_thread(function, *args, **kwargs)


def status_url(config: HallConfig, case_id: str, access: str) -> str:
    return f"{config.hall.status_base_url.rstrip('/')}/c/{config.hall.id}/{case_id}?k={access}"


# ---- the handbook (七公开) ------------------------------------------------------------------------


@router.get("/halls/{hall}/handbook", response_model=Handbook)
async def handbook(hall: str, dispatcher: DispatcherDep) -> dict[str, Any]:
    """Every service and item with its materials, kind, promised days, fee, legal basis and conditions."""
    config = dispatcher.runtime(hall).config
    return {
        "hall": hall,
        "services": [
            {
                "code": s.code,
                "name": s.name,
                "department": s.department,
                "items": [i.model_dump(mode="json") for i in s.items],
            }
            for s in config.services
        ],
    }


@router.get("/halls/{hall}/items/{item}", response_model=HandbookItemAnswer)
async def handbook_item(hall: str, item: str, cases: CasesDep) -> dict[str, Any]:
    service, found = cases.item(item)
    output = next((w.name for w in cases.config.windows if w.kind.value == "output"), "")
    return {
        "service": {"code": service.code, "name": service.name, "department": service.department},
        "output_window": output,
        **found.model_dump(mode="json"),
    }


# ---- submissions (kiosk) ------------------------------------------------------------------------


@router.post("/halls/{hall}/submissions", status_code=201, response_model=SubmissionStarted)
async def start_submission(hall: str, body: SubmissionBody, principal: PrincipalDep, cases: CasesDep) -> dict[str, Any]:
    actor = submitting_device(principal)
    view, access = await _run(cases.start_submission, body.item, body.id_card.model_dump(), body.phone, actor, utcnow())
    return {**view, "access": access, "status_url": status_url(cases.config, view["id"], access)}


async def _keyed(cases: CaseService, case_id: str, key: str | None) -> None:
    await _run(cases.check_access, case_id, key)


KeyQuery = Annotated[str | None, Query(alias="k", max_length=64)]


@router.get("/halls/{hall}/submissions/{case_id}", response_model=CaseView)
async def read_submission(
    hall: str, case_id: str, principal: PrincipalDep, cases: CasesDep, k: KeyQuery = None
) -> dict[str, Any]:
    submitting_device(principal)
    await _keyed(cases, case_id, k)
    view: dict[str, Any] = await _run(cases.view, case_id, utcnow())
    return view


@router.put("/halls/{hall}/submissions/{case_id}/materials/{idx}", response_model=StoredFile)
async def upload_material(
    hall: str,
    case_id: str,
    idx: MaterialIndex,
    request: Request,
    principal: PrincipalDep,
    cases: CasesDep,
    k: KeyQuery = None,
) -> dict[str, Any]:
    """The scanned material as the raw request body (JPEG, PNG or PDF; checked by content)."""
    actor = submitting_device(principal)
    await _keyed(cases, case_id, k)
    data = await _read_limited(request)
    stored = await _run(cases.upload, case_id, idx, data, actor, utcnow())
    return {"sha256": stored.sha256, "size": stored.size, "mime": stored.mime}


@router.post("/halls/{hall}/submissions/{case_id}/materials/{idx}/defer", response_model=CaseView)
async def defer_material(
    hall: str,
    case_id: str,
    idx: MaterialIndex,
    request: Request,
    principal: PrincipalDep,
    cases: CasesDep,
    k: KeyQuery = None,
) -> dict[str, Any]:
    """容缺受理: the body is the PNG of the citizen's signature under the promise."""
    actor = submitting_device(principal)
    await _keyed(cases, case_id, k)
    await _run(cases.defer, case_id, idx, await _read_limited(request), actor, utcnow())
    view: dict[str, Any] = await _run(cases.view, case_id, utcnow())
    return view


@router.post("/halls/{hall}/submissions/{case_id}/locker", response_model=LockerAnswer)
async def use_locker(
    hall: str, case_id: str, body: LockerBody, principal: PrincipalDep, cases: CasesDep, k: KeyQuery = None
) -> dict[str, Any]:
    actor = submitting_device(principal)
    await _keyed(cases, case_id, k)
    await _run(cases.set_locker, case_id, body.slot, actor, utcnow())
    return {"locker_slot": body.slot}


@router.post("/halls/{hall}/submissions/{case_id}/complete", response_model=CaseReceipt)
async def complete_submission(
    hall: str, case_id: str, principal: PrincipalDep, cases: CasesDep, k: KeyQuery = None
) -> dict[str, Any]:
    """收件: gives the receipt number; repeating it returns the same case."""
    actor = submitting_device(principal)
    await _keyed(cases, case_id, k)
    view = await _run(cases.complete, case_id, actor, utcnow())
    return {**view, "status_url": status_url(cases.config, case_id, k or "")}


@router.post("/halls/{hall}/submissions/{case_id}/resubmit", response_model=CaseReceipt)
async def resubmit(
    hall: str, case_id: str, principal: PrincipalDep, cases: CasesDep, k: KeyQuery = None
) -> dict[str, Any]:
    """补正提交: after uploading the materials the correction notice named."""
    actor = submitting_device(principal)
    await _keyed(cases, case_id, k)
    view = await _run(cases.resubmit, case_id, actor, utcnow())
    return {**view, "status_url": status_url(cases.config, case_id, k or "")}


@router.delete("/halls/{hall}/submissions/{case_id}", status_code=204)
async def abandon_submission(
    hall: str, case_id: str, principal: PrincipalDep, cases: CasesDep, k: KeyQuery = None
) -> Response:
    actor = submitting_device(principal)
    await _keyed(cases, case_id, k)
    await _run(cases.abandon, case_id, actor, utcnow())
    return Response(status_code=204)


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise UploadRejected(f"文件过大，单个材料不超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB — file too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise UploadRejected(f"文件过大，单个材料不超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB — file too large")
        chunks.append(chunk)
    return b"".join(chunks)


# ---- the back office ----------------------------------------------------------------------------


@router.get("/halls/{hall}/cases", response_model=CaseList)
async def list_cases(
    hall: str,
    principal: PrincipalDep,
    cases: CasesDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    flag: Annotated[str | None, Query(pattern="^(overdue|due_soon)$")] = None,
) -> dict[str, Any]:
    actor = office_user(principal, cases)
    if status is not None and status not in {s.value for s in CaseStatus}:
        raise CaseError(f"未知的办件状态 {status!r} — unknown status")
    found = await _run(cases.list_cases, utcnow(), status=status, flag=flag, department=actor.department)
    return {"cases": found, "unknown_calendar_years": sorted(cases.calendar.unknown_years)}


@router.get("/halls/{hall}/cases/{case_id}", response_model=CaseView)
async def read_case(
    hall: str, case_id: str, principal: PrincipalDep, cases: CasesDep, dispatcher: DispatcherDep
) -> dict[str, Any]:
    await _run(cases.check_visible, case_id, office_user(principal, cases))
    view: dict[str, Any] = await _run(cases.view, case_id, utcnow(), staff=True)
    await dispatcher.write_audit(hall, principal, "case.view", case_id, {"receipt_no": view["receipt_no"]})
    return view


@router.get("/halls/{hall}/cases/{case_id}/files/{sha256}")
async def case_file(hall: str, case_id: str, sha256: str, principal: PrincipalDep, cases: CasesDep) -> Response:
    await _run(cases.check_visible, case_id, office_user(principal, cases))
    view = await _run(cases.view, case_id, utcnow(), history=False)
    for material in view["materials"]:
        for f in material["files"]:
            if f["sha256"] == sha256:
                data = await _run(cases.files.read, sha256, f["mime"])
                return Response(data, media_type=f["mime"], headers={"Cache-Control": "no-store"})
    raise CaseNotFound("该办件没有这个文件 — no such file in this case")


@router.post("/halls/{hall}/cases/{case_id}/actions/{action}", response_model=CaseView)
async def case_action(
    hall: str, case_id: str, action: CaseAction, body: ActionBody, principal: PrincipalDep, cases: CasesDep
) -> dict[str, Any]:
    actor = office_user(principal, cases)
    await _run(cases.check_visible, case_id, actor)
    view: dict[str, Any] = await _run(
        cases.act,
        case_id,
        action,
        actor,
        utcnow(),
        note=body.note,
        materials=body.materials,
        tracking_no=body.tracking_no,
    )
    return view


@router.post("/halls/{hall}/cases/instant", status_code=201, response_model=CaseView)
async def instant_case(hall: str, body: InstantBody, principal: PrincipalDep, cases: CasesDep) -> dict[str, Any]:
    """即办件 done at a comprehensive window: recorded as a case closed the same day."""
    actor = office_user(principal, cases)
    if principal.role == "clerk" and principal.window not in (None, body.window):
        raise Forbidden(f"您已登录 {principal.window} 号窗口，不能登记 {body.window} 号窗口的办件")
    card = body.id_card.model_dump() if body.id_card else None
    view: dict[str, Any] = await _run(cases.instant_case, body.item, card, body.window, actor, utcnow())
    return view


@router.post("/halls/{hall}/cases/intake", status_code=201, response_model=IntakeAnswer)
async def intake(hall: str, body: IntakeBody, principal: PrincipalDep, cases: CasesDep) -> dict[str, Any]:
    """收件 at a comprehensive window: materials checked off, the 收件通知书 printed at that window."""
    actor = window_clerk(principal, cases, body.window)
    checks = [MaterialCheck(m.idx, MaterialStatus(m.status), m.original_seen, m.promise_signed) for m in body.materials]
    card = body.id_card.model_dump()
    agency = Agency(**body.agency.model_dump()) if body.agency else None
    args = (body.item, card, body.phone, body.window, checks, actor, utcnow(), agency)
    view, access = await _run(cases.intake, *args)
    url = status_url(cases.config, view["id"], access)
    printed = await _run(print_receipt, cases.config, body.window, view, url)
    return {**view, "status_url": url, **_print_fields(printed)}


def window_clerk(principal: Principal, cases: CaseService, window: str) -> Actor:
    """A clerk (in the office, or logged in to that very window), a supervisor or an admin records what
    a window does; a department's staff do not."""
    actor = office_user(principal, cases)
    if principal.role == "department":
        raise Forbidden("收件和材料交接由综合受理窗口办理 — the comprehensive window receives")
    if principal.role == "clerk" and principal.window not in (None, window):
        raise Forbidden(f"您已登录 {principal.window} 号窗口，不能以 {window} 号窗口收件 — log in to window {window}")
    return actor


@router.get("/halls/{hall}/back-office", response_model=BackOfficeInfo)
async def back_office(hall: str, principal: PrincipalDep, cases: CasesDep) -> dict[str, Any]:
    """What the office's 收件 and 交接 desks offer: departments, windows, the caller's department."""
    actor = office_user(principal, cases)
    config = cases.config
    return {
        "departments": [d.name for d in config.departments if d.staff],
        "windows": [
            {"id": w.id, "name": w.name, "kind": w.kind.value, "printer": bool(w.printer)} for w in config.windows
        ],
        "my_department": actor.department,
    }


def _print_fields(outcome: PrintOutcome) -> dict[str, Any]:
    return {"printed": outcome.printed, "print_message": outcome.message, "print_preview": outcome.preview}


# ---- 网上预审 (the phone) ---------------------------------------------------------------------------

PHONE = Actor("citizen:phone", "citizen")
# A phone has no token: the pre-review doors are counted per hall and client address. A family or an
# office behind one address starts a few pre-reviews an hour and sends a few photos each; a script more.
PREREVIEWS_PER_ADDRESS_PER_HOUR = 10
PHOTOS_PER_ADDRESS_PER_HOUR = 200
_phone_limits: weakref.WeakKeyDictionary[Dispatcher, tuple[MovingLimit, MovingLimit]] = weakref.WeakKeyDictionary()


def _admit_phone(dispatcher: Dispatcher, hall: str, request: Request, photo: bool) -> None:
    """Count a pre-review's start or one of its photos against the phone's address (429 past it)."""
    if dispatcher not in _phone_limits:
        _phone_limits[dispatcher] = (
            MovingLimit(
                RateLimitItemPerHour(PREREVIEWS_PER_ADDRESS_PER_HOUR),
                "此网络提交预审过于频繁，请稍后再试。 Too many pre-reviews from this address.",
            ),
            MovingLimit(
                RateLimitItemPerHour(PHOTOS_PER_ADDRESS_PER_HOUR),
                "此网络上传材料过于频繁，请稍后再试。 Too many uploads from this address.",
            ),
        )
    starts, photos = _phone_limits[dispatcher]
    (photos if photo else starts).admit(hall, request.client.host if request.client else "")


@router.post("/public/halls/{hall}/prereviews", status_code=201, response_model=SubmissionStarted)
async def start_prereview(
    hall: str, body: PrereviewBody, request: Request, dispatcher: DispatcherDep, cases: CasesDep
) -> dict[str, Any]:
    """From the phone: a draft of the item with its materials list and the key (its QR) to go on with."""
    _admit_phone(dispatcher, hall, request, photo=False)
    card = {"id_number": body.id_number, "name": body.name}
    view, access = await _run(cases.start_submission, body.item, card, body.phone, PHONE, utcnow(), "online")
    return {**view, "access": access, "status_url": status_url(cases.config, view["id"], access)}


@router.put("/public/halls/{hall}/prereviews/{case_id}/materials/{idx}", response_model=StoredFile)
async def prereview_material(
    hall: str,
    case_id: str,
    idx: MaterialIndex,
    request: Request,
    dispatcher: DispatcherDep,
    cases: CasesDep,
    k: KeyQuery = None,
) -> dict[str, Any]:
    """One material photographed or scanned on the phone (JPEG, PNG or PDF, checked by content)."""
    await _keyed(cases, case_id, k)
    _admit_phone(dispatcher, hall, request, photo=True)
    stored = await _run(cases.upload, case_id, idx, await _read_limited(request), PHONE, utcnow())
    return {"sha256": stored.sha256, "size": stored.size, "mime": stored.mime}


@router.post("/public/halls/{hall}/prereviews/{case_id}/submit", response_model=PublicCase)
async def submit_prereview(hall: str, case_id: str, cases: CasesDep, k: KeyQuery = None) -> Any:
    """Send the materials to the department's pre-review (again after a fix)."""
    await _keyed(cases, case_id, k)
    await _run(cases.submit_online, case_id, PHONE, utcnow())
    return await _run(cases.public_view, case_id, utcnow())


@router.get("/public/halls/{hall}/cases/{case_id}/qr.svg")
async def case_qr(hall: str, case_id: str, cases: CasesDep, k: KeyQuery = None) -> Response:
    """The case's QR (its page with the key), shown on the phone for the window to scan; key holders only."""
    await _keyed(cases, case_id, k)
    body = qr.svg(status_url(cases.config, case_id, k or ""))
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.post("/halls/{hall}/cases/{case_id}/receive", response_model=IntakeAnswer)
async def receive_prereviewed(
    hall: str, case_id: str, body: ReceiveBody, principal: PrincipalDep, cases: CasesDep
) -> dict[str, Any]:
    """The window receives a pre-reviewed case (opened by its QR): originals seen, the 收件通知书 printed."""
    actor = window_clerk(principal, cases, body.window)
    checks = [MaterialCheck(m.idx, MaterialStatus(m.status), m.original_seen, m.promise_signed) for m in body.materials]
    view = await _run(cases.receive_prereviewed, case_id, body.window, checks, actor, utcnow())
    printed = await _run(print_receipt, cases.config, body.window, view, "")
    return {**view, **_print_fields(printed)}


# ---- 一件事 (bundles) ---------------------------------------------------------------------------------


def get_bundles(cases: CasesDep) -> Bundles:
    return Bundles(cases)


BundlesDep = Annotated[Bundles, Depends(get_bundles)]


def bundle_url(config: HallConfig, bundle_id: str, access: str) -> str:
    return f"{config.hall.status_base_url.rstrip('/')}/y/{config.hall.id}/{bundle_id}?k={access}"


@router.get("/halls/{hall}/bundles/catalogue", response_model=BundleCatalogue)
async def bundle_catalogue(hall: str, cases: CasesDep) -> dict[str, Any]:
    """The hall's 一件事: the one form's fields and the parts with their order."""
    return {"bundles": [b.model_dump(mode="json") for b in cases.config.bundles]}


@router.post("/halls/{hall}/bundles", status_code=201, response_model=BundleView)
async def submit_bundle(
    hall: str, body: BundleBody, principal: PrincipalDep, cases: CasesDep, bundles: BundlesDep
) -> dict[str, Any]:
    """收件 of a 一件事 at a comprehensive window; one 收件通知书 prints at that window."""
    actor = window_clerk(principal, cases, body.window)
    checks = {
        p.item: [MaterialCheck(m.idx, MaterialStatus(m.status), m.original_seen, m.promise_signed) for m in p.materials]
        for p in body.parts
    }
    card = body.id_card.model_dump()
    args = (body.bundle, card, body.phone, body.window, body.form, checks, actor, utcnow())
    view, access = await _run(bundles.submit, *args)
    url = bundle_url(cases.config, view["id"], access)
    parts = [await _run(cases.view, p["case_id"], utcnow(), history=False) for p in view["parts"]]
    printed = await _run(print_bundle_receipt, cases.config, body.window, view, parts, url)
    return {**view, "status_url": url, **_print_fields(printed)}


@router.get("/halls/{hall}/bundles/{bundle_id}", response_model=BundleView)
async def read_bundle(hall: str, bundle_id: str, principal: PrincipalDep, cases: CasesDep, bundles: BundlesDep) -> Any:
    office_user(principal, cases)
    return await _run(bundles.view, bundle_id, utcnow())


@router.post("/halls/{hall}/bundles/{bundle_id}/actions/{action}", response_model=BundleView)
async def bundle_action(
    hall: str,
    bundle_id: str,
    action: CaseAction,
    body: BundleActionBody,
    principal: PrincipalDep,
    cases: CasesDep,
    bundles: BundlesDep,
) -> Any:
    """The output window hands a 一件事 out as one: `ready` (every part's result there) then `deliver`."""
    return await _run(bundles.hand_out, bundle_id, action, office_user(principal, cases), utcnow())


@router.get("/public/halls/{hall}/bundles/{bundle_id}", response_model=PublicBundle)
async def public_bundle(hall: str, bundle_id: str, bundles: BundlesDep, k: KeyQuery = None) -> Any:
    await _run(bundles.check_access, bundle_id, k)
    return await _run(bundles.public_view, bundle_id, utcnow())


# ---- hand-over sheets (材料交接、结果交接) ------------------------------------------------------------


def get_handovers(cases: CasesDep) -> Handovers:
    return Handovers(cases)


HandoversDep = Annotated[Handovers, Depends(get_handovers)]


@router.get("/halls/{hall}/handovers", response_model=HandoverList)
async def list_handovers(
    hall: str,
    principal: PrincipalDep,
    cases: CasesDep,
    sheets: HandoversDep,
    kind: Annotated[str | None, Query(pattern="^(materials|results)$")] = None,
    department: Annotated[str | None, Query(max_length=24)] = None,
) -> dict[str, Any]:
    """The sheets, newest first; with a department, also its paper waiting for the next sheet."""
    actor = office_user(principal, cases)
    department = actor.department or department
    found = await _run(sheets.sheets, utcnow(), kind=kind, department=department)
    pending = await _run(sheets.pending, department, utcnow()) if department else []
    return {"sheets": found, "pending": pending}


@router.post("/halls/{hall}/handovers", status_code=201, response_model=HandoverSheet)
async def create_handover(
    hall: str, body: HandoverBody, principal: PrincipalDep, cases: CasesDep, sheets: HandoversDep
) -> dict[str, Any]:
    """材料交接 by the window (printed at its printer), or 结果交接 by the department."""
    if body.kind == "materials":
        if not body.window:
            raise CaseError("请注明移交材料的窗口 — which window hands the paper over")
        actor = window_clerk(principal, cases, body.window)
        sheet = await _run(sheets.hand_over_materials, body.department, body.window, actor, utcnow())
        return {**sheet, **_print_fields(await _run(print_handover, cases.config, sheet))}
    actor = office_user(principal, cases)
    result: dict[str, Any] = await _run(sheets.hand_over_results, body.department, body.cases, actor, utcnow())
    return result


@router.get("/halls/{hall}/handovers/{sheet_id}", response_model=HandoverSheet)
async def read_handover(
    hall: str, sheet_id: str, principal: PrincipalDep, cases: CasesDep, sheets: HandoversDep
) -> dict[str, Any]:
    sheet: dict[str, Any] = await _run(sheets.view, sheet_id, utcnow(), office_user(principal, cases))
    return sheet


@router.post("/halls/{hall}/handovers/{sheet_id}/sign", response_model=HandoverSheet)
async def sign_handover(
    hall: str, sheet_id: str, principal: PrincipalDep, cases: CasesDep, sheets: HandoversDep
) -> dict[str, Any]:
    """The department signs for the paper on a 《材料交接表》."""
    sheet: dict[str, Any] = await _run(sheets.sign, sheet_id, office_user(principal, cases), utcnow())
    return sheet


@router.post("/halls/{hall}/handovers/{sheet_id}/print", response_model=HandoverSheet)
async def reprint_handover(
    hall: str, sheet_id: str, principal: PrincipalDep, cases: CasesDep, sheets: HandoversDep
) -> dict[str, Any]:
    """Print a 《材料交接表》 again at the window that made it."""
    sheet = await _run(sheets.view, sheet_id, utcnow(), office_user(principal, cases))
    return {**sheet, **_print_fields(await _run(print_handover, cases.config, sheet))}


# ---- the citizen ----------------------------------------------------------------------------------


@router.get("/public/halls/{hall}/cases/{case_id}", response_model=PublicCase)
async def public_case(hall: str, case_id: str, cases: CasesDep, k: KeyQuery = None) -> dict[str, Any]:
    await _keyed(cases, case_id, k)
    view: dict[str, Any] = await _run(cases.public_view, case_id, utcnow())
    view["elsewhere"] = await _run(forwarding.elsewhere, cases, case_id)  # 转报: where it is decided
    return view


def install(app: FastAPI) -> None:
    """Add the routes and turn case errors into `{"detail": sentence}` answers."""
    app.include_router(router, prefix="/api/v1")

    @app.exception_handler(CaseNotFound)
    async def _not_found(_: Request, exc: CaseNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(IllegalCaseAction)
    async def _illegal(_: Request, exc: IllegalCaseAction) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(UploadRejected)
    async def _upload(_: Request, exc: UploadRejected) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=413 if "过大" in str(exc) else 415)

    @app.exception_handler(forwarding.ForwardRefused)
    async def _forward(_: Request, exc: forwarding.ForwardRefused) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(CaseForbidden)
    async def _forbidden(_: Request, exc: CaseForbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(CaseError)
    async def _case(_: Request, exc: CaseError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)
