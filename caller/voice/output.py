"""The loudspeaker: `aplay` (alsa-utils), and an honest answer to "can this PC make a sound?".

pyttsx3 plays through `aplay` too, and without it stays silent and raises nothing. Here the
voice caller plays its own WAV files, so a missing `aplay`, a PC without a sound card or a busy
device is an error it sees: the device status says `audio: missing: <why>` and the check is
repeated (with 50 ms of silence, inaudible) so plugging in speakers brings the sound back.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Protocol

from caller.voice.audio import silence, to_wav

log = logging.getLogger(__name__)

PLAY_MARGIN_S = 10.0
RECHECK_EVERY_S = 30.0


class AudioOutputError(RuntimeError):
    """The sound could not be played."""


class AudioOutput(Protocol):
    def play(self, path: Path, duration_s: float) -> None:
        """Play the WAV at `path` to the end (blocking); raise AudioOutputError if it cannot."""
        ...

    def state(self) -> str:
        """ "ok", "off: <why>" or "missing: <why>" for the device status."""
        ...


class NoAudio:
    """`--no-audio`: announcements only as WAV files (another sound system plays them, or tests)."""

    def play(self, path: Path, duration_s: float) -> None:
        return None

    def state(self) -> str:
        return "off: --no-audio"


class AplayOutput:
    """`aplay -q [-D DEVICE] FILE`, one announcement at a time (the announcer guarantees that)."""

    def __init__(self, device: str | None = None, aplay: str = "aplay") -> None:
        self.device = device
        self.aplay = aplay
        self._problem: str | None = "not checked yet"
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def check(self) -> str | None:
        """Play 50 ms of silence; None if that worked, else why not. Remembered for `state()`."""
        with self._lock:
            self._problem = self._probe()
            self._checked_at = time.monotonic()
            return self._problem

    def state(self) -> str:
        if self._problem is not None and time.monotonic() - self._checked_at > RECHECK_EVERY_S:
            self.check()
        return "ok" if self._problem is None else f"missing: {self._problem}"

    def play(self, path: Path, duration_s: float) -> None:
        if self._problem is not None:
            self.check()  # quick (50 ms): sound comes back as soon as the speakers do
            if self._problem is not None:
                raise AudioOutputError(self._problem)
        problem = self._run([str(path)], timeout_s=duration_s + PLAY_MARGIN_S)
        if problem:
            self._problem = problem
            self._checked_at = time.monotonic()
            raise AudioOutputError(problem)

    def _probe(self) -> str | None:
        if not shutil.which(self.aplay):
            return f"{self.aplay} is not installed (Debian: apt-get install alsa-utils)"
        with tempfile.TemporaryDirectory(prefix="hallq-audio-") as folder:
            probe = Path(folder) / "silence.wav"
            probe.write_bytes(to_wav(silence(0.05)))
            return self._run([str(probe)], timeout_s=PLAY_MARGIN_S)

    def _run(self, files: list[str], timeout_s: float) -> str | None:
        command = [self.aplay, "-q", *(["-D", self.device] if self.device else []), *files]
        try:
            # Its own session: Ctrl-C stops the caller after this announcement, not in the middle of it.
            done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False, start_new_session=True)
        except FileNotFoundError:
            return f"{self.aplay} is not installed (Debian: apt-get install alsa-utils)"
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{self.aplay}: {exc}"
        if done.returncode == 0:
            return None
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return _summarise(lines) or f"{self.aplay}: exit status {done.returncode}"


def _summarise(lines: list[str]) -> str:
    """What a hall technician needs from aplay's complaint: no card, or aplay's last line."""
    if any("no soundcards" in line for line in lines) or not Path("/dev/snd").exists():
        return "no sound card (no /dev/snd)"
    return lines[-1][:200] if lines else ""
