"""The MQTT contract (DESIGN.md section 5): topic builders and one pydantic model per payload.

Every process that speaks MQTT builds its topics here and parses payloads with these models, so a
change to the contract is one change in one file. Payloads never carry a full name or ID number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hallq.api_models import Body, PauseBody, TransferBody, WindowEvaluationBody

ROOT = "hallq/v1"


class Topics:
    """Topic builders for one hall: `Topics("demo").calls` → `hallq/v1/demo/calls`."""

    def __init__(self, hall: str) -> None:
        if not hall or any(c in hall for c in "/+#"):
            raise ValueError(f"hall id {hall!r} cannot be used in a topic")
        self.hall = hall
        self.root = f"{ROOT}/{hall}"

    @property
    def calls(self) -> str:
        return f"{self.root}/calls"

    @property
    def board(self) -> str:
        return f"{self.root}/board"

    def window(self, window: str) -> str:
        return f"{self.root}/windows/{window}"

    def window_commands(self, window: str) -> str:
        return f"{self.root}/windows/{window}/commands"

    def window_replies(self, window: str) -> str:
        return f"{self.root}/windows/{window}/replies"

    def device_status(self, device: str) -> str:
        return f"{self.root}/devices/{device}/status"

    @property
    def dispatcher_status(self) -> str:
        return f"{self.root}/dispatcher/status"

    # wildcards for subscribers
    @property
    def all_windows(self) -> str:
        return f"{self.root}/windows/+"

    @property
    def all_window_commands(self) -> str:
        return f"{self.root}/windows/+/commands"

    @property
    def all_device_status(self) -> str:
        return f"{self.root}/devices/+/status"

    def window_of(self, topic: str) -> str | None:
        """The window id in `.../windows/{window}[/commands|/replies]`, or None."""
        prefix = f"{self.root}/windows/"
        if not topic.startswith(prefix):
            return None
        return topic[len(prefix) :].split("/", 1)[0] or None


class Payload(BaseModel):
    # extra="ignore": a newer dispatcher may add fields; older devices must keep working.
    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes | str) -> Any:
        return cls.model_validate_json(raw)


Priority = Literal["normal", "green", "appointment"]
WindowState = Literal["open", "paused", "closed"]


class CallMessage(Payload):
    """`calls`: a ticket called (or recalled) to a window; voice callers and boards act on it."""

    seq: int = Field(ge=1)
    type: Literal["call", "recall"]
    ticket: str = Field(description="ticket number, e.g. A012")
    window: str
    window_name: str
    service: str
    service_name: str
    priority: Priority = "normal"
    at: dt.datetime
    announce: str = Field(description="the rendered announcement text, ticket numbers only")


class BoardCall(Payload):
    ticket: str
    window: str
    window_name: str
    service: str
    at: dt.datetime


class BoardWindow(Payload):
    window: str
    name: str
    state: WindowState
    ticket: str | None = None
    reason: str | None = Field(None, description="pause reason, shown as 暂停服务")


class BoardWaiting(Payload):
    name: str
    count: int = Field(ge=0)
    est_wait_s: int = Field(ge=0)


class BoardSnapshot(Payload):
    """`board` (retained): the whole hall at one `seq`; every window and service, idle ones too."""

    seq: int = Field(ge=0)
    at: dt.datetime
    recent_calls: list[BoardCall] = Field(default_factory=list, max_length=10)
    windows: list[BoardWindow] = Field(default_factory=list)
    waiting: dict[str, BoardWaiting] = Field(default_factory=dict)
    notice: str = ""


class WindowStateMessage(Payload):
    """`windows/{window}` (retained): what the LED strip and the clerk's terminal show."""

    seq: int = Field(ge=0)
    state: WindowState
    ticket: str | None = None
    text: str = Field(description="what an LED strip shows: 请A012号, 暂停服务, or the window name")


CommandName = Literal["call-next", "recall", "no-show", "finish", "pause", "resume", "transfer", "evaluate"]


# A command's `args` take exactly the fields its HTTP route takes, typed the same (a list where a text
# belongs is refused, never turned into a string): they are the HTTP body models, defined once.
CommandArgs = Body
PauseArgs = PauseBody
TransferArgs = TransferBody
EvaluateArgs = WindowEvaluationBody


class NoArgs(Body):
    """A command that takes no arguments."""


COMMAND_ARGS: dict[str, type[CommandArgs]] = {
    "call-next": NoArgs,
    "recall": NoArgs,
    "no-show": NoArgs,
    "finish": NoArgs,
    "resume": NoArgs,
    "pause": PauseArgs,
    "transfer": TransferArgs,
    "evaluate": EvaluateArgs,
}


class WindowCommand(Payload):
    """`windows/{window}/commands`: from keypad bridges and evaluators that cannot speak HTTP.
    `args` is checked against the command's model (COMMAND_ARGS) when the command is read."""

    command: CommandName
    request_id: str = Field(min_length=1, max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)
    device: str | None = Field(None, max_length=48, description="the sending device, checked against its credentials")
    token: str | None = Field(
        None, max_length=256, description="the device token, where the broker does not authenticate"
    )

    @model_validator(mode="after")
    def _args_fit_the_command(self) -> WindowCommand:
        COMMAND_ARGS[self.command].model_validate(self.args)
        return self

    def typed_args(self) -> CommandArgs:
        """The args as the command's model (valid: checked when the command was read)."""
        return COMMAND_ARGS[self.command].model_validate(self.args)


class CommandReply(Payload):
    """Always sent for a command: on the MQTT 5 response topic or `windows/{window}/replies`."""

    request_id: str
    status: Literal["ok", "error"]
    data: dict[str, Any] | None = None
    error: str | None = None


class DeviceStatus(Payload):
    """`devices/{device}/status` (retained; also the device's Last Will with online=false)."""

    online: bool
    kind: str
    at: dt.datetime
    detail: dict[str, Any] = Field(default_factory=dict)


class DispatcherStatus(Payload):
    """`dispatcher/status` (retained; also the dispatcher's Last Will with online=false)."""

    online: bool
    at: dt.datetime
