"""What the hall's threads that talk to the hub share (the uplink, the forwarder): an HTTP client on
the hub's API, a thread woken by `wake()` (never waiting on the network itself), and a stop that does
not wait for a hung hub."""

from __future__ import annotations

import httpx

from server.woken_thread import WokenThread

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
STOP_WAIT_S = 2.0


class HubWorker(WokenThread):
    """Subclasses write `_run`: wait on `_changed` for `_dirty` or `_stopping`, then work."""

    def __init__(self, hub_url: str, thread_name: str) -> None:
        # A request to a hung hub may hold the thread for TIMEOUT: the dispatcher does not wait for it
        # (a daemon thread; what was sent and not yet acknowledged is sent again, the hub keeps it once).
        super().__init__(thread_name, STOP_WAIT_S)
        self.client = httpx.Client(base_url=hub_url.rstrip("/") + "/api/v1/hub", timeout=TIMEOUT)
        self._dirty = True  # the first round runs at once: catch up with what is waiting

    def stop(self) -> bool:
        stopped = super().stop()
        if stopped:
            self.client.close()
        return stopped

    def wake(self) -> None:
        """Ask for a round soon; returns at once."""
        with self._changed:
            self._dirty = True
            self._changed.notify_all()
