"""Time passing: the ticker that brings every hall to the present (the day closing at midnight), and
keeps the dispatcher's hold on its halls honest. Runs in the dispatcher's event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from server.runtime import Dispatcher, utcnow

log = logging.getLogger(__name__)
DAY_TICK_S = 30.0


async def tick(dispatcher: Dispatcher, now: dt.datetime | None = None) -> int:
    """One tick: step down from halls whose lock was lost, retry failed restores, and advance every
    active hall to `now` (its events stored and published like a command's). Returns the events made."""
    try:
        await dispatcher.check_ownership()
    except Exception:
        log.exception("checking hall ownership failed")
    made = 0
    for runtime in dispatcher.halls.values():
        if runtime.needs_restore:
            async with runtime.lock:
                await dispatcher.recover(runtime)
        if runtime.engine is None or runtime.needs_restore:
            continue
        try:
            made += await dispatcher.advance(runtime.hall, now)
        except Exception:
            log.exception("advancing hall %s failed; the next tick or command will do it", runtime.hall)
    return made


async def run_ticker(
    dispatcher: Dispatcher, every_s: float = DAY_TICK_S, clock: Callable[[], dt.datetime] = utcnow
) -> None:
    """Tick forever (cancel to stop). `clock` is the time source, so a test can run it across midnight."""
    while True:
        await asyncio.sleep(every_s)
        await tick(dispatcher, clock())
