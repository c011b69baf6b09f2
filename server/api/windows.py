"""Window actions from the clerk's terminal: call-next, recall, no-show, finish, park, call-back,
pause/resume, open/close, quick-serve, transfer, call a number (特呼), and the window's state.

Each needs a clerk logged in to that window, a supervisor/admin, or a device credential listing it."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hallq.contract import COMMAND_ARGS, EvaluateArgs, PauseArgs, TransferArgs
from server.api.deps import DispatcherDep, IdempotencyKeyDep, PrincipalDep
from server.api.tickets import IdCard, new_access, new_ticket_id
from server.auth import Forbidden, Principal, authorize_window, may_rate
from server.engine import commands as c
from server.engine.states import UnknownTicket, UnknownWindow
from server.pii import check_id_card, id_hash, mask_name
from server.runtime import Answer, Dispatcher, HallRuntime, utcnow
from server.store.snapshots import ticket_at_window, window_view

router = APIRouter(tags=["windows"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PauseBody(Body):
    reason: str = Field("", max_length=40, description="shown as 暂停服务 (reason)")


class CallBackBody(Body):
    ticket: str = Field(min_length=1, max_length=64, description="id of the parked ticket")


class CallNumberBody(Body):
    number: str = Field(min_length=2, max_length=16, pattern=r"^[A-Za-z]{1,2}\d{1,5}$")


class TransferBody(Body):
    service: str | None = Field(None, min_length=1, max_length=4)
    window: str | None = Field(None, min_length=1, max_length=16)

    @model_validator(mode="after")
    def _exactly_one(self) -> TransferBody:
        if (self.service is None) == (self.window is None):
            raise ValueError("give exactly one of service or window 转业务或转窗口二选一")
        return self


class QuickServeBody(Body):
    service: str = Field(min_length=1, max_length=4)
    priority: Literal["normal", "green"] = "normal"
    green_reason: Literal["elderly", "disabled", "pregnant", "military"] | None = None
    id_card: IdCard | None = None


def _clerk_name(dispatcher: Dispatcher, hall: str, window: str) -> str | None:
    clerk = dispatcher.auth.clerk_at(hall, window)
    return clerk.display_name if clerk else None


def _window_answer(dispatcher: Dispatcher, window: str) -> Any:
    def respond(runtime: HallRuntime, _events: list[Any]) -> Answer:
        return Answer(200, window_view(runtime, window, _clerk_name(dispatcher, runtime.hall, window), utcnow()))

    return respond


def _called_answer(window: str) -> Any:
    """200 {ticket} for the ticket now called at the window, or 204 when nobody was waiting."""

    def respond(runtime: HallRuntime, events: list[Any]) -> Answer:
        called = [e for e in events if e.kind == "ticket_called" and e.window == window]
        if not called:
            return Answer(204, None)
        ticket = runtime.live().ticket(called[-1].ticket_id)
        assert ticket is not None
        return Answer(200, {"ticket": ticket_at_window(runtime, ticket, utcnow())})

    return respond


def _audit(principal: Principal, action: str, target: str, detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"actor": principal.actor, "role": principal.role, "action": action, "target": target, "detail": detail}]


def _reply(response: Response, answer: Answer) -> Any:
    response.status_code = answer.status_code
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.body if answer.status_code != 204 else None


def _authorized(dispatcher: Dispatcher, principal: Principal, hall: str, window: str) -> str | None:
    """Check the caller may act for the window; the clerk's username for the engine (statistics)."""
    if dispatcher.runtime(hall).config.window(window) is None:
        raise UnknownWindow(window)
    authorize_window(principal, hall, window)
    if principal.is_user:
        return principal.name
    clerk = dispatcher.auth.clerk_at(hall, window)
    return clerk.name if clerk else None


@router.get("/halls/{hall}/windows/{window}")
async def get_window(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        return window_view(runtime, window, _clerk_name(dispatcher, hall, window), utcnow())


@router.post(
    "/halls/{hall}/windows/{window}/call-next", status_code=200, responses={204: {"description": "none waiting"}}
)
async def call_next(
    hall: str, window: str, response: Response, dispatcher: DispatcherDep, principal: PrincipalDep,
    key: IdempotencyKeyDep,
) -> Any:  # fmt: skip
    """Finish the current ticket (if still called) and call the next: 200 {ticket}, 204 none waiting.
    `Idempotency-Key`: a retry returns the first answer and never calls a second ticket."""
    clerk = _authorized(dispatcher, principal, hall, window)
    answer = await dispatcher.execute(
        hall, c.CallNext(window, clerk), _called_answer(window),
        idempotency=(f"call-next:{window}", key) if key else None,
    )  # fmt: skip
    return _reply(response, answer)


async def _simple(dispatcher: Dispatcher, principal: Principal, hall: str, window: str, command: Any,
                  audit: list[dict[str, Any]] | None = None) -> Any:  # fmt: skip
    _authorized(dispatcher, principal, hall, window)
    answer = await dispatcher.execute(hall, command, _window_answer(dispatcher, window), audit=audit)
    return answer.body


@router.post("/halls/{hall}/windows/{window}/recall")
async def recall(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    """Announce the current ticket again."""
    return await _simple(dispatcher, principal, hall, window, c.Recall(window))


@router.post("/halls/{hall}/windows/{window}/no-show")
async def no_show(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    """The called citizen did not come (过号); they may rejoin within the hall's limit."""
    return await _simple(dispatcher, principal, hall, window, c.NoShow(window))


@router.post("/halls/{hall}/windows/{window}/finish")
async def finish(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    return await _simple(dispatcher, principal, hall, window, c.Finish(window))


@router.post("/halls/{hall}/windows/{window}/park")
async def park(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    """挂起: the citizen fetches a missing document; call them back later with call-back."""
    return await _simple(dispatcher, principal, hall, window, c.Park(window))


@router.post("/halls/{hall}/windows/{window}/pause")
async def pause(
    hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep, body: PauseBody | None = None
) -> Any:
    """暂停服务 with a reason shown on the board and the window screen."""
    reason = body.reason if body else ""
    return await _simple(dispatcher, principal, hall, window, c.PauseWindow(window, reason))


@router.post("/halls/{hall}/windows/{window}/resume")
async def resume(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    return await _simple(dispatcher, principal, hall, window, c.ResumeWindow(window))


@router.post("/halls/{hall}/windows/{window}/open")
async def open_window(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    clerk = _authorized(dispatcher, principal, hall, window)
    answer = await dispatcher.execute(hall, c.OpenWindow(window, clerk), _window_answer(dispatcher, window))
    return answer.body


@router.post("/halls/{hall}/windows/{window}/close")
async def close_window(hall: str, window: str, dispatcher: DispatcherDep, principal: PrincipalDep) -> Any:
    """Close the window; its called ticket is finished, tickets transferred to it go back to their service."""
    return await _simple(dispatcher, principal, hall, window, c.CloseWindow(window))


@router.post("/halls/{hall}/windows/{window}/call-back")
async def call_back(
    hall: str, window: str, body: CallBackBody, response: Response, dispatcher: DispatcherDep, principal: PrincipalDep
) -> Any:
    """Call a parked ticket back to this window."""
    _authorized(dispatcher, principal, hall, window)
    answer = await dispatcher.execute(hall, c.CallBack(window, body.ticket), _called_answer(window))
    return _reply(response, answer)


@router.post("/halls/{hall}/windows/{window}/call")
async def call_number(
    hall: str, window: str, body: CallNumberBody, response: Response, dispatcher: DispatcherDep,
    principal: PrincipalDep,
) -> Any:  # fmt: skip
    """特呼: call a ticket by its number out of turn (audited)."""
    _authorized(dispatcher, principal, hall, window)
    number = body.number.upper()
    audit = _audit(principal, "call_number", number, {"window": window})
    answer = await dispatcher.execute(hall, c.CallNumber(window, number), _called_answer(window), audit=audit)
    return _reply(response, answer)


@router.post("/halls/{hall}/windows/{window}/transfer")
async def transfer(
    hall: str, window: str, body: TransferBody, dispatcher: DispatcherDep, principal: PrincipalDep
) -> Any:
    """Send the current ticket to another service's queue or to one window (keeps number and time; audited)."""
    target = body.service or f"window:{body.window}"
    audit = _audit(principal, "transfer", target, {"window": window, "service": body.service, "to_window": body.window})
    command = c.Transfer(window=window, to_service=body.service, to_window=body.window)
    return await _simple(dispatcher, principal, hall, window, command, audit=audit)


@router.post("/halls/{hall}/windows/{window}/quick-serve")
async def quick_serve(
    hall: str, window: str, body: QuickServeBody, response: Response, dispatcher: DispatcherDep,
    principal: PrincipalDep,
) -> Any:  # fmt: skip
    """A walk-in served at once: a ticket issued and called at this window in one step."""
    _authorized(dispatcher, principal, hall, window)
    runtime = dispatcher.runtime(hall)
    hashed = masked = None
    if body.id_card is not None:
        today = utcnow().astimezone(runtime.config.hall.tz()).date()
        card = check_id_card(body.id_card.id_number, body.id_card.birth, today)
        hashed = id_hash(dispatcher.settings.hmac_key, card.number)
        masked = mask_name(body.id_card.name)
    command = c.QuickServe(
        window=window, service=body.service, ticket_id=new_ticket_id(), access=new_access(),
        priority=body.priority, green_reason=body.green_reason if body.priority == "green" else None,
        id_hash=hashed, masked_name=masked,
    )  # fmt: skip
    answer = await dispatcher.execute(runtime.hall, command, _called_answer(window))
    return _reply(response, answer)


async def run_window_command(
    dispatcher: Dispatcher, principal: Principal | None, hall: str, window: str, command: str, args: dict[str, Any],
    idempotency: tuple[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The MQTT window commands (contract CommandName), through the same engine path as HTTP.
    `args` are checked with the command's contract model (a list as a pause reason is refused, as HTTP
    refuses it). `idempotency` makes a repeated request answer as the first did, across restarts too.
    Returns the JSON the HTTP route returns ({} for 204). Raises EngineError / Forbidden / ValueError."""
    typed = COMMAND_ARGS[command].model_validate(args) if command in COMMAND_ARGS else None
    if command == "evaluate":
        assert isinstance(typed, EvaluateArgs)
        return await _evaluate_at_window(dispatcher, principal, hall, window, typed, idempotency)
    if principal is not None:
        authorize_window(principal, hall, window)
    clerk = dispatcher.auth.clerk_at(hall, window)
    clerk_name = clerk.name if clerk else None

    async def run(engine_command: Any, respond: Any, audit: list[dict[str, Any]] | None = None) -> Any:
        return await dispatcher.execute(hall, engine_command, respond, audit=audit, idempotency=idempotency)

    simple: dict[str, Any] = {
        "recall": c.Recall(window),
        "no-show": c.NoShow(window),
        "finish": c.Finish(window),
        "resume": c.ResumeWindow(window),
    }
    if command == "call-next":
        answer = await run(c.CallNext(window, clerk_name), _called_answer(window))
        return answer.body or {"ticket": None}
    if command in simple:
        answer = await run(simple[command], _window_answer(dispatcher, window))
    elif isinstance(typed, PauseArgs):
        answer = await run(c.PauseWindow(window, typed.reason), _window_answer(dispatcher, window))
    elif isinstance(typed, TransferArgs):
        actor = principal or dispatcher.auth.device_principal("mqtt")
        audit = _audit(actor, "transfer", typed.service or f"window:{typed.window}", {"window": window})
        transfer_cmd = c.Transfer(window=window, to_service=typed.service, to_window=typed.window)
        answer = await run(transfer_cmd, _window_answer(dispatcher, window), audit)
    else:
        raise ValueError(f"未知命令 unknown command {command!r}")
    return answer.body or {}


async def _evaluate_at_window(
    dispatcher: Dispatcher, principal: Principal | None, hall: str, window: str, args: EvaluateArgs,
    idempotency: tuple[str, str] | None,
) -> dict[str, Any]:  # fmt: skip
    """A rating from the window's evaluator: only a rating device at the window that served the ticket
    (auth.may_rate), never a keypad or another device naming the ticket."""
    from server.store.snapshots import ticket_view

    runtime = dispatcher.runtime(hall)
    ticket_id = args.ticket_id
    if not ticket_id:
        status = runtime.live().window(window)
        ticket_id = status.ticket if status else None
    if not ticket_id:
        raise ValueError(f"{window} 号窗口没有可评价的号码 no ticket to evaluate at window {window}")
    async with runtime.lock:
        ticket = runtime.live().ticket(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        served_at = ticket.window
    if principal is None:
        raise Forbidden("评价需要评价器的设备身份。 A rating needs the evaluator's device identity.")
    may_rate(principal, served_at)
    if served_at != window:
        raise Forbidden(
            f"该号码不是在 {window} 号窗口办理的，不能在此评价。 The ticket was not served at window {window}."
        )

    def respond(rt: HallRuntime, _events: list[Any]) -> Answer:
        rated = rt.live().ticket(ticket_id)
        return Answer(200, ticket_view(rt, rated) if rated else None)

    command = c.Evaluate(ticket_id=ticket_id, score=args.score, comment=args.comment)
    answer = await dispatcher.execute(hall, command, respond, idempotency=idempotency)
    return answer.body or {}
