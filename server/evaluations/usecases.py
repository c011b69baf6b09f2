"""What a 好差评 request means, for the HTTP routes and the MQTT evaluator alike: who rates through which
channel, the facts of the ticket being rated, and the supervisor's steps on an order.

The service's calls touch the database: they run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
import weakref
from typing import Any

from hallq.evaluation_models import (
    MOBILE_PATTERN,
    EvaluationSummary,
    FollowUpAnswer,
    RatingAnswer,
    RatingBody,
    RatingState,
    RectificationView,
)
from server.auth import Forbidden, Principal, Unauthorized
from server.cases.service import CaseService
from server.engine.model import Ticket
from server.evaluations import summary as month_summary
from server.evaluations.service import Actor, BadRating, EvaluationError, EvaluationService, RatedService
from server.evaluations.workflow import CITIZEN_CHANNELS
from server.runtime import Dispatcher, HallRuntime, utcnow

# The channel a rating device stands for; the demo's catch-all credential rates as a terminal.
DEVICE_CHANNELS = {"evaluator": "evaluator", "terminal": "terminal", "kiosk": "kiosk", "bridge": "terminal"}
OFFICE_ROLES = frozenset({"clerk", "supervisor", "admin"})
_services: weakref.WeakKeyDictionary[Dispatcher, dict[str, EvaluationService]] = weakref.WeakKeyDictionary()


def service_for(dispatcher: Dispatcher, hall: str) -> EvaluationService:
    """The hall's evaluation service (one per dispatcher and hall, made on first use)."""
    halls = _services.setdefault(dispatcher, {})
    if hall not in halls:
        config = dispatcher.runtime(hall).config
        halls[hall] = EvaluationService(dispatcher.store.engine, config, dispatcher.settings.hmac_key)
    return halls[hall]


def channel_of(principal: Principal | None, asked: str | None) -> str:
    """A device rates as what it is; the citizen's own phone says web, app or qr (default qr: the
    ticket's QR page). The demo's catch-all device may name the device channel it stands in for."""
    if principal is None:
        if asked is None:
            return "qr"
        if asked not in CITIZEN_CHANNELS:
            raise BadRating(
                f"渠道 {asked} 需要该设备的身份。 The {asked} channel needs that device's token;"
                " a phone rates as web, app or qr."
            )
        return asked
    if principal.role == "bridge" and asked in ("evaluator", "terminal", "kiosk"):
        return asked
    return DEVICE_CHANNELS.get(principal.role, "terminal")


def rated_ticket(runtime: HallRuntime, ticket: Ticket) -> RatedService:
    """The facts the national record keeps of a served ticket: number, window, clerk (staff id), service."""
    service = runtime.config.service(ticket.service)
    served_at = ticket.finished_at or ticket.called_at or ticket.issued_at
    return RatedService(
        subject="ticket",
        subject_id=ticket.id,
        number=ticket.number,
        window=ticket.window,
        clerk=ticket.clerk,
        service=ticket.service,
        task_code=ticket.service,
        task_name=service.name if service else ticket.service,
        served_at=served_at,
    )


def rated_case(case_id: str, facts: dict[str, Any]) -> RatedService:
    """一事一评: the case's receipt number (办件编号), its item (事项编码), and the clerk who accepted it.
    A case has no window of its own (the back office decides it): its order is the supervisor's."""
    return RatedService(
        subject="case",
        subject_id=case_id,
        number=facts["receipt_no"],
        window=None,
        clerk=facts["clerk"],
        service=facts["service"],
        task_code=facts["item"],
        task_name=facts["item_name"],
        served_at=facts["delivered_at"],
    )


def _citizen_only(principal: Principal | None) -> None:
    """A case is rated by the citizen (the receipt's QR page) or at a kiosk, never by a staff login."""
    if principal is None or principal.role in ("kiosk", "bridge") and not principal.is_user:
        return
    raise Forbidden(
        "好差评须由办事群众本人评价，请扫描回执上的二维码。 A case is rated by the citizen, on the receipt's QR page."
    )


async def rate_case(
    dispatcher: Dispatcher, cases: CaseService, principal: Principal | None, hall: str, case_id: str,
    access: str | None, body: RatingBody,
) -> RatingAnswer:  # fmt: skip
    """一事一评 of a delivered case, once, within window_days of its delivery; a 差评 opens an order, 实名
    by the phone the citizen leaves or the one the case was submitted with."""
    _citizen_only(principal)
    await asyncio.to_thread(cases.check_access, case_id, access)
    facts = await asyncio.to_thread(cases.rating_facts, case_id)
    if not facts["delivered"] or facts["delivered_at"] is None:
        raise EvaluationError(
            f"办件{facts['receipt_no']}尚未送达（{facts['status_label']}），送达后才能评价。"
            f" The case is {facts['status']}: it can be rated once it is delivered."
        )
    phone = body.contact_phone or (facts["phone"] if re.fullmatch(MOBILE_PATTERN, facts["phone"] or "") else None)
    body = body.model_copy(update={"contact_phone": phone})
    return await record_rating(dispatcher, hall, rated_case(case_id, facts), body, channel_of(principal, body.channel),
                               utcnow())  # fmt: skip


async def subject_keyed(
    dispatcher: Dispatcher, cases: CaseService | None, principal: Principal | None, hall: str, subject: str,
    subject_id: str, access: str | None,
) -> EvaluationService:  # fmt: skip
    """The citizen's proof for the 追评 and the page's state: the ticket's or the case's access key `k`,
    checked against the stored ticket (it may have left the live queue days ago) or case."""
    if subject == "case":
        _citizen_only(principal)
    else:
        _no_staff(principal)
    service = service_for(dispatcher, hall)
    if cases is not None:
        await asyncio.to_thread(cases.check_access, subject_id, access)
        return service
    stored = await asyncio.to_thread(service.ticket_access, subject_id)
    if access is None:
        raise Unauthorized("需要凭号码上的二维码访问。 Open the link from the ticket's QR code.")
    if stored is None or not secrets.compare_digest(access, stored):
        raise Forbidden("二维码无效。 The access key does not match this ticket.")
    return service


def _no_staff(principal: Principal | None) -> None:
    if principal is not None and principal.is_user:
        raise Forbidden("好差评须由办事群众本人评价。 Staff logins may not rate a service.")


async def follow_up(
    dispatcher: Dispatcher, cases: CaseService | None, principal: Principal | None, hall: str, subject: str,
    subject_id: str, access: str | None, body: RatingBody,
) -> FollowUpAnswer:  # fmt: skip
    """追评: once, after the 差评's order was rectified (rectified or closed)."""
    service = await subject_keyed(dispatcher, cases, principal, hall, subject, subject_id, access)
    answer = await dispatcher.beside_commits(
        service.follow_up, subject, subject_id, score=body.score, reasons=body.reasons, comment=body.comment or "",
        channel=channel_of(principal, body.channel), contact_phone=body.contact_phone, now=utcnow(),
    )  # fmt: skip
    return FollowUpAnswer.model_validate(answer)


async def rating_state(
    dispatcher: Dispatcher, cases: CaseService | None, principal: Principal | None, hall: str, subject: str,
    subject_id: str, access: str | None,
) -> RatingState:  # fmt: skip
    service = await subject_keyed(dispatcher, cases, principal, hall, subject, subject_id, access)
    return RatingState.model_validate(await asyncio.to_thread(service.state, subject, subject_id, utcnow()))


async def record_rating(
    dispatcher: Dispatcher, hall: str, rated: RatedService, body: RatingBody, channel: str, now: dt.datetime
) -> RatingAnswer:
    """Store the rating (a 差评 opens its order in the same transaction); AlreadyRated is 409."""
    service = service_for(dispatcher, hall)
    answer = await dispatcher.beside_commits(
        service.rate,
        rated,
        score=body.score,
        reasons=body.reasons,
        comment=body.comment or "",
        channel=channel,
        contact_phone=body.contact_phone,
        now=now,
    )
    return RatingAnswer.model_validate(answer)


def office_actor(principal: Principal) -> Actor:
    """The staff member acting on orders: a login, never a device."""
    if not principal.is_user or principal.role not in OFFICE_ROLES:
        raise Forbidden("好差评的整改单由窗口工作人员和值班主任处理。 Rectification orders are for staff logins.")
    staff_id = principal.name if principal.role == "clerk" else None
    return Actor(principal.actor, principal.role, principal.window, staff_id)


async def order_step(
    dispatcher: Dispatcher, principal: Principal, hall: str, order_id: str, action: str, text: str,
    satisfied: bool | None = None,
) -> RectificationView:  # fmt: skip
    actor = office_actor(principal)
    service = service_for(dispatcher, hall)
    view = await dispatcher.beside_commits(service.act, order_id, action, actor, utcnow(), text=text,
                                           satisfied=satisfied)  # fmt: skip
    return RectificationView.model_validate(view)


async def order(dispatcher: Dispatcher, principal: Principal, hall: str, order_id: str) -> RectificationView:
    actor = office_actor(principal)
    view = await asyncio.to_thread(service_for(dispatcher, hall).order, order_id, utcnow(), viewer=actor)
    return RectificationView.model_validate(view)


async def orders(
    dispatcher: Dispatcher, principal: Principal, hall: str, status: str | None, flag: str | None
) -> list[RectificationView]:
    actor = office_actor(principal)
    found = await asyncio.to_thread(service_for(dispatcher, hall).orders, utcnow(), viewer=actor, status=status,
                                    flag=flag)  # fmt: skip
    return [RectificationView.model_validate(v) for v in found]


async def ratings(
    dispatcher: Dispatcher, principal: Principal, hall: str, start: dt.datetime | None, end: dt.datetime | None,
    window: str | None, score: int | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Staff see every rating; a clerk sees their own (`Actor.owns`: their service, their login window),
    and may narrow them by window."""
    actor = office_actor(principal)
    service = service_for(dispatcher, hall)
    found: list[dict[str, Any]] = await asyncio.to_thread(
        service.ratings, start=start, end=end, window=window, score=score, viewer=actor
    )
    return found


async def summary(dispatcher: Dispatcher, principal: Principal, hall: str, month: str, by: str) -> EvaluationSummary:
    """The month's numbers (考核): a clerk logged in to a window sees that window's, a clerk without a
    window their own service's (the ratings naming their staff id)."""
    actor = office_actor(principal)
    window = clerk = None
    if actor.role == "clerk":
        window = actor.window
        clerk = actor.staff_id if window is None else None
    answer = await asyncio.to_thread(month_summary.summary, service_for(dispatcher, hall), month, by, window, clerk)
    return EvaluationSummary.model_validate(answer)
