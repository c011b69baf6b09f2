"""Fast stand-ins for unit tests (the real espeak-ng, pyttsx3 and Mosquitto are tested elsewhere here)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from caller.voice.audio import Pcm, _tone, to_wav


class ToneSynthesizer:
    """Every text becomes a 0.3 s tone; remembers what it was asked to say."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def render(self, text: str) -> bytes:
        self.texts.append(text)
        tone: Pcm = _tone(440.0, 0.3, 22_050, 0.5)
        return to_wav(tone)

    def status(self) -> dict[str, Any]:
        return {"engine": "tone", "voice": "none"}

    def close(self) -> None:
        return None


class RecordingOutput:
    """A loudspeaker that takes `play_s` per announcement and records who played when, and overlaps."""

    def __init__(self, play_s: float = 0.01, state: str = "ok") -> None:
        self.play_s = play_s
        self._state = state
        self.played: list[tuple[str, float, float]] = []  # (file name, start, end)
        self.playing = 0
        self.max_playing = 0
        self._lock = threading.Lock()

    def play(self, path: Path, duration_s: float) -> None:
        with self._lock:
            self.playing += 1
            self.max_playing = max(self.max_playing, self.playing)
        start = time.monotonic()
        assert path.exists() and path.stat().st_size > 44
        time.sleep(self.play_s)
        with self._lock:
            self.playing -= 1
        self.played.append((path.name, start, time.monotonic()))

    def state(self) -> str:
        return self._state
