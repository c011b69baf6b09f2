"""The shape the dispatcher's and the hub's background workers share (the statistics' folder, the rating
feeder, the uplink, the forwarder, the hub's folder): one daemon thread that sleeps on a condition
until its own wake state says there is work, and a stop that cuts every wait short.

Each worker keeps its own wake state (a flag, a set of halls, a count) under `_changed` and writes
`_run`; the base owns the thread, the stop flag and the bounded stop."""

from __future__ import annotations

import threading


class WokenThread:
    def __init__(self, thread_name: str, stop_wait_s: float) -> None:
        # Condition's default lock is re-entrant: `_pause` may be called with `_changed` held or not
        self._changed = threading.Condition()
        self._stopping = False
        self._stop_wait_s = stop_wait_s
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> bool:
        """Ask the thread to stop and wait for it at most `stop_wait_s`; True once it has ended (or never
        started). A daemon thread still busy after that does not hold the process up."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=self._stop_wait_s)
        return not self._thread.is_alive()

    def _pause(self, seconds: float) -> bool:
        """Sleep `seconds` (a retry's wait, a burst's gathering) unless a stop comes; True if it came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._stopping, seconds)

    def _run(self) -> None:
        raise NotImplementedError
