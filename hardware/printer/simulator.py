"""A simulated ESC/POS ticket printer: captures what would be printed, answers DLE EOT status queries.

    sim = SimulatedPrinter()
    sim.set_paper("near_end")      # ok / near_end / out
    sim.set_cover_open(True)
    sim.inject("silent")            # stops answering status queries (a printer without status)
    sim.printed                     # every byte printed so far (status queries removed)
    sim.jobs                        # the printed bytes cut into tickets (split after each cut)

Like a real printer it prints nothing while the paper is out or the cover is open.
"""

from __future__ import annotations

import re

from hardware.sim import DeviceSimulator

PAPER_STATES = ("ok", "near_end", "out")
_CUT = re.compile(rb"\x1dV(?:[\x00\x01\x30\x31]|[\x41\x42].)", re.DOTALL)


class SimulatedPrinter(DeviceSimulator):
    kind = "printer"
    FAULTS = ("unplugged", "paper_out", "paper_near_end", "cover_open", "silent", "error")

    def __init__(self) -> None:
        super().__init__()
        self.paper = "ok"
        self.cover_open = False
        self.error = False
        self.silent = False
        self.printed = bytearray()
        self.dropped = 0  # bytes received while unable to print
        self.status_queries = 0
        self._pending = b""

    # -- in-process API ----------------------------------------------------------------------------
    def set_paper(self, state: str) -> None:
        if state not in PAPER_STATES:
            raise ValueError(f"paper state {state!r}: choose one of {', '.join(PAPER_STATES)}")
        with self.lock:
            self.paper = state

    def set_cover_open(self, is_open: bool = True) -> None:
        with self.lock:
            self.cover_open = is_open

    def _inject(self, fault: str) -> None:
        if fault == "paper_out":
            self.set_paper("out")
        elif fault == "paper_near_end":
            self.set_paper("near_end")
        elif fault == "cover_open":
            self.set_cover_open(True)
        elif fault == "silent":
            self.silent = True
        elif fault == "error":
            self.error = True
        else:
            super()._inject(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.paper, self.cover_open, self.silent, self.error = "ok", False, False, False
        super().clear_faults()

    @property
    def jobs(self) -> list[bytes]:
        """Printed bytes split after each cut command (one entry per ticket)."""
        data = bytes(self.printed)
        pieces, start = [], 0
        for match in _CUT.finditer(data):
            pieces.append(data[start : match.end()])
            start = match.end()
        if data[start:]:
            pieces.append(data[start:])
        return pieces

    def preview(self, job: int = -1, columns: int = 32) -> str:
        """A text picture of one printed job (the last by default), for terminals and demos."""
        from hardware.printer.preview import preview

        jobs = self.jobs
        return preview(jobs[job], columns) if jobs else "(nothing printed)"

    def clear_output(self) -> None:
        with self.lock:
            self.printed.clear()

    @property
    def can_print(self) -> bool:
        return self.paper != "out" and not self.cover_open and not self.error

    # -- device side -------------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        with self.lock:
            data = self._pending + data
            self._pending = b""
            out = bytearray()
            index = 0
            while index < len(data):
                if data[index] == 0x10:  # DLE: maybe a real-time status request (DLE EOT n)
                    if len(data) - index < 3:
                        self._pending = data[index:]
                        break
                    if data[index + 1] == 0x04 and 1 <= data[index + 2] <= 4:
                        self._flush(out)
                        out.clear()
                        self._answer_status(data[index + 2])
                        index += 3
                        continue
                out.append(data[index])
                index += 1
            self._flush(out)

    def _flush(self, data: bytes | bytearray) -> None:
        if not data:
            return
        if self.can_print:
            self.printed += data
        else:
            self.dropped += len(data)

    def _answer_status(self, n: int) -> None:
        self.status_queries += 1
        if self.silent:
            return
        byte = 0x12
        if n == 1 and not self.can_print:
            byte |= 0x08  # offline
        elif n == 2:
            byte |= (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
            byte |= 0x40 if self.error else 0
        elif n == 4:
            byte |= {"ok": 0, "near_end": 0x0C, "out": 0x6C}[self.paper]
        self.emit(bytes([byte]))

    # -- interactive commands ----------------------------------------------------------------------
    def _command(self, words: list[str]) -> str:
        if words[0] == "paper" and len(words) == 2:
            self.set_paper(words[1])
            return f"paper {words[1]}"
        if words[0] == "cover" and len(words) == 2:
            self.set_cover_open(words[1] == "open")
            return f"cover {words[1]}"
        if words[0] == "status":
            return self.describe()
        if words[0] == "show":
            return self.preview(int(words[1]) if len(words) > 1 else -1)
        return (
            "commands: paper ok|near_end|out, cover open|closed, fault silent|error, clear, unplug, replug, "
            "status, show [JOB]"
        )

    def describe(self) -> str:
        return (
            f"printer simulator: paper {self.paper}, cover {'open' if self.cover_open else 'closed'}, "
            f"{len(self.printed)} bytes printed in {len(self.jobs)} jobs"
            + (" (unplugged)" if self.unplugged else "")
            + (" (silent)" if self.silent else "")
        )
