"""The espeak-ng Mandarin voice check lives in `hallq.voices` (the kiosk uses it too); kept here for
the voice caller's imports."""

from hallq.voices import (
    ESPEAK,
    PREFERRED,
    PROBE_TIMEOUT_S,
    EspeakVoice,
    VoiceCheck,
    VoiceError,
    check_voice,
    choose_voice,
    espeak_path,
    foreign_runs,
    installed_voice,
    is_mandarin,
    mandarin_voices,
    parse_voice_list,
    phonemes,
    syllables,
)

__all__ = [
    "ESPEAK",
    "PREFERRED",
    "PROBE_TIMEOUT_S",
    "EspeakVoice",
    "VoiceCheck",
    "VoiceError",
    "check_voice",
    "choose_voice",
    "espeak_path",
    "foreign_runs",
    "installed_voice",
    "is_mandarin",
    "mandarin_voices",
    "parse_voice_list",
    "phonemes",
    "syllables",
]
