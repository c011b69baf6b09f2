"""What a 好差评 request means, for the HTTP routes and the MQTT evaluator alike: who rates through which
channel, the facts of the ticket being rated, and the supervisor's steps on an order.

The service's calls touch the database: they run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from typing import Any

from hallq.evaluation_models import EvaluationSummary, RatingAnswer, RatingBody, RectificationView
from server.auth import Forbidden, Principal
from server.engine.model import Ticket
from server.evaluations import summary as month_summary
from server.evaluations.service import Actor, BadRating, EvaluationService, RatedService
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


async def record_rating(
    dispatcher: Dispatcher, hall: str, rated: RatedService, body: RatingBody, channel: str, now: dt.datetime
) -> RatingAnswer:
    """Store the rating (a 差评 opens its order in the same transaction); AlreadyRated is 409."""
    service = service_for(dispatcher, hall)
    answer = await asyncio.to_thread(
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
    return Actor(principal.actor, principal.role, principal.window)


async def order_step(
    dispatcher: Dispatcher, principal: Principal, hall: str, order_id: str, action: str, text: str,
    satisfied: bool | None = None,
) -> RectificationView:  # fmt: skip
    actor = office_actor(principal)
    service = service_for(dispatcher, hall)
    view = await asyncio.to_thread(service.act, order_id, action, actor, utcnow(), text=text, satisfied=satisfied)
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
    """Staff see every rating; a clerk sees the ratings of the window they are logged in to."""
    actor = office_actor(principal)
    if actor.role == "clerk":
        if actor.window is None or window not in (None, actor.window):
            raise Forbidden(f"只能查看本窗口（{actor.window}号）的评价。 A clerk sees their own window's ratings.")
        window = actor.window
    service = service_for(dispatcher, hall)
    found: list[dict[str, Any]] = await asyncio.to_thread(
        service.ratings, start=start, end=end, window=window, score=score
    )
    return found


async def summary(dispatcher: Dispatcher, principal: Principal, hall: str, month: str, by: str) -> EvaluationSummary:
    """The month's numbers (考核); a clerk sees their own window's only."""
    actor = office_actor(principal)
    window = None
    if actor.role == "clerk":
        if actor.window is None:
            raise Forbidden(
                "请先登录到窗口再查看本窗口的评价统计。 A clerk sees their window's numbers once logged in to it."
            )
        window = actor.window
    answer = await asyncio.to_thread(month_summary.summary, service_for(dispatcher, hall), month, by, window)
    return EvaluationSummary.model_validate(answer)
