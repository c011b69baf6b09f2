"""Wires the window terminal together: settings → API client, presenter, MQTT link, Kivy app.

Kept free of Kivy imports at module level so `hallq terminal --help` and the presenter tests do
not need a display.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hallq.contract import BoardSnapshot, Topics, WindowStateMessage
from hallq.device import DeviceSettings
from hallq.screen import WindowGeometry, configure_window

if TYPE_CHECKING:
    from caller.terminal.app import TerminalApp
    from caller.terminal.presenter import TerminalPresenter
    from hallq.worker import UiWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TerminalOptions:
    window: str
    windowed: bool = False
    size: tuple[int, int] = (1280, 800)
    position: tuple[int, int] | None = None
    rating: bool = True
    speak_rating: bool = True  # the citizen's rating screen speaks, where the PC has a sound card
    audio_device: str | None = None  # aplay's -D; None: the default device
    screenshot: Path | None = None


def configure_kivy(options: TerminalOptions) -> None:
    """Kivy's settings: must run before Kivy creates its window (before importing caller.terminal.app)."""
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # Esc closes the terminal's dialogs, so it must never close the terminal.
    configure_window(WindowGeometry(options.size, not options.windowed, options.position))


def build_app(
    settings: DeviceSettings, options: TerminalOptions, on_started: Callable[[TerminalApp], None] | None = None
) -> TerminalApp:
    configure_kivy(options)
    from caller.terminal.api import TerminalApi
    from caller.terminal.app import TerminalApp
    from caller.terminal.presenter import TerminalPresenter
    from caller.terminal.speech import SilentSpeaker, Speaker, loudspeaker

    api = TerminalApi(settings.server, settings.hall, options.window, device_token=settings.token)
    holder: dict[str, TerminalPresenter] = {}
    ask = evaluator_asker(settings.evaluator, lambda: holder["presenter"]) if settings.evaluator else None
    speaker: Speaker = loudspeaker(options.audio_device) if options.rating and options.speak_rating else SilentSpeaker()

    def presenter(runner: Any, on_change: Callable[[Any], None]) -> TerminalPresenter:
        made = TerminalPresenter(
            api, runner, on_change, demo=settings.demo, rating=options.rating, ask_evaluator=ask, speaker=speaker
        )
        holder["presenter"] = made
        return made

    return TerminalApp(presenter, start_link=lambda p: start_link(settings, options.window, p), on_started=on_started)


def evaluator_asker(
    url: str, presenter: Callable[[], TerminalPresenter], worker: UiWorker | None = None
) -> Callable[[Any], None]:
    """Ask the window's hardware evaluator in a worker of its own (it blocks until pressed or timed
    out; one question at a time on the RS-485 line); the answer reaches the presenter on Kivy's
    thread (or `worker`'s, in tests). An evaluator that does not answer is logged: the screen still asks."""
    from caller.terminal.presenter import RATING_TIMEOUT_S
    from hardware.evaluator import open_evaluator

    evaluator = open_evaluator(url)
    if worker is None:
        from caller.terminal.app import kivy_worker

        worker = kivy_worker("evaluator")

    def ask(ticket: Any) -> None:
        def answered(score: Any, error: BaseException | None) -> None:
            if error is not None:  # ModbusError, OSError
                log.warning("evaluator did not answer for %s: %s", ticket.number, error)
            else:
                presenter().evaluator_rated(ticket, score)

        worker.submit(lambda: evaluator.request_rating(ticket.number, timeout=RATING_TIMEOUT_S), answered)

    return ask


def start_link(settings: DeviceSettings, window: str, presenter: TerminalPresenter) -> Callable[[], None]:
    """Follow `windows/{window}` and `board` through hallq.bus; handlers run on Kivy's thread."""
    from kivy.clock import Clock

    from hallq.bus import BusClient, kivy_dispatch

    topics = Topics(settings.hall)
    bus = BusClient.for_device(settings, dispatch=kivy_dispatch(), status_detail={"window": window})
    bus.subscribe_model(topics.window(window), WindowStateMessage, lambda m, _raw: presenter.on_window_message(m))
    bus.subscribe_model(topics.board, BoardSnapshot, lambda board, _raw: presenter.on_board(board))
    bus.on_connection_change(presenter.on_bus)
    bus.start()

    def watch_refusal(_dt: float) -> None:
        if bus.error is not None:  # wrong device id/token: say so on screen, not only in the log
            presenter.on_bus_problem(f"消息服务器拒绝了本终端（{settings.device}）的凭据，请联系管理员")

    watcher = Clock.schedule_interval(watch_refusal, 2.0)

    def stop() -> None:
        watcher.cancel()
        bus.stop()

    return stop


def run_terminal(settings: DeviceSettings, options: TerminalOptions) -> int:
    def screenshot_then_stop(app: TerminalApp) -> None:
        """Wait for the MQTT link (at most 10 s) and a few more frames, so the picture is settled."""
        from kivy.clock import Clock

        started = time.monotonic()

        def shoot(_dt: float) -> None:
            assert options.screenshot is not None
            app.screenshot(options.screenshot)
            log.info("screenshot saved to %s", options.screenshot)
            app.stop()

        def ready(_dt: float) -> bool:
            elapsed = time.monotonic() - started
            if elapsed >= 2.5 and (app.presenter.view.bus_online or elapsed >= 10):
                Clock.schedule_once(shoot, 0.5)
                return False
            return True

        Clock.schedule_interval(ready, 0.25)

    app = build_app(settings, options, screenshot_then_stop if options.screenshot else None)
    app.run()
    return 0
