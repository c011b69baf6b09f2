"""A recorded clip pack: WAV files said by a person, joined into the announcement.

A pack is a folder of WAV files, each named by what it says: `请.wav`, `A.wav`, `零.wav` … `九.wav`,
`十.wav`, `号到.wav`, `号窗口办理.wav` (the full list is `pack_clip_names`, and docs/voice.md). The
spoken sentence (请A 零 一 二号到三号窗口办理) is cut into the fewest clips that say it exactly
(请 | A | 零 | 一 | 二 | 号到 | 三 | 号窗口办理); each clip's leading and trailing silence is cut and its
loudness evened out, so clips recorded on different days sound like one sentence.

A sentence the pack cannot say (a window named 综合窗口 with no 综 and 合 clips) raises
`MissingClips` naming the missing characters: the next engine says the whole sentence, never a
mix of a person and a TTS. `make_pack` writes every clip a pack needs with the best engine
installed and keeps the clips already there, so a hall replaces them one by one with recordings.
"""

from __future__ import annotations

import logging
import os
import string
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caller.voice.audio import AudioError, Pcm, peak, read_wav, resample, silence, to_wav
from caller.voice.text import DEFAULT_TEMPLATE, DIGITS, check_template, render, speakable
from caller.voice.tts import SynthesisError, Synthesizer

log = logging.getLogger(__name__)

ENGINE = "clips"
UNITS = ("十", "百", "千", "万")  # window numbers are said as numbers: 十二号窗口
PHRASES = ("请", "号", "到", "号到", "窗口", "号窗口", "办理", "号窗口办理")
GAP_S = 0.06  # between two clips: one sentence, not a list of words
EDGE_S = 0.02  # kept around the sound when a clip's silence is cut
QUIET_RATIO = 0.03  # quieter than this share of the clip's peak is silence
TARGET_PEAK = 0.7 * 32_767


class ClipPackError(ValueError):
    """The folder is not a usable pack (missing, empty, or a file that is not a PCM WAV)."""


class MissingClips(SynthesisError):
    """The pack has no clips for part of the sentence; `missing` lists the characters."""

    def __init__(self, message: str, missing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.missing = missing


def clip_key(name: str) -> str:
    """How a clip's file name or a piece of the sentence is compared: NFC, no spaces, letters upper-case."""
    return unicodedata.normalize("NFC", name).replace(" ", "").upper()


def pack_clip_names(template: str = DEFAULT_TEMPLATE) -> list[str]:
    """Every clip a complete pack holds: digits, number units, letters, the hall's phrases."""
    names = [*DIGITS, *UNITS, *string.ascii_uppercase, *PHRASES]
    for literal, _, _, _ in string.Formatter().parse(check_template(template)):
        piece = clip_key(speakable(literal))
        if piece and piece not in names:
            names.append(piece)
    return names


@dataclass(frozen=True)
class Clip:
    name: str
    pcm: Pcm


class ClipPack:
    """The clips of one folder, read once (a hall restarts the caller after replacing clips)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if not folder.is_dir():
            raise ClipPackError(f"clip pack {folder}: no such folder (make one with hallq voice --make-pack {folder})")
        clips: dict[str, Clip] = {}
        bad: list[str] = []
        for path in sorted(folder.glob("*.wav")):
            try:
                pcm = read_wav(path.read_bytes())
            except (OSError, AudioError) as exc:
                bad.append(f"{path.name}: {exc}")
                continue
            trimmed = _even_loudness(_trim(pcm))
            if not trimmed.samples:
                bad.append(f"{path.name}: silent")
                continue
            clips[clip_key(path.stem)] = Clip(path.stem, trimmed)
        if bad:
            raise ClipPackError(f"clip pack {folder}: unusable files: " + "; ".join(bad))
        if not clips:
            raise ClipPackError(f"clip pack {folder}: no WAV files (make them with hallq voice --make-pack {folder})")
        self.clips = clips
        self.rate = Counter(clip.pcm.rate for clip in clips.values()).most_common(1)[0][0]
        self._longest = max(len(key) for key in clips)

    def plan(self, text: str) -> list[str]:
        """The clip names that say `text`, fewest first; MissingClips naming what no clip says."""
        sentence = clip_key(text)
        # best[i]: the fewest clips that say sentence[:i], as the list of their keys.
        best: list[list[str] | None] = [None] * (len(sentence) + 1)
        best[0] = []
        for start in range(len(sentence)):
            so_far = best[start]
            if so_far is None:
                continue
            for end in range(start + 1, min(len(sentence), start + self._longest) + 1):
                piece = sentence[start:end]
                if piece in self.clips and (best[end] is None or len(so_far) + 1 < len(best[end] or ())):
                    best[end] = [*so_far, piece]
        found = best[len(sentence)]
        if found is None:
            missing = self.missing(sentence)
            what = ", ".join(missing) if missing else "a join of the clips there"
            raise MissingClips(f"clip pack {self.folder}: no clip for {what} in {sentence!r}", missing)
        return [self.clips[key].name for key in found]

    def missing(self, text: str) -> tuple[str, ...]:
        """The characters of `text` that no clip of the pack says."""
        sentence = clip_key(text)
        covered = [False] * len(sentence)
        for start in range(len(sentence)):
            for end in range(start + 1, min(len(sentence), start + self._longest) + 1):
                if sentence[start:end] in self.clips:
                    covered[start:end] = [True] * (end - start)
        return tuple(dict.fromkeys(char for char, ok in zip(sentence, covered, strict=True) if not ok))

    def join(self, names: list[str]) -> Pcm:
        gap = silence(GAP_S, self.rate)
        out = Pcm(self.rate, array("h"))
        for index, name in enumerate(names):
            if index:
                out = out + gap
            out = out + resample(self.clips[clip_key(name)].pcm, self.rate)
        return out


class ClipSynthesizer:
    """The `Synthesizer` of a clip pack: a sentence it cannot say raises MissingClips (the next engine speaks)."""

    def __init__(self, pack: ClipPack) -> None:
        self.pack = pack
        self.last_missing: tuple[str, ...] = ()

    def render(self, text: str) -> bytes:
        try:
            names = self.pack.plan(text)
        except MissingClips as exc:
            self.last_missing = exc.missing
            raise
        return to_wav(self.pack.join(names))

    def status(self) -> dict[str, Any]:
        return {
            "engine": ENGINE,
            "voice": str(self.pack.folder),
            "clips": len(self.pack.clips),
            "last_missing": list(self.last_missing) or None,
        }

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class PackReport:
    written: tuple[str, ...]
    kept: tuple[str, ...]


def make_pack(folder: Path, synthesizer: Synthesizer, names: list[str]) -> PackReport:
    """Write `<name>.wav` for every name the folder has no clip for; never overwrite a clip (it may be
    a person's recording). Each file is written whole (temp file + rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    present = {clip_key(path.stem) for path in folder.glob("*.wav")}
    written: list[str] = []
    kept: list[str] = []
    for name in names:
        if clip_key(name) in present:
            kept.append(name)
            continue
        data = synthesizer.render(name)
        target = folder / f"{name}.wav"
        partial = target.with_suffix(".wav.part")
        partial.write_bytes(to_wav(_trim(read_wav(data))))
        os.replace(partial, target)
        written.append(name)
    return PackReport(tuple(written), tuple(kept))


def _trim(pcm: Pcm) -> Pcm:
    """The clip without its leading and trailing silence (a recording starts and ends with some)."""
    threshold = peak(pcm) * QUIET_RATIO
    loud = [index for index, sample in enumerate(pcm.samples) if abs(sample) > threshold]
    if not loud or threshold == 0:
        return Pcm(pcm.rate, array("h"))
    edge = round(EDGE_S * pcm.rate)
    return Pcm(pcm.rate, pcm.samples[max(0, loud[0] - edge) : loud[-1] + edge + 1])


def _even_loudness(pcm: Pcm) -> Pcm:
    top = peak(pcm)
    if not top:
        return pcm
    factor = TARGET_PEAK / top
    return Pcm(pcm.rate, array("h", (max(-32_768, min(32_767, round(s * factor))) for s in pcm.samples)))


def unsayable_windows(pack: ClipPack, template: str, window_names: list[str]) -> dict[str, tuple[str, ...]]:
    """The hall's windows whose calls the pack cannot say, with the characters it lacks for each
    (checked with a ticket every pack says: the letters and digits are in every complete pack)."""
    gaps: dict[str, tuple[str, ...]] = {}
    for name in window_names:
        missing = pack.missing(render(template, "A012", name))
        if missing:
            gaps[name] = missing
    return gaps
