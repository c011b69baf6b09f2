"""Hall-wide reads: health, hall info (services, windows, waiting), the board, the audit log."""

from __future__ import annotations

import asyncio

from hallq.api_models import AuditEntry, HallHealth, HallInfo, HealthAnswer
from hallq.contract import BoardSnapshot
from server.runtime import Dispatcher, utcnow
from server.views import HallView, board_snapshot, hall_info, hall_view


def health(dispatcher: Dispatcher) -> HealthAnswer:
    """Which halls this dispatcher serves (active), waits for (standby: another dispatcher holds
    them), or is rebuilding after a database error (recovering)."""
    halls = {}
    for hall, runtime in dispatcher.halls.items():
        state = "recovering" if runtime.needs_restore else ("active" if runtime.active else "standby")
        halls[hall] = HallHealth(state=state, seq=runtime.last_seq)
    return HealthAnswer(status="ok", halls=halls)


async def info(dispatcher: Dispatcher, hall: str) -> HallInfo:
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        return hall_info(runtime, utcnow())


def view(dispatcher: Dispatcher, hall: str, seq: int | None = None) -> HallView:
    """The board and every window as the engine has them now, labelled `seq` (default: the last
    committed seq). The publisher takes it as a batch goes to the database (Dispatcher.on_seal), when
    the engine is exactly at that batch's last event."""
    runtime = dispatcher.runtime(hall)
    return hall_view(runtime, runtime.last_seq if seq is None else seq, utcnow())


async def locked_board(dispatcher: Dispatcher, hall: str) -> BoardSnapshot:
    """The board as the engine has it now, labelled with the last committed seq."""
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        return board_snapshot(runtime, runtime.last_seq, utcnow())


async def audit(dispatcher: Dispatcher, hall: str, limit: int) -> list[AuditEntry]:
    """Privileged actions (transfer, 特呼, cancel, logins to windows, credential changes), newest first."""
    dispatcher.runtime(hall)
    rows = await asyncio.to_thread(dispatcher.audit_log.entries, hall, limit)
    return [AuditEntry.model_validate(row) for row in rows]  # the column reads back aware (UtcDateTime)
