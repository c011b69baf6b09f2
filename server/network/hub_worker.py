"""What the hall's threads that talk to the hub share (the uplink, the forwarder): an HTTP client on
the hub's API, a thread woken by `wake()` (never waiting on the network itself), and a stop that does
not wait for a hung hub."""

from __future__ import annotations

import threading

import httpx

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
STOP_WAIT_S = 2.0


class HubWorker:
    """Subclasses write `_run`: wait on `_changed` for `_dirty` or `_stopping`, then work."""

    def __init__(self, hub_url: str, thread_name: str) -> None:
        self.client = httpx.Client(base_url=hub_url.rstrip("/") + "/api/v1/hub", timeout=TIMEOUT)
        self._changed = threading.Condition()
        self._dirty = True  # the first round runs at once: catch up with what is waiting
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        # A request to a hung hub may hold the thread for TIMEOUT: the dispatcher does not wait for it
        # (a daemon thread; what was sent and not yet acknowledged is sent again, the hub keeps it once).
        self._thread.join(timeout=STOP_WAIT_S)
        if not self._thread.is_alive():
            self.client.close()

    def wake(self) -> None:
        """Ask for a round soon; returns at once."""
        with self._changed:
            self._dirty = True
            self._changed.notify_all()

    def _run(self) -> None:
        raise NotImplementedError
