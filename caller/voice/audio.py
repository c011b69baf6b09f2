"""Sound as numbers: the chime, volume, repetitions, WAV bytes, and measuring an announcement.

16-bit mono PCM in `array('h')`; no numpy, no downloaded assets — the chime is generated here.
The measuring half (`rms`, `peak`, `segments`) is what tests and the bench use to check that an
announcement is not silent and says the text the right number of times.
"""

from __future__ import annotations

import io
import math
import wave
from array import array
from dataclasses import dataclass
from functools import lru_cache

SAMPLE_RATE = 22_050  # espeak-ng's own rate: speech is never resampled
FULL_SCALE = 32_767
GAP_AFTER_CHIME_S = 0.4
GAP_BETWEEN_REPEATS_S = 1.0
TAIL_S = 0.2


class AudioError(ValueError):
    """WAV data this module cannot read (not a WAV, not 8/16-bit PCM)."""


@dataclass(frozen=True)
class Pcm:
    rate: int
    samples: array  # array('h'), mono

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0

    def __add__(self, other: Pcm) -> Pcm:
        if other.rate != self.rate:
            other = resample(other, self.rate)
        return Pcm(self.rate, self.samples + other.samples)


def silence(seconds: float, rate: int = SAMPLE_RATE) -> Pcm:
    return Pcm(rate, array("h", bytes(2 * round(seconds * rate))))


def read_wav(data: bytes) -> Pcm:
    """8- or 16-bit PCM WAV, mono or stereo (mixed down), as 16-bit mono."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file: {exc}") from None
    if width == 1:
        samples = array("h", ((b - 128) << 8 for b in frames))
    elif width == 2:
        samples = array("h")
        samples.frombytes(frames[: len(frames) // 2 * 2])
    else:
        raise AudioError(f"{8 * width}-bit WAV is not supported; use 16-bit PCM")
    if channels > 1:
        samples = array("h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)))
    return Pcm(rate, samples)


def to_wav(pcm: Pcm) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(pcm.rate)
        wav.writeframes(pcm.samples.tobytes())
    return buffer.getvalue()


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Linear interpolation: good enough for a chime or a TTS that speaks at another rate."""
    if pcm.rate == rate or not pcm.samples:
        return Pcm(rate, array("h", pcm.samples))
    count = max(1, round(len(pcm.samples) * rate / pcm.rate))
    step = (len(pcm.samples) - 1) / max(1, count - 1)
    source = pcm.samples
    out = array("h")
    for i in range(count):
        position = i * step
        left = int(position)
        right = min(left + 1, len(source) - 1)
        fraction = position - left
        out.append(round(source[left] * (1 - fraction) + source[right] * fraction))
    return Pcm(rate, out)


def scale(pcm: Pcm, volume: float) -> Pcm:
    """Volume 0.0–1.0 as a factor on every sample (clipped, so a bad factor cannot wrap around)."""
    factor = min(max(volume, 0.0), 1.0)
    if factor == 1.0:
        return pcm
    return Pcm(pcm.rate, array("h", (_clip(s * factor) for s in pcm.samples)))


@lru_cache(maxsize=4)
def chime(rate: int = SAMPLE_RATE, loudness: float = 0.5) -> Pcm:
    """A two-tone "ding-dong" (E5 then C5) with soft attack and a bell-like decay (made once per rate;
    callers add it to other sound, which copies, so the cached samples are never changed)."""
    return _tone(659.25, 0.45, rate, loudness) + _tone(523.25, 0.75, rate, loudness)


def _tone(frequency: float, seconds: float, rate: int, loudness: float) -> Pcm:
    count = round(seconds * rate)
    attack = max(1, round(0.008 * rate))
    samples = array("h")
    for i in range(count):
        t = i / rate
        envelope = min(1.0, i / attack) * math.exp(-4.0 * t / seconds)
        wave_value = math.sin(2 * math.pi * frequency * t) + 0.3 * math.sin(4 * math.pi * frequency * t)
        samples.append(_clip(FULL_SCALE * loudness * envelope * wave_value / 1.3))
    return Pcm(rate, samples)


def compose(speech: Pcm, repeat: int, volume: float = 1.0, with_chime: bool = True) -> Pcm:
    """One announcement: chime, pause, then the speech `repeat` times with a pause between."""
    if repeat < 1:
        raise ValueError("an announcement is said at least once")
    rate = speech.rate
    out = Pcm(rate, array("h"))
    if with_chime:
        out = out + chime(rate) + silence(GAP_AFTER_CHIME_S, rate)
    for time in range(repeat):
        if time:
            out = out + silence(GAP_BETWEEN_REPEATS_S, rate)
        out = out + speech
    return scale(out + silence(TAIL_S, rate), volume)


def _clip(value: float) -> int:
    return max(-FULL_SCALE - 1, min(FULL_SCALE, round(value)))


# --- measuring -----------------------------------------------------------------------------------


def rms(pcm: Pcm) -> float:
    if not pcm.samples:
        return 0.0
    return math.sqrt(sum(s * s for s in pcm.samples) / len(pcm.samples))


def peak(pcm: Pcm) -> int:
    return max((abs(s) for s in pcm.samples), default=0)


def segments(
    pcm: Pcm, min_silence_s: float = 0.5, frame_s: float = 0.02, threshold_ratio: float = 0.05
) -> list[tuple[float, float]]:
    """(start, end) seconds of the sounding stretches separated by at least `min_silence_s` of quiet.

    A frame is sounding when its RMS exceeds `threshold_ratio` of the loudest frame's, so the
    result does not depend on the volume. Pauses between syllables are far shorter than the pause
    between repetitions, which is what lets a test count them.
    """
    frame = max(1, round(frame_s * pcm.rate))
    levels = [
        math.sqrt(sum(s * s for s in pcm.samples[i : i + frame]) / len(pcm.samples[i : i + frame]))
        for i in range(0, len(pcm.samples), frame)
    ]
    if not levels or max(levels) == 0:
        return []
    threshold = max(levels) * threshold_ratio
    found: list[tuple[float, float]] = []
    start: int | None = None
    quiet = 0
    min_quiet_frames = max(1, round(min_silence_s / frame_s))
    for index, level in enumerate(levels):
        if level > threshold:
            if start is None:
                start = index
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= min_quiet_frames:
                found.append((start * frame_s, (index - quiet + 1) * frame_s))
                start, quiet = None, 0
    if start is not None:
        found.append((start * frame_s, (len(levels) - quiet) * frame_s))
    return found
