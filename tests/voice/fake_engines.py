"""Worker engines that misbehave the way pyttsx3 does in some set-ups, for the watchdog tests.

They run inside the real worker process (`python -m caller.voice.worker --engine tests.voice.fake_engines:…`).
State that must survive a restart (did the first process hang yet?) is a file in $HALLQ_FAKE_ENGINE_DIR.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from caller.voice.audio import chime, to_wav


def _state_dir() -> Path:
    return Path(os.environ["HALLQ_FAKE_ENGINE_DIR"])


class ToneEngine:
    """Says a tone instead of words: a fast, deterministic stand-in for speech."""

    name = "tone"

    def __init__(self, voice: str, rate: int) -> None:
        self.voice = voice
        self.calls = 0

    def save(self, text: str, path: str) -> None:
        self.calls += 1
        Path(path).write_bytes(to_wav(chime()))


class HangsFirstTime(ToneEngine):
    """The first request ever hangs forever (like pyttsx3's run loop); later processes work."""

    name = "hangs-first-time"

    def save(self, text: str, path: str) -> None:
        marker = _state_dir() / "hung"
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(3600)
        super().save(text, path)


class RunsOnce(ToneEngine):
    """Works once per process, then returns at once without writing anything (pyttsx3's "runs once")."""

    name = "runs-once"

    def save(self, text: str, path: str) -> None:
        if self.calls:
            self.calls += 1
            return
        super().save(text, path)


class DiesFirstTime(ToneEngine):
    """The first process crashes on its first request."""

    name = "dies-first-time"

    def save(self, text: str, path: str) -> None:
        marker = _state_dir() / "died"
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os._exit(3)
        super().save(text, path)


class AlwaysHangs(ToneEngine):
    name = "always-hangs"

    def save(self, text: str, path: str) -> None:
        # Written aside and renamed: a reader that sees "hanging" exist must find the pid in it (a file
        # created and then written was read empty once: the test parsed "" as the worker's pid).
        aside = _state_dir() / f"hanging.{os.getpid()}"
        aside.write_text(str(os.getpid()))
        aside.replace(_state_dir() / "hanging")
        time.sleep(3600)


def hangs_first_time(voice: str, rate: int) -> HangsFirstTime:
    return HangsFirstTime(voice, rate)


def runs_once(voice: str, rate: int) -> RunsOnce:
    return RunsOnce(voice, rate)


def dies_first_time(voice: str, rate: int) -> DiesFirstTime:
    return DiesFirstTime(voice, rate)


def always_hangs(voice: str, rate: int) -> AlwaysHangs:
    return AlwaysHangs(voice, rate)
