"""The Mandarin voice is chosen, and tested, by the phonemes espeak-ng makes for a real announcement."""

from __future__ import annotations

import shutil

import pytest

from caller.voice import text, voices

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

RAW = "请A012号到3号窗口办理"
SPOKEN = text.render(text.DEFAULT_TEMPLATE, "A012", "3号窗口")


def test_foreign_runs_are_found_in_phoneme_text() -> None:
    assert voices.foreign_runs("(en)kI55NTr'i:55(cmn)_| 'ei51_|") == ("en",)
    assert voices.foreign_runs("tS;h'i21N_| 'ei51_| l'i35N_|") == ()
    assert voices.foreign_runs("(en)a(cmn)b(fr)c(zh)") == ("en", "fr")


def test_voice_list_is_parsed() -> None:
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)\n"
        " 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)\n"
    )
    parsed = voices.parse_voice_list(listing)
    assert [v.file for v in parsed] == ["sit/cmn", "sit/yue"]
    assert [voices.is_mandarin(v) for v in parsed] == [True, False]


def test_chosen_voice_reads_every_word_in_mandarin() -> None:
    chosen = voices.choose_voice((SPOKEN, RAW))
    assert chosen.says_the_words, chosen.phonemes
    for probe in (RAW, SPOKEN, "请三号", "请B 零 零 一号到十二号窗口办理"):
        said = voices.phonemes(chosen.voice.file, probe)
        assert said and "(en)" not in said, f"{chosen.voice.file} reads {probe!r} as {said!r}"


def test_the_digits_are_said_one_by_one() -> None:
    chosen = voices.choose_voice((SPOKEN,))
    ling, yi, er = (voices.phonemes(chosen.voice.file, d) for d in "零一二")
    said = voices.phonemes(chosen.voice.file, SPOKEN)
    syllables = [s.strip() for s in said.split("_|") if s.strip()]
    # 请 A 零 一 二 号 到 三 号 窗 口 办 理: the three digits each their own syllable, in order
    digits = syllables[2:5]
    assert [d.strip("_| ") for d in (ling, yi, er)] == [d.strip("_| ") for d in digits]


def test_cmn_voice_is_not_chosen_when_it_reads_english() -> None:
    """Debian 12's espeak-ng 1.51 `cmn` voice reads 请, 号, 口 … with English rules; if so it must lose."""
    installed = {v.language: v for v in voices.mandarin_voices()}
    if "cmn" not in installed:
        pytest.skip("no cmn voice")
    check = voices.check_voice(installed["cmn"], (RAW,))
    chosen = voices.choose_voice((SPOKEN, RAW))
    if check.foreign_runs:
        assert chosen.voice.file != installed["cmn"].file


def test_a_wanted_voice_that_does_not_exist_is_a_clear_error() -> None:
    with pytest.raises(voices.VoiceError, match="no-such-voice"):
        voices.choose_voice((SPOKEN,), wanted="no-such-voice")
