"""The scanner interface, shared by the line-mode and HID drivers."""

from __future__ import annotations

import abc
from collections.abc import Callable

ScanCallback = Callable[[str], None]


class Scanner(abc.ABC):
    """Delivers scanned strings to a callback from its own thread, until `stop()`."""

    online = False

    @abc.abstractmethod
    def start(self, on_scan: ScanCallback) -> Scanner: ...

    @abc.abstractmethod
    def stop(self) -> None: ...
