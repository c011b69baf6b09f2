"""Window actions: call-next, recall, no-show, finish, park, call-back, pause/resume, open/close,
quick-serve, transfer, 特呼, a rating at the window, and the window's state.

One function per action, called by the HTTP routes and, through `MQTT_COMMANDS`, by the MQTT window
commands of keypad bridges and evaluators, so a command means the same from every door. Each needs a
clerk logged in to that window, a supervisor/admin, or a device credential listing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hallq.api_models import (
    CallBackBody,
    CalledAnswer,
    CallNumberBody,
    PauseBody,
    QuickServeBody,
    TransferBody,
    WindowAnswer,
    WindowEvaluationBody,
)
from hallq.contract import CommandName
from hallq.evaluation_models import RatingBody
from server import pii
from server.auth import Forbidden, Principal, authorize_window
from server.engine import commands as c
from server.engine.states import UnknownTicket, UnknownWindow
from server.runtime import Answer, Dispatcher, HallRuntime, utcnow
from server.usecases.common import audit_entry
from server.usecases.tickets import new_access, new_ticket_id, rate
from server.views import ticket_at_window, ticket_view, window_view


@dataclass(frozen=True)
class WindowCall:
    """Who acts for which window. `principal` None: a device the broker already authenticated."""

    dispatcher: Dispatcher
    principal: Principal | None
    hall: str
    window: str
    idempotency: tuple[str, str] | None = None

    @property
    def runtime(self) -> HallRuntime:
        return self.dispatcher.runtime(self.hall)

    def clerk_username(self) -> str | None:
        """The clerk the engine records for statistics: the caller, or whoever is logged in there."""
        if self.principal is not None and self.principal.is_user:
            return self.principal.name
        clerk = self.dispatcher.auth.clerk_at(self.hall, self.window)
        return clerk.name if clerk else None

    def clerk_display_name(self) -> str | None:
        clerk = self.dispatcher.auth.clerk_at(self.hall, self.window)
        return clerk.display_name if clerk else None

    def authorize(self) -> None:
        """The window exists and the caller may act for it."""
        if self.runtime.config.window(self.window) is None:
            raise UnknownWindow(self.window)
        if self.principal is not None:
            authorize_window(self.principal, self.hall, self.window)

    async def run(self, command: Any, respond: Any, audit: list[dict[str, Any]] | None = None) -> Answer:
        return await self.dispatcher.execute(self.hall, command, respond, audit=audit, idempotency=self.idempotency)

    def actor(self) -> Principal:
        return self.principal or self.dispatcher.auth.device_principal("mqtt")


def _window_answer(call: WindowCall) -> Any:
    def respond(runtime: HallRuntime, _events: list[Any]) -> Answer:
        return Answer(200, window_view(runtime, call.window, call.clerk_display_name(), utcnow()))

    return respond


def _called_answer(window: str) -> Any:
    """200 {ticket} for the ticket now called at the window, or 204 when nobody was waiting."""

    def respond(runtime: HallRuntime, events: list[Any]) -> Answer:
        called = [e for e in events if e.kind == "ticket_called" and e.window == window]
        if not called:
            return Answer(204, None)
        ticket = runtime.live().ticket(called[-1].ticket_id)
        assert ticket is not None
        return Answer(200, CalledAnswer(ticket=ticket_at_window(runtime, ticket, utcnow())))

    return respond


async def read(call: WindowCall) -> WindowAnswer:
    runtime = call.runtime
    async with runtime.lock:
        return window_view(runtime, call.window, call.clerk_display_name(), utcnow())


async def call_next(call: WindowCall) -> Answer:
    """Finish the current ticket (if still called) and call the next: 200 {ticket}, 204 none waiting."""
    call.authorize()
    return await call.run(c.CallNext(call.window, call.clerk_username()), _called_answer(call.window))


async def _simple(call: WindowCall, command: Any, audit: list[dict[str, Any]] | None = None) -> Answer:
    call.authorize()
    return await call.run(command, _window_answer(call), audit)


async def recall(call: WindowCall) -> Answer:
    return await _simple(call, c.Recall(call.window))


async def no_show(call: WindowCall) -> Answer:
    return await _simple(call, c.NoShow(call.window))


async def finish(call: WindowCall) -> Answer:
    return await _simple(call, c.Finish(call.window))


async def park(call: WindowCall) -> Answer:
    return await _simple(call, c.Park(call.window))


async def pause(call: WindowCall, body: PauseBody) -> Answer:
    return await _simple(call, c.PauseWindow(call.window, body.reason))


async def resume(call: WindowCall) -> Answer:
    return await _simple(call, c.ResumeWindow(call.window))


async def open_window(call: WindowCall) -> Answer:
    call.authorize()
    return await call.run(c.OpenWindow(call.window, call.clerk_username()), _window_answer(call))


async def close_window(call: WindowCall) -> Answer:
    return await _simple(call, c.CloseWindow(call.window))


async def call_back(call: WindowCall, body: CallBackBody) -> Answer:
    call.authorize()
    return await call.run(c.CallBack(call.window, body.ticket), _called_answer(call.window))


async def call_number(call: WindowCall, body: CallNumberBody) -> Answer:
    """特呼: call a ticket by its number out of turn (audited)."""
    call.authorize()
    number = body.number.upper()
    audit = audit_entry(call.actor(), "call_number", number, {"window": call.window})
    return await call.run(c.CallNumber(call.window, number), _called_answer(call.window), audit)


async def transfer(call: WindowCall, body: TransferBody) -> Answer:
    """Send the current ticket to another service's queue or to one window (keeps number and time)."""
    target = body.service or f"window:{body.window}"
    detail = {"window": call.window, "service": body.service, "to_window": body.window}
    command = c.Transfer(window=call.window, to_service=body.service, to_window=body.window)
    return await _simple(call, command, audit_entry(call.actor(), "transfer", target, detail))


async def quick_serve(call: WindowCall, body: QuickServeBody) -> Answer:
    """A walk-in served at once: a ticket issued and called at this window in one step."""
    call.authorize()
    hashed = masked = None
    if body.id_card is not None:
        today = utcnow().astimezone(call.runtime.config.hall.tz()).date()
        card = pii.check_id_card(body.id_card.id_number, body.id_card.birth, today)  # 422 when it does not hold
        hashed = pii.id_hash(call.dispatcher.settings.hmac_key, card.number)
        masked = pii.mask_name(body.id_card.name)
    command = c.QuickServe(
        window=call.window,
        service=body.service,
        ticket_id=new_ticket_id(),
        access=new_access(),
        priority=body.priority,
        green_reason=body.green_reason if body.priority == "green" else None,
        id_hash=hashed,
        masked_name=masked,
    )
    return await call.run(command, _called_answer(call.window))


async def evaluate_at_window(call: WindowCall, args: WindowEvaluationBody) -> Answer:
    """A rating from the window's evaluator: only a rating device at the window that served the ticket
    (auth.may_rate), never a keypad, a clerk, or another device naming the ticket. It goes through the
    same path as the HTTP rating (tickets.rate: the national record, a 差评's order, then the engine)."""
    runtime = call.runtime
    if runtime.config.window(call.window) is None:
        raise UnknownWindow(call.window)
    ticket_id = args.ticket_id
    async with runtime.lock:
        if not ticket_id:
            status = runtime.live().window(call.window)
            ticket_id = status.ticket if status else None
        if not ticket_id:
            raise ValueError(f"{call.window} 号窗口没有可评价的号码 no ticket to evaluate at window {call.window}")
        if runtime.live().ticket(ticket_id) is None:
            raise UnknownTicket(ticket_id)
        replay = call.idempotency is not None and call.idempotency in runtime.answers
    if call.principal is None:
        raise Forbidden("评价需要评价器的设备身份。 A rating needs the evaluator's device identity.")
    rated = ticket_id

    def respond(runtime: HallRuntime, _events: list[Any]) -> Answer:
        found = runtime.live().ticket(rated)
        return Answer(200, ticket_view(runtime, found) if found else None)

    if replay:  # the device repeats a request already done: the first answer, nothing runs again
        return await call.run(c.Evaluate(ticket_id=rated, score=args.score, comment=args.comment), respond)
    body = RatingBody(score=args.score, comment=args.comment, channel="evaluator")
    answer, _rating = await rate(
        call.dispatcher, call.principal, call.hall, rated, None, body, window=call.window, idempotency=call.idempotency
    )
    return answer


WindowAction = Callable[[WindowCall, dict[str, Any]], Awaitable[Answer]]

# The MQTT window commands (contract `CommandName`), each the same function the HTTP route runs.
# Arguments are parsed with the HTTP body models (the contract's COMMAND_ARGS are the same models), so
# what HTTP refuses with 422 MQTT refuses too.
MQTT_COMMANDS: dict[str, WindowAction] = {
    "call-next": lambda call, _args: call_next(call),
    "recall": lambda call, _args: recall(call),
    "no-show": lambda call, _args: no_show(call),
    "finish": lambda call, _args: finish(call),
    "pause": lambda call, args: pause(call, PauseBody.model_validate(args)),
    "resume": lambda call, _args: resume(call),
    "transfer": lambda call, args: transfer(call, TransferBody.model_validate(args)),
    "evaluate": lambda call, args: evaluate_at_window(call, WindowEvaluationBody.model_validate(args)),
}


def mqtt_command_idempotency(device: str, window: str, request_id: str) -> tuple[str, str]:
    """The idempotency (scope, key) of an MQTT window command; hashed: device names have no length limit."""
    digest = hashlib.sha256("\0".join((device, window, request_id)).encode()).hexdigest()
    return ("mqtt-command", digest)


async def run_mqtt_command(
    dispatcher: Dispatcher, hall: str, window: str, command: CommandName, args: dict[str, Any],
    device: str | None, request_id: str | None,
) -> dict[str, Any]:  # fmt: skip
    """A window command from MQTT, run exactly as the HTTP route runs it. Its answer is stored with
    its effects under (device, window, request_id), so a device that repeats a request, even after the
    dispatcher restarted, gets the first answer and nothing runs twice. Returns the JSON the HTTP
    route returns ({"ticket": null} for call-next's 204, {} for other empty answers).
    Raises EngineError / Forbidden / ValueError / ValidationError with a sentence for the device."""
    action = MQTT_COMMANDS.get(command)
    if action is None:
        raise ValueError(f"未知命令 unknown command {command!r}")
    principal = dispatcher.auth.device_principal(device) if device else None
    idempotency = mqtt_command_idempotency(device or "", window, request_id) if request_id else None
    answer = await action(WindowCall(dispatcher, principal, hall, window, idempotency), args)
    data = answer.json_body()
    if data is None:
        return {"ticket": None} if command == "call-next" else {}
    return data


def device_may_command(dispatcher: Dispatcher, hall: str, device_id: str, token: str | None, window: str) -> bool:
    """May this device command this window? With a token: it must verify and belong to the device.
    Without one (an external broker already authenticated the device): its credential must list the
    window. Never raises."""
    try:
        if token is not None:
            principal = dispatcher.auth.authenticate(token)
            # only the named device's own token: a clerk's login or another device's token is no proof
            if principal.kind != "device" or principal.name != device_id:
                return False
            return principal.may_act_in(hall) and window in principal.windows
        return dispatcher.auth.device_principal(device_id).may_act_in(hall) and (
            window in dispatcher.auth.device_windows(device_id)
        )
    except Exception:
        return False
