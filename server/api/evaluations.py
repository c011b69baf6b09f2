"""好差评 over HTTP (DESIGN.md §11): the rating options, a ticket's rating answered as §11 says, the
ratings list, and the rectification orders with their steps (staff logins only).

`POST /halls/{hall}/tickets/{id}/evaluation` (server/api/tickets.py) keeps answering the ticket (200)
for the devices that read it so; `POST /halls/{hall}/evaluations` is the same rating answered 201
`{id, score, is_bad, rectification?}`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from hallq.evaluation_models import (
    CallBackBody,
    CloseBody,
    EvaluationSummary,
    EvaluationView,
    FeedStatus,
    FollowUpAnswer,
    RatingAnswer,
    RatingBody,
    RatingOptions,
    RatingState,
    ReasonBody,
    RectificationView,
    RectifyBody,
    SummaryBy,
    TicketRatingBody,
    VerifyBody,
)
from server.api.cases import CasesDep
from server.api.deps import DispatcherDep, OptionalPrincipalDep, PrincipalDep, StaffDep
from server.api.replies import reply
from server.evaluations import export
from server.evaluations import usecases as evaluations
from server.evaluations.feeder import feed_status
from server.evaluations.service import EvaluationError
from server.evaluations.workflow import IllegalOrderAction, OrderStatus
from server.runtime import utcnow
from server.usecases import tickets

router = APIRouter(tags=["evaluations"])
AccessKey = Annotated[str | None, Query(max_length=64, description="the access key from the ticket's QR code")]
OrderFlag = Literal["overdue", "due_soon"]


@router.get("/halls/{hall}/evaluations/options", response_model=RatingOptions)
async def rating_options(hall: str, dispatcher: DispatcherDep) -> RatingOptions:
    """The five levels with the hall's reasons, for every rating screen (public: no personal data)."""
    return RatingOptions.model_validate(evaluations.service_for(dispatcher, hall).options())


@router.post("/halls/{hall}/evaluations", status_code=201, response_model=RatingAnswer)
async def rate_ticket(
    hall: str, body: TicketRatingBody, dispatcher: DispatcherDep, principal: OptionalPrincipalDep, k: AccessKey = None
) -> Response:
    """好差评 of a served ticket, once: 201 `{id, score, is_bad, rectification?}`; a 差评 opens its order."""
    rating = body.model_dump(exclude={"ticket_id"})
    return reply(
        await tickets.evaluate_rated(dispatcher, principal, hall, body.ticket_id, k, RatingBody.model_validate(rating))
    )


CaseKey = Annotated[str | None, Query(max_length=64, description="the access key from the receipt's QR code")]


@router.post("/halls/{hall}/cases/{case_id}/evaluation", status_code=201, response_model=RatingAnswer)
async def rate_case(
    hall: str, case_id: str, body: RatingBody, dispatcher: DispatcherDep, cases: CasesDep,
    principal: OptionalPrincipalDep, k: CaseKey = None,
) -> RatingAnswer:  # fmt: skip
    """一事一评 of a delivered case, once, by the citizen (the receipt's QR key `k`); a 差评 opens its order."""
    return await evaluations.rate_case(dispatcher, cases, principal, hall, case_id, k, body)


@router.get("/halls/{hall}/cases/{case_id}/evaluation", response_model=RatingState)
async def case_rating_state(
    hall: str, case_id: str, dispatcher: DispatcherDep, cases: CasesDep, principal: OptionalPrincipalDep,
    k: CaseKey = None,
) -> RatingState:  # fmt: skip
    """The case page: the citizen's rating, its order's state, and whether the 追评 is open."""
    return await evaluations.rating_state(dispatcher, cases, principal, hall, "case", case_id, k)


@router.post("/halls/{hall}/cases/{case_id}/evaluation/follow-up", status_code=201, response_model=FollowUpAnswer)
async def follow_up_case(
    hall: str, case_id: str, body: RatingBody, dispatcher: DispatcherDep, cases: CasesDep,
    principal: OptionalPrincipalDep, k: CaseKey = None,
) -> FollowUpAnswer:  # fmt: skip
    """追评 of a case's 差评, once, after its order was rectified."""
    return await evaluations.follow_up(dispatcher, cases, principal, hall, "case", case_id, k, body)


@router.get("/halls/{hall}/tickets/{ticket_id}/evaluation", response_model=RatingState)
async def ticket_rating_state(
    hall: str, ticket_id: str, dispatcher: DispatcherDep, principal: OptionalPrincipalDep, k: AccessKey = None
) -> RatingState:
    """The ticket page: the citizen's rating, its order's state, and whether the 追评 is open."""
    return await evaluations.rating_state(dispatcher, None, principal, hall, "ticket", ticket_id, k)


@router.post("/halls/{hall}/tickets/{ticket_id}/evaluation/follow-up", status_code=201, response_model=FollowUpAnswer)
async def follow_up_ticket(
    hall: str, ticket_id: str, body: RatingBody, dispatcher: DispatcherDep, principal: OptionalPrincipalDep,
    k: AccessKey = None,
) -> FollowUpAnswer:  # fmt: skip
    """追评 of a ticket's 差评, once, after its order was rectified."""
    return await evaluations.follow_up(dispatcher, None, principal, hall, "ticket", ticket_id, k, body)


@router.get("/halls/{hall}/evaluations", response_model=list[EvaluationView])
async def list_ratings(
    hall: str,
    dispatcher: DispatcherDep,
    principal: PrincipalDep,
    start: Annotated[dt.date | None, Query(alias="from", description="first local day")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="last local day, included")] = None,
    window: Annotated[str | None, Query(max_length=16)] = None,
    score: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> list[EvaluationView]:
    """Ratings in the hall's local days `from`..`to`; a clerk sees their own window's."""
    zone = dispatcher.runtime(hall).config.hall.tz()
    since = dt.datetime.combine(start, dt.time(), zone) if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone) if end else None
    found = await evaluations.ratings(dispatcher, principal, hall, since, until, window, score)
    return [EvaluationView.model_validate(r) for r in found]


@router.get("/halls/{hall}/evaluations/summary", response_model=EvaluationSummary)
async def month_summary(
    hall: str,
    dispatcher: DispatcherDep,
    principal: PrincipalDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; this month if left out")] = None,
    by: SummaryBy = "window",
) -> EvaluationSummary:
    """The month's 好评率, 差评 and the 三个100% by hall, window, clerk or service; by window, ranked.
    Staff logins; a clerk sees their own window's."""
    zone = dispatcher.runtime(hall).config.hall.tz()
    return await evaluations.summary(
        dispatcher, principal, hall, month or utcnow().astimezone(zone).strftime("%Y-%m"), by
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/halls/{hall}/evaluations/export",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}, XLSX: {}}, "description": "one record per rating"}},
)
async def export_month(
    hall: str,
    dispatcher: DispatcherDep,
    principal: StaffDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="the hall's local month, YYYY-MM")],
    kind: Annotated[Literal["jsonl", "xlsx"], Query(alias="format")] = "jsonl",
) -> Response:
    """The month's ratings for the provincial platform, in its field names (supervisor or admin)."""
    service = evaluations.service_for(dispatcher, hall)
    rows = await asyncio.to_thread(export.records, service, month)
    name = f"evaluations-{hall}-{month}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if kind == "xlsx":
        return Response(await asyncio.to_thread(export.to_xlsx, rows, month), media_type=XLSX, headers=headers)
    return Response(export.to_jsonl(rows), media_type="application/x-ndjson", headers=headers)


@router.get("/halls/{hall}/evaluations/feed", response_model=FeedStatus)
async def platform_feed(hall: str, request: Request, dispatcher: DispatcherDep, principal: StaffDep) -> FeedStatus:
    """The platform feed's progress (supervisor or admin): recorded, delivered, pending, the last error."""
    feeder = getattr(request.app.state, "rating_feeder", None)
    status = await asyncio.to_thread(feed_status, dispatcher, feeder, hall)
    return FeedStatus.model_validate(status)


@router.get("/halls/{hall}/rectifications", response_model=list[RectificationView])
async def list_orders(
    hall: str,
    dispatcher: DispatcherDep,
    principal: PrincipalDep,
    status: OrderStatus | None = None,
    flag: OrderFlag | None = None,
) -> list[RectificationView]:
    """Orders by status, or every `overdue` / `due_soon` one; a clerk sees their own window's."""
    return await evaluations.orders(dispatcher, principal, hall, status.value if status else None, flag)


@router.get("/halls/{hall}/rectifications/{order_id}", response_model=RectificationView)
async def get_order(hall: str, order_id: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> RectificationView:
    return await evaluations.order(dispatcher, principal, hall, order_id)


@router.post("/halls/{hall}/rectifications/{order_id}/verify", response_model=RectificationView)
async def verify(hall: str, order_id: str, body: VerifyBody, dispatcher: DispatcherDep,
                 principal: PrincipalDep) -> RectificationView:  # fmt: skip
    """核实: the facts as the supervisor found them."""
    return await evaluations.order_step(dispatcher, principal, hall, order_id, "verify", body.facts)


@router.post("/halls/{hall}/rectifications/{order_id}/rectify", response_model=RectificationView)
async def rectify(hall: str, order_id: str, body: RectifyBody, dispatcher: DispatcherDep,
                  principal: PrincipalDep) -> RectificationView:  # fmt: skip
    """整改: the measures taken (a supervisor, or the clerk of the rated window)."""
    return await evaluations.order_step(dispatcher, principal, hall, order_id, "rectify", body.measures)


@router.post("/halls/{hall}/rectifications/{order_id}/call-back", response_model=RectificationView)
async def call_back(hall: str, order_id: str, body: CallBackBody, dispatcher: DispatcherDep,
                    principal: PrincipalDep) -> RectificationView:  # fmt: skip
    """回访: satisfied closes the order; not satisfied reopens it once, then escalates it."""
    return await evaluations.order_step(dispatcher, principal, hall, order_id, "call_back", body.note, body.satisfied)


@router.post("/halls/{hall}/rectifications/{order_id}/appeal", response_model=RectificationView)
async def appeal(hall: str, order_id: str, body: ReasonBody, dispatcher: DispatcherDep,
                 principal: PrincipalDep) -> RectificationView:  # fmt: skip
    """申诉: the rating was mistaken or malicious (the rated window's clerk, or a supervisor)."""
    return await evaluations.order_step(dispatcher, principal, hall, order_id, "appeal", body.reason)


@router.post("/halls/{hall}/rectifications/{order_id}/uphold", response_model=RectificationView)
async def uphold(hall: str, order_id: str, body: ReasonBody, dispatcher: DispatcherDep,
                 principal: PrincipalDep) -> RectificationView:  # fmt: skip
    """申诉成立: the rating no longer counts; the reason is kept."""
    return await evaluations.order_step(dispatcher, principal, hall, order_id, "uphold", body.reason)


@router.post("/halls/{hall}/rectifications/{order_id}/reject", response_model=RectificationView)
async def reject(hall: str, order_id: str, body: ReasonBody, dispatcher: DispatcherDep,
                 principal: PrincipalDep) -> RectificationView:  # fmt: skip
    """驳回申诉: the order goes back to 待核实."""
    return await evaluations.order_step(dispatcher, principal, hall, order_id, "reject", body.reason)


@router.post("/halls/{hall}/rectifications/{order_id}/close", response_model=RectificationView)
async def close(hall: str, order_id: str, body: CloseBody, dispatcher: DispatcherDep,
                principal: PrincipalDep) -> RectificationView:  # fmt: skip
    """提级结案: the hall's head (admin) closes an escalated order with the decision taken."""
    return await evaluations.order_step(dispatcher, principal, hall, order_id, "close", body.note)


def install(app: FastAPI) -> None:
    """Add the routes and turn evaluation errors into `{"detail": sentence}` answers."""
    app.include_router(router, prefix="/api/v1")

    @app.exception_handler(IllegalOrderAction)
    async def _illegal(_: Request, exc: IllegalOrderAction) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(EvaluationError)
    async def _evaluation(_: Request, exc: EvaluationError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)
