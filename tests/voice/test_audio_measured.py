"""Announcements rendered through espeak-ng and MEASURED: length, loudness, chime + N repetitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from caller.voice import audio, text
from caller.voice.tts import EspeakCliSynthesizer, WorkerSynthesizer

SPOKEN = text.render(text.DEFAULT_TEMPLATE, "A012", "3号窗口")


@pytest.fixture(scope="module")
def speech(mandarin_voice: str) -> audio.Pcm:
    return audio.read_wav(EspeakCliSynthesizer(mandarin_voice).render(SPOKEN))


def test_speech_alone_is_one_sane_utterance(speech: audio.Pcm) -> None:
    # 13 syllables at 150 words per minute: a few seconds, not a blip and not a stuck engine.
    assert 2.0 < speech.duration_s < 8.0
    assert audio.rms(speech) > 1000 and audio.peak(speech) > 8000
    assert len(audio.segments(speech)) == 1  # pauses between syllables are not gaps


@pytest.mark.parametrize("repeat", [1, 2, 3])
def test_announcement_has_a_chime_and_the_right_number_of_repetitions(
    speech: audio.Pcm, repeat: int, artifacts: Path
) -> None:
    announcement = audio.compose(speech, repeat)
    (artifacts / f"announcement-A012-x{repeat}.wav").write_bytes(audio.to_wav(announcement))
    parts = audio.segments(announcement)
    assert len(parts) == 1 + repeat, parts
    chime, *said = parts
    assert chime[1] - chime[0] < 1.5  # the chime is short and comes first
    for start, end in said:
        assert abs((end - start) - speech.duration_s) < 0.6  # each repetition is the whole sentence
    expected = 1.2 + audio.GAP_AFTER_CHIME_S + repeat * speech.duration_s + (repeat - 1) * audio.GAP_BETWEEN_REPEATS_S
    assert abs(announcement.duration_s - expected - audio.TAIL_S) < 0.3
    assert audio.rms(announcement) > 800 and audio.peak(announcement) > 8000


def test_no_chime_means_only_the_speech(speech: audio.Pcm) -> None:
    assert len(audio.segments(audio.compose(speech, 2, with_chime=False))) == 2


def test_volume_scales_the_samples(speech: audio.Pcm) -> None:
    full, half = audio.compose(speech, 1), audio.compose(speech, 1, volume=0.5)
    assert audio.peak(half) == pytest.approx(audio.peak(full) / 2, rel=0.01)
    assert audio.rms(half) == pytest.approx(audio.rms(full) / 2, rel=0.01)
    assert audio.peak(audio.compose(speech, 1, volume=0.0)) == 0


def test_wav_round_trip_and_bad_input(speech: audio.Pcm) -> None:
    again = audio.read_wav(audio.to_wav(speech))
    assert again.rate == speech.rate and again.samples == speech.samples
    with pytest.raises(audio.AudioError):
        audio.read_wav(b"not a wav at all")


def test_resampling_keeps_the_length() -> None:
    chime = audio.chime(rate=16_000)
    assert audio.resample(chime, 22_050).duration_s == pytest.approx(chime.duration_s, abs=0.01)


def test_pyttsx3_worker_announcement_measured(mandarin_voice: str, artifacts: Path) -> None:
    pytest.importorskip("pyttsx3")
    synthesizer = WorkerSynthesizer(mandarin_voice)
    try:
        speech = audio.read_wav(synthesizer.render(text.render(text.DEFAULT_TEMPLATE, "A1000", "12号窗口")))
    finally:
        synthesizer.close()
    announcement = audio.compose(speech, 2)
    (artifacts / "announcement-A1000-pyttsx3.wav").write_bytes(audio.to_wav(announcement))
    assert 2.0 < speech.duration_s < 8.0
    assert len(audio.segments(announcement)) == 3
    assert audio.rms(announcement) > 800
