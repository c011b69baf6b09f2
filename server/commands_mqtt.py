"""Window commands over MQTT, for keypad bridges and evaluators that cannot speak HTTP (DESIGN.md 5).

A device publishes `{command, request_id, args, device, token?}` to `windows/{window}/commands`; the
dispatcher ALWAYS replies `{request_id, status: ok|error, data, error}`:

- on the MQTT 5 response topic of the request, when it is `windows/{window}/replies` or the replies
  of the device shown to speak for the window (`devices/{device}/replies[/…]`), with the request's
  correlation data — never a device's status, the board or any other topic devices trust;
- otherwise on `windows/{window}/replies`.

`args` are typed per command (hallq.contract.COMMAND_ARGS): a wrong type is an error reply, as HTTP
answers 422. Any payload, however malformed, huge or deeply nested, gets exactly one reply.

Authorisation is by device: the command names its `device`; with the embedded broker (which
authenticates nobody) it must carry the device's token too; with Mosquitto and the shipped ACL the
broker has already checked who may write this window's commands, and the device's credential must
list the window. The command then runs through the same engine path as the HTTP route.

QoS 1 may deliver a command twice, and a bridge retries when no reply came: a repeated (device,
request_id) gets the first reply again and runs nothing. Replies are remembered here; successful ones
are also stored with the command's effects (the idempotency table), so this holds across restarts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pydantic_core
from pydantic import ValidationError

from hallq.bus import BusClient, Message
from hallq.contract import CommandReply, Topics, WindowCommand
from server.json_guard import payload_problem

if TYPE_CHECKING:
    from server.usecases.bus import BusPort

log = logging.getLogger(__name__)
REMEMBERED_REPLIES = 2000
MAX_ITEMS, MAX_DEPTH = 1000, 16  # a command is a few keys; the broker caps its size (message_size_limit)
_REQUEST_ID = re.compile(rb'"request_id"\s*:\s*"([A-Za-z0-9_.:\-]{1,64})"')
Answered = tuple[CommandReply, bool]  # the reply, and whether the named device speaks for the window


class CommandServer:
    """Serves `windows/+/commands` of one hall on the dispatcher's bus client (asyncio dispatch)."""

    def __init__(self, dispatcher: BusPort, hall: str, bus: BusClient, *, require_token: bool) -> None:
        self.dispatcher = dispatcher
        self.hall = hall
        self.bus = bus
        self.topics = Topics(hall)
        self.require_token = require_token
        self._replies: OrderedDict[tuple[str, str, str], Answered] = OrderedDict()
        self._running: dict[tuple[str, str, str], asyncio.Task[Answered]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Any = None

    def start(self) -> None:
        self._unsubscribe = self.bus.subscribe(self.topics.all_window_commands, self._received)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._tasks):
            task.cancel()

    # --- one command ---------------------------------------------------------------------------------

    def _received(self, message: Message) -> None:
        """Runs in the event loop (asyncio dispatch); the work goes to a task so the next message waits for nothing."""
        task = asyncio.get_running_loop().create_task(self._serve(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, message: Message) -> None:
        window = self.topics.window_of(message.topic) or ""
        unparsable = payload_problem(message.payload, MAX_ITEMS, MAX_DEPTH)  # before any parser recurses
        if unparsable is not None:
            log.warning("MQTT command on %s refused unparsed: %s", message.topic, unparsable)
            refusal = CommandReply(
                request_id=_plain_request_id(message.payload), status="error", error=f"malformed command: {unparsable}"
            )
            self._reply(message, window, None, refusal)
            return
        try:
            await self._answer(message, window)
        except Exception:  # the contract is "always a reply": a fault here still answers, on the safe topic
            log.exception("MQTT command on %s could not be served", message.topic)
            reply = CommandReply(
                request_id=_request_id_of(message.payload), status="error",
                error="调度服务器内部错误，请重试 (internal error)",
            )  # fmt: skip
            self._reply(message, window, None, reply)

    async def _answer(self, message: Message, window: str) -> None:
        try:
            command = WindowCommand.from_json(message.payload)
        except ValidationError as exc:
            request_id = _request_id_of(message.payload)
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in exc.errors())
            log.warning("MQTT command on %s refused as malformed: %s", message.topic, problems[:500])
            reply = CommandReply(request_id=request_id, status="error", error=f"malformed command: {problems}"[:500])
            self._reply(message, window, None, reply)
            return
        key = (command.device or "", window, command.request_id)
        known = self._replies.get(key)
        if known is None:
            running = self._running.get(key)
            if running is None:
                running = asyncio.get_running_loop().create_task(self._execute(window, command))
                self._running[key] = running
            try:
                known = await asyncio.shield(running)
            finally:
                self._running.pop(key, None)
            self._remember(key, known)
        else:
            log.info("MQTT command %s from %s repeated; sending the first reply again", command.request_id, key[0])
        reply, device_checked = known
        self._reply(message, window, command.device if device_checked else None, reply)

    async def _execute(self, window: str, command: WindowCommand) -> Answered:
        """The reply, and whether the named device was shown to speak for this window (only then may
        the reply go to that device's own replies topic)."""

        def error(text: str) -> Answered:
            return CommandReply(request_id=command.request_id, status="error", error=text), False

        if not command.device:
            return error("the command names no device (field `device`)")
        if self.require_token and not command.token:
            return error("this broker authenticates nobody: the command needs the device's `token`")
        if self.dispatcher.runtime(self.hall).config.window(window) is None:
            return error(f"没有 {window} 号窗口 (no window {window!r} in hall {self.hall})")
        allowed = await asyncio.to_thread(
            self.dispatcher.authorize_device, self.hall, command.device, command.token, window
        )
        if not allowed:
            log.warning(
                "MQTT command %s for window %s refused: device %s not allowed", command.command, window, command.device
            )
            return error(f"设备 {command.device} 无权操作 {window} 号窗口 (device may not command this window)")
        try:
            data = await self.dispatcher.run_window_command(
                self.hall, window, command.command, dict(command.args), actor_device=command.device,
                request_id=command.request_id,
            )  # fmt: skip
        except Exception as exc:  # every failure is a reply: the device must never wait for nothing
            if _is_domain_error(exc):
                return CommandReply(request_id=command.request_id, status="error", error=str(exc)), True
            log.exception("MQTT command %s at window %s failed", command.command, window)
            text = f"调度服务器内部错误，请重试 (internal error: {type(exc).__name__})"
            return CommandReply(request_id=command.request_id, status="error", error=text), True
        log.info("MQTT command %s at window %s by %s: ok", command.command, window, command.device)
        return CommandReply(request_id=command.request_id, status="ok", data=_jsonable(data)), True

    # --- replies -------------------------------------------------------------------------------------

    def _reply(self, message: Message, window: str, device: str | None, reply: CommandReply) -> None:
        topic = self._reply_topic(message.response_topic, window, device)
        self.bus.publish(
            topic, reply, qos=1, correlation_data=message.correlation_data if topic == message.response_topic else None
        )

    def _reply_topic(self, requested: str | None, window: str, device: str | None) -> str:
        fallback = self.topics.window_replies(window) if window else f"{self.topics.root}/replies"
        if not requested:
            return fallback
        # The dispatcher may write anywhere under the hall: a request may only point it at the window's
        # replies or at the replies of the device it was shown to speak for — never at a topic devices
        # trust (board, calls, windows/{w}, a device's status, dispatcher/status) nor outside the hall.
        own = f"{self.topics.root}/devices/{device}/replies" if device else None
        wildcard = any(c in requested for c in "+#\0")
        if not wildcard and (requested == fallback or (own and (requested == own or requested.startswith(own + "/")))):
            return requested
        log.warning("MQTT command asked for replies on %s; using %s", requested, fallback)
        return fallback

    def _remember(self, key: tuple[str, str, str], reply: Answered) -> None:
        self._replies[key] = reply
        while len(self._replies) > REMEMBERED_REPLIES:
            self._replies.popitem(last=False)


def _request_id_of(raw: bytes) -> str:
    """The request_id of a payload that failed validation, when there is one to quote. Parsed with
    pydantic's parser, which refuses deep nesting with a ValueError (json.loads would recurse)."""
    try:
        data = pydantic_core.from_json(raw)
    except ValueError:  # not JSON, or nested too deep to parse: quote what plainly reads as its id
        return _plain_request_id(raw)
    value = data.get("request_id") if isinstance(data, dict) else None
    return str(value)[:64] if isinstance(value, str | int) else ""


def _plain_request_id(raw: bytes) -> str:
    """The request_id of a payload refused unparsed, where it plainly reads as one (no parser runs)."""
    found = _REQUEST_ID.search(raw[:4096])
    return found.group(1).decode("utf-8", "replace") if found else ""


def _is_domain_error(exc: Exception) -> bool:
    """Errors whose text is a sentence for the clerk (rules, permissions, bad arguments)."""
    from server.auth import Forbidden
    from server.engine.states import EngineError

    names = {"HallStandby", "HallUnknown", "StoreUnavailable", "Unauthorized", "NotFound"}
    return isinstance(exc, EngineError | Forbidden | ValueError | ValidationError) or type(exc).__name__ in names


def _jsonable(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    result = json.loads(json.dumps(data, default=str))
    return result if isinstance(result, dict) else {"result": result}
