"""Which espeak-ng voice says Mandarin words in Mandarin, decided by the phonemes each voice produces.

Shared by the voice caller (caller/voice) and the kiosk's speech (kiosk/runtime.py), which must not
import each other (DESIGN.md section 2).

On Debian 12 (espeak-ng 1.51) the `cmn` voice reads 请, 号, 口, 办, 理 and 三 with English rules:
`espeak-ng -v cmn -x 请三号` shows `(en)` runs. `cmn-latn-pinyin` reads them right. Rather than
trusting a voice's name, every Mandarin voice installed is asked for the phonemes of a real
announcement and the first one without a switch to another language wins.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
# The order of preference among voices that pass the check: Pinyin latin letters first.
PREFERRED = ("cmn-latn-pinyin", "cmn", "zh")
_LANGUAGE_SWITCH = re.compile(r"\(([a-z]{2,3}(?:-[a-z0-9]+)*)\)", re.IGNORECASE)
_OWN_LANGUAGES = ("cmn", "zh")
_TONE_AND_STRESS = re.compile(r"[0-9',]")
PROBE_TIMEOUT_S = 10.0


class VoiceError(RuntimeError):
    """espeak-ng is missing, or no Mandarin voice is installed."""


@dataclass(frozen=True)
class EspeakVoice:
    language: str  # "cmn-latn-pinyin"
    file: str  # "sit/cmn-Latn-pinyin": what `-v` and pyttsx3 select the voice by
    name: str  # "Chinese_(Mandarin,_latin_as_Pinyin)"


@dataclass(frozen=True)
class VoiceCheck:
    voice: EspeakVoice
    phonemes: str
    foreign_runs: tuple[str, ...] = field(default_factory=tuple)
    error: str | None = None

    @property
    def says_the_words(self) -> bool:
        return self.error is None and bool(self.phonemes.strip()) and not self.foreign_runs


def espeak_path() -> str:
    path = shutil.which(ESPEAK)
    if not path:
        raise VoiceError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    return path


def parse_voice_list(listing: str) -> list[EspeakVoice]:
    """Rows of `espeak-ng --voices[=lang]`: Pty Language Age/Gender VoiceName File Other-Languages."""
    voices: list[EspeakVoice] = []
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 5:
            voices.append(EspeakVoice(language=columns[1], file=columns[4], name=columns[3]))
    return voices


def is_mandarin(voice: EspeakVoice) -> bool:
    language = voice.language.lower()
    return language == "zh" or language == "cmn" or language.startswith("cmn-")


def mandarin_voices() -> list[EspeakVoice]:
    """Installed Mandarin voices (never Cantonese or Hakka), in order of preference."""
    found: dict[str, EspeakVoice] = {}
    for language in ("cmn", "zh"):
        listing = _run([espeak_path(), f"--voices={language}"])
        for voice in parse_voice_list(listing):
            if is_mandarin(voice):
                found.setdefault(voice.file, voice)

    def rank(voice: EspeakVoice) -> int:
        language = voice.language.lower()
        return PREFERRED.index(language) if language in PREFERRED else len(PREFERRED)

    return sorted(found.values(), key=rank)


def installed_voice(wanted: str) -> EspeakVoice:
    """The installed voice named `wanted` (language, file or file name). espeak-ng itself takes any
    prefix ("no-such-voice" speaks Norwegian), so a typo in a hall's config must be caught here."""
    key = wanted.lower()
    voices = parse_voice_list(_run([espeak_path(), "--voices"]))
    for voice in voices:
        if key in (voice.language.lower(), voice.file.lower(), voice.file.rsplit("/", 1)[-1].lower()):
            return voice
    mandarin = ", ".join(v.file for v in voices if is_mandarin(v)) or "none"
    raise VoiceError(f"voice {wanted!r} is not installed (Mandarin voices: {mandarin})")


def phonemes(voice: str, text: str) -> str:
    """`espeak-ng -v VOICE -x -q TEXT`: the phoneme mnemonics, with `(en)` where a word is read as English."""
    return _run([espeak_path(), "-v", voice, "-x", "-q", text]).strip()


def syllables(voice: str, text: str) -> list[str]:
    """What espeak-ng will say, one entry per syllable, without tone numbers and stress marks (tone
    sandhi changes those with the neighbours): 请A 零 → ["tS;hiN", "ei", "liN"]."""
    said = _LANGUAGE_SWITCH.sub(" ", phonemes(voice, text))
    return [_TONE_AND_STRESS.sub("", piece) for piece in re.split(r"_\|?|\s+", said) if _TONE_AND_STRESS.sub("", piece)]


def foreign_runs(phoneme_text: str) -> tuple[str, ...]:
    """The language switches in espeak-ng's phoneme output other than back to Mandarin: ("en", ...)."""
    return tuple(code for code in _LANGUAGE_SWITCH.findall(phoneme_text) if not code.lower().startswith(_OWN_LANGUAGES))


def check_voice(voice: EspeakVoice, probe_texts: tuple[str, ...]) -> VoiceCheck:
    try:
        said = "\n".join(phonemes(voice.file, text) for text in probe_texts)
    except VoiceError as exc:
        return VoiceCheck(voice=voice, phonemes="", error=str(exc))
    return VoiceCheck(voice=voice, phonemes=said, foreign_runs=foreign_runs(said))


def choose_voice(probe_texts: tuple[str, ...], wanted: str | None = None) -> VoiceCheck:
    """The first Mandarin voice that says every probe text without a foreign run.

    With `wanted`, that voice is used even if it fails the check (the hall asked for it); the check
    is still returned so the device status can show the problem. Without any voice that passes, the
    one with the fewest foreign runs is used and a warning logged: a badly read word beats silence.
    """
    if wanted:
        chosen = check_voice(installed_voice(wanted), probe_texts)
        if chosen.error:
            raise VoiceError(f"voice {wanted!r}: {chosen.error}")
        if not chosen.says_the_words:
            log.warning("voice %s reads some words with other rules: %s", wanted, chosen.phonemes)
        return chosen
    checks = [check_voice(voice, probe_texts) for voice in mandarin_voices()]
    usable = [check for check in checks if check.error is None and check.phonemes.strip()]
    if not usable:
        raise VoiceError("no Mandarin espeak-ng voice is installed (Debian: apt-get install espeak-ng-data)")
    for check in usable:
        log.info("voice %s: foreign runs %s", check.voice.file, list(check.foreign_runs) or "none")
    passing = [check for check in usable if check.says_the_words]
    if passing:
        return passing[0]
    best = min(usable, key=lambda check: len(check.foreign_runs))
    log.warning("no Mandarin voice reads every word in Mandarin; using %s: %s", best.voice.file, best.phonemes)
    return best


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False, start_new_session=True
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VoiceError(f"{' '.join(command[:3])}: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise VoiceError(f"{' '.join(command[:3])}: {message}")
    return done.stdout.decode("utf-8", "replace")
