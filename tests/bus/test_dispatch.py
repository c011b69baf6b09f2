"""Handlers reach the UI thread only through the dispatcher callable."""

from __future__ import annotations

import os
import threading

from hallq.bus import kivy_dispatch


def test_kivy_dispatch_runs_on_the_clock_not_on_the_calling_thread() -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.clock import Clock

    for leftover in Clock.get_events():  # an earlier test's app in this worker may have left some
        leftover.cancel()
    ran: list[str] = []
    dispatch = kivy_dispatch()
    paho_like = threading.Thread(target=lambda: dispatch(lambda: ran.append(threading.current_thread().name)))
    paho_like.start()
    paho_like.join()
    assert ran == []  # nothing ran on the network thread
    Clock.tick()
    assert ran == [threading.main_thread().name]
