"""A simulated line-mode scanner: `scan("A012")` sends the code and CR LF to the driver.

Faults: split (each code arrives in pieces), garbage (noise bytes before the code, ended by a
line end, so the driver sees one junk code and must not choke), unplugged.
"""

from __future__ import annotations

from hardware.sim import DeviceSimulator


class SimulatedScanner(DeviceSimulator):
    kind = "scanner"
    FAULTS = ("unplugged", "split", "garbage")

    def __init__(self, terminator: bytes = b"\r\n") -> None:
        super().__init__()
        self.terminator = terminator
        self.faults: set[str] = set()
        self.scanned: list[str] = []

    def scan(self, code: str) -> None:
        data = code.encode("utf-8") + self.terminator
        self.scanned.append(code)
        if "garbage" in self.faults:
            self.emit(b"\xff\xfe\x00junk\r\n")
        if "split" in self.faults:
            for start in range(0, len(data), 2):
                self.emit(data[start : start + 2])
        else:
            self.emit(data)

    def receive(self, data: bytes) -> None:
        """Scanners ignore what the host sends (configuration barcodes are out of scope)."""

    def _inject(self, fault: str) -> None:
        if fault not in self.FAULTS:
            super()._inject(fault)
        self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()
        super().clear_faults()

    def _command(self, words: list[str]) -> str:
        if words[0] == "scan" and len(words) == 2:
            self.scan(words[1])
            return f"scanned {words[1]}"
        return "commands: scan CODE, fault split|garbage, clear, unplug, replug"
