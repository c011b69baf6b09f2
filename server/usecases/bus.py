"""What the MQTT side (server/publisher.py, server/commands_mqtt.py) needs of the dispatcher: the
committed events, the hall's retained views, and the window commands, as one small port.

`DispatcherBusPort` serves it from the real dispatcher through the use cases; tests of the MQTT side
can stand in a fake that has the same methods (tests/bus/helpers.FakeDispatcher).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from hallq.contract import CommandName
from server.runtime import Dispatcher, HallRuntime
from server.store import EventRow, Store
from server.usecases import halls, windows
from server.views import HallView


class BusPort(Protocol):
    @property
    def halls(self) -> Mapping[str, HallRuntime]: ...

    @property
    def store(self) -> Store: ...

    @property
    def on_commit(self) -> list[Callable[[str, int], None]]: ...

    @property
    def on_events(self) -> list[Callable[[str, list[EventRow]], None]]: ...

    @property
    def on_seal(self) -> list[Callable[[str, int], None]]: ...

    def runtime(self, hall: str) -> HallRuntime: ...

    def hall_view(self, hall: str, seq: int | None = None) -> HallView: ...

    def authorize_device(self, hall: str, device_id: str, token: str | None, window: str) -> bool: ...

    async def run_window_command(
        self, hall: str, window: str, command: CommandName, args: dict[str, Any],
        actor_device: str | None = None, request_id: str | None = None,
    ) -> dict[str, Any]: ...  # fmt: skip


class DispatcherBusPort:
    """The real dispatcher, seen from the bus."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    @property
    def halls(self) -> Mapping[str, HallRuntime]:
        return self.dispatcher.halls

    @property
    def store(self) -> Store:
        return self.dispatcher.store

    @property
    def on_commit(self) -> list[Callable[[str, int], None]]:
        return self.dispatcher.on_commit

    @property
    def on_events(self) -> list[Callable[[str, list[EventRow]], None]]:
        return self.dispatcher.on_events

    @property
    def on_seal(self) -> list[Callable[[str, int], None]]:
        return self.dispatcher.on_seal

    def runtime(self, hall: str) -> HallRuntime:
        return self.dispatcher.runtime(hall)

    def hall_view(self, hall: str, seq: int | None = None) -> HallView:
        return halls.view(self.dispatcher, hall, seq)

    def authorize_device(self, hall: str, device_id: str, token: str | None, window: str) -> bool:
        return windows.device_may_command(self.dispatcher, hall, device_id, token, window)

    async def run_window_command(
        self, hall: str, window: str, command: CommandName, args: dict[str, Any],
        actor_device: str | None = None, request_id: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return await windows.run_mqtt_command(self.dispatcher, hall, window, command, args, actor_device, request_id)
