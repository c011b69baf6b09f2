"""Speaking to the citizen: the ticket once, and every screen in elderly mode.

One worker thread speaks one sentence at a time, newest wins (a sentence still queued when a new
screen asks to speak is dropped: reading out a screen the citizen has left helps nobody). The
synthesizer is a seam: espeak-ng with the `cmn-latn-pinyin` voice (which reads 请, 号, 口 … as
Mandarin, unlike `cmn` on espeak-ng 1.51), or anything with `speak(text)`. Speech never blocks
the UI and a missing or failing synthesizer never stops the kiosk. Only ticket numbers are
spoken, never names (DESIGN.md section 7).
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class Synthesizer(Protocol):
    def speak(self, text: str) -> None: ...


class Speaker(Protocol):
    def say(self, text: str) -> None: ...

    def close(self) -> None: ...


class EspeakSynthesizer:
    """espeak-ng straight to the sound card (or to WAV files, for tests and silent machines)."""

    def __init__(
        self, voice: str = "cmn-latn-pinyin", speed: int = 150, wav_dir: str | None = None, timeout_s: float = 20.0
    ) -> None:
        self.voice, self.speed, self.wav_dir, self.timeout_s = voice, speed, wav_dir, timeout_s
        self._count = 0
        self.binary = shutil.which("espeak-ng")

    def speak(self, text: str) -> None:
        if not self.binary:
            log.warning("espeak-ng is not installed: the kiosk stays silent")
            return
        command = [self.binary, "-v", self.voice, "-s", str(self.speed)]
        if self.wav_dir:
            self._count += 1
            command += ["-w", f"{self.wav_dir}/kiosk-speech-{self._count:03d}.wav"]
        subprocess.run(
            [*command, text], timeout=self.timeout_s, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )


class WorkerSpeaker:
    def __init__(self, synthesizer: Synthesizer) -> None:
        self._synth = synthesizer
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="kiosk-speech", daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        while True:  # newest wins
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(text)

    def close(self) -> None:
        self._queue.put(None)

    def _loop(self) -> None:
        while (text := self._queue.get()) is not None:
            try:
                self._synth.speak(text)
            except Exception:  # a broken synthesizer must not end speech for the day
                log.exception("speech failed")


class SilentSpeaker:
    def say(self, text: str) -> None:
        log.debug("would say: %s", text)

    def close(self) -> None:
        pass


class RecordingSpeaker:
    """Keeps what was said (tests, benchmarks)."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def close(self) -> None:
        pass
