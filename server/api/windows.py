"""Window actions over HTTP (the clerk's terminal); each route is one use case of server/usecases/windows.py."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hallq.api_models import (
    CallBackBody,
    CalledAnswer,
    CallNumberBody,
    PauseBody,
    QuickServeBody,
    TransferBody,
    WindowAnswer,
)
from server.api.deps import DispatcherDep, IdempotencyKeyDep, PrincipalDep
from server.api.replies import reply, typed
from server.auth import Principal
from server.runtime import Dispatcher
from server.usecases import windows
from server.usecases.windows import WindowCall

router = APIRouter(tags=["windows"])
CALLED = {"response_model": CalledAnswer, "responses": {204: {"description": "none waiting"}}}


def _call(dispatcher: Dispatcher, principal: Principal, hall: str, window: str) -> WindowCall:
    return WindowCall(dispatcher, principal, hall, window)


@router.get("/halls/{hall}/windows/{window}", response_model=WindowAnswer)
async def get_window(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    return typed(await windows.read(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/call-next", status_code=200, **CALLED)  # type: ignore[arg-type]
async def call_next(
    hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep, key: IdempotencyKeyDep
) -> Response:
    """Finish the current ticket (if still called) and call the next: 200 {ticket}, 204 none waiting.
    `Idempotency-Key`: a retry returns the first answer and never calls a second ticket."""
    # Served by server/api/hot_routes.py below the router; this declaration is the contract (OpenAPI)
    # and what the router answers. Both check the same and answer through `answer_call_next`.
    return await answer_call_next(dispatcher, principal, hall, window, key)


async def answer_call_next(dispatcher: Dispatcher, principal: Principal, hall: str, window: str,
                           key: str | None) -> Response:  # fmt: skip
    idempotency = (f"call-next:{window}", key) if key else None
    return reply(await windows.call_next(WindowCall(dispatcher, principal, hall, window, idempotency)))


@router.post("/halls/{hall}/windows/{window}/recall", response_model=WindowAnswer)
async def recall(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    """Announce the current ticket again."""
    return reply(await windows.recall(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/no-show", response_model=WindowAnswer)
async def no_show(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    """The called citizen did not come (过号); they may rejoin within the hall's limit."""
    return reply(await windows.no_show(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/finish", response_model=WindowAnswer)
async def finish(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    return reply(await windows.finish(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/park", response_model=WindowAnswer)
async def park(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    """挂起: the citizen fetches a missing document; call them back later with call-back."""
    return reply(await windows.park(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/pause", response_model=WindowAnswer)
async def pause(
    hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep, body: PauseBody | None = None
) -> Response:
    """暂停服务 with a reason shown on the board and the window screen."""
    return reply(await windows.pause(_call(dispatcher, principal, hall, window), body or PauseBody()))


@router.post("/halls/{hall}/windows/{window}/resume", response_model=WindowAnswer)
async def resume(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    return reply(await windows.resume(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/open", response_model=WindowAnswer)
async def open_window(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    return reply(await windows.open_window(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/close", response_model=WindowAnswer)
async def close_window(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Response:
    """Close the window; its called ticket is finished, tickets transferred to it go back to their service."""
    return reply(await windows.close_window(_call(dispatcher, principal, hall, window)))


@router.post("/halls/{hall}/windows/{window}/call-back", **CALLED)  # type: ignore[arg-type]
async def call_back(
    hall: str, window: str, body: CallBackBody, dispatcher: DispatcherDep, principal: PrincipalDep
) -> Response:
    """Call a parked ticket back to this window."""
    return reply(await windows.call_back(_call(dispatcher, principal, hall, window), body))


@router.post("/halls/{hall}/windows/{window}/call", **CALLED)  # type: ignore[arg-type]
async def call_number(
    hall: str, window: str, body: CallNumberBody, dispatcher: DispatcherDep, principal: PrincipalDep
) -> Response:
    """特呼: call a ticket by its number out of turn (audited)."""
    return reply(await windows.call_number(_call(dispatcher, principal, hall, window), body))


@router.post("/halls/{hall}/windows/{window}/transfer", response_model=WindowAnswer)
async def transfer(
    hall: str, window: str, body: TransferBody, dispatcher: DispatcherDep, principal: PrincipalDep
) -> Response:
    """Send the current ticket to another service's queue or to one window (keeps number and time; audited)."""
    return reply(await windows.transfer(_call(dispatcher, principal, hall, window), body))


@router.post("/halls/{hall}/windows/{window}/quick-serve", **CALLED)  # type: ignore[arg-type]
async def quick_serve(
    hall: str, window: str, body: QuickServeBody, dispatcher: DispatcherDep, principal: PrincipalDep
) -> Response:
    """A walk-in served at once: a ticket issued and called at this window in one step."""
    return reply(await windows.quick_serve(_call(dispatcher, principal, hall, window), body))
