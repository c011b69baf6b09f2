"""A recorded clip pack: clips joined in the order of the ticket and window, a missing clip reported
and the TTS saying the whole sentence, `--make-pack` writing a pack and never overwriting a recording."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from caller.voice import audio, text
from caller.voice.clips import ClipPack, ClipPackError, ClipSynthesizer, MissingClips, make_pack, pack_clip_names
from caller.voice.tts import FallbackSynthesizer
from tests.voice.fakes import ToneSynthesizer


def tone_pack(folder: Path) -> ClipPack:
    make_pack(folder, ToneSynthesizer(), pack_clip_names())
    return ClipPack(folder)


@pytest.mark.parametrize(
    ("ticket", "window", "clips"),
    [
        ("A012", "3号窗口", "请 A 零 一 二 号到 三 号窗口办理"),
        ("A1000", "12号窗口", "请 A 一 零 零 零 号到 十 二 号窗口办理"),
        ("b7", "10号窗口", "请 B 七 号到 十 号窗口办理"),
    ],
)
def test_the_clip_sequence_says_ticket_then_window(tmp_path: Path, ticket: str, window: str, clips: str) -> None:
    pack = tone_pack(tmp_path)
    assert pack.plan(text.render(text.DEFAULT_TEMPLATE, ticket, window)) == clips.split()


def test_a_missing_clip_is_named_and_the_tts_says_the_whole_sentence(tmp_path: Path) -> None:
    pack = tone_pack(tmp_path)
    spoken = text.render(text.DEFAULT_TEMPLATE, "A012", "综合窗口")
    with pytest.raises(MissingClips, match="no clip for 综, 合") as caught:
        pack.plan(spoken)
    assert caught.value.missing == ("综", "合")
    tts = ToneSynthesizer()
    speaker = FallbackSynthesizer(ClipSynthesizer(pack), tts)
    speaker.render(spoken)
    assert tts.texts == [spoken] and speaker.last_engine == "tone"  # all of it, not the rest only
    assert speaker.synthesizers[0].status()["last_missing"] == ["综", "合"]


def test_clips_lose_their_silence_and_are_joined_with_short_gaps(tmp_path: Path) -> None:
    sound = audio._tone(440.0, 0.3, 22_050, 0.2)
    padded = audio.silence(0.5) + sound + audio.silence(0.5)
    for name in ("请", "A"):
        (tmp_path / f"{name}.wav").write_bytes(audio.to_wav(padded))
    pack = ClipPack(tmp_path)
    joined = audio.read_wav(ClipSynthesizer(pack).render("请A"))
    assert joined.duration_s == pytest.approx(2 * 0.3 + 0.06, abs=0.1)  # not 2 × 1.3 s
    assert audio.peak(joined) > 0.6 * 32_767  # quiet recordings are brought to one loudness


def test_make_pack_keeps_a_clip_a_person_recorded(tmp_path: Path) -> None:
    recorded = audio.to_wav(audio._tone(300.0, 0.5, 44_100, 0.5))
    (tmp_path / "请.wav").write_bytes(recorded)
    report = make_pack(tmp_path, ToneSynthesizer(), pack_clip_names())
    assert "请" in report.kept and "请" not in report.written
    assert (tmp_path / "请.wav").read_bytes() == recorded
    assert {p.stem for p in tmp_path.glob("*.wav")} == set(pack_clip_names())
    assert not list(tmp_path.glob("*.part"))


def test_a_template_adds_its_own_phrases_to_the_pack() -> None:
    names = pack_clip_names("{number}号请到{window}")
    assert "号请到" in names and "零" in names and "Z" in names


def test_a_file_that_is_not_a_wav_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "请.wav").write_bytes(b"not a wav")
    with pytest.raises(ClipPackError, match="请.wav"):
        ClipPack(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ClipPackError, match="no WAV files"):
        ClipPack(empty)


@pytest.fixture(scope="module")
def espeak_pack(tmp_path_factory: pytest.TempPathFactory, mandarin_voice: str) -> Path:
    """A pack written by the real command, with the espeak-ng engine (the best one the CI has)."""
    folder = tmp_path_factory.mktemp("pack")
    done = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "voice", "--make-pack", str(folder), "--neural", "off",
         "--engine", "espeak-ng", "--voice", mandarin_voice],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(pack_clip_names())} clips with espeak-ng" in done.stdout
    return folder


def test_make_pack_writes_a_complete_pack_that_says_an_announcement(espeak_pack: Path, artifacts: Path) -> None:
    pack = ClipPack(espeak_pack)
    assert set(pack.clips) == set(pack_clip_names())
    spoken = text.render(text.DEFAULT_TEMPLATE, "A012", "3号窗口")
    speech = audio.read_wav(ClipSynthesizer(pack).render(spoken))
    announcement = audio.compose(speech, 2)
    (artifacts / "announcement-A012-clips.wav").write_bytes(audio.to_wav(announcement))
    assert 1.5 < speech.duration_s < 8.0
    assert len(audio.segments(speech)) == 1  # one sentence: the gaps between clips are short
    assert len(audio.segments(announcement)) == 3  # chime + twice


def test_make_pack_again_keeps_every_clip(espeak_pack: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "voice", "--make-pack", str(espeak_pack), "--neural", "off",
         "--engine", "espeak-ng"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote 0 clips with espeak-ng, kept {len(pack_clip_names())}" in done.stdout


def test_the_windows_a_pack_cannot_say_are_named(tmp_path: Path) -> None:
    from caller.voice.clips import unsayable_windows

    pack = tone_pack(tmp_path)
    gaps = unsayable_windows(pack, text.DEFAULT_TEMPLATE, ["3号窗口", "12号窗口", "综合窗口", "VIP窗口"])
    assert gaps == {"综合窗口": ("综", "合")}  # V I P are letters: every pack has them


def test_make_pack_uses_the_neural_voice_where_it_is_installed(tmp_path: Path) -> None:
    from caller.voice import neural

    if neural.missing_packages():
        pytest.skip(f"the neural voice is not installed: {neural.INSTALL_HINT}")
    done = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "voice", "--make-pack", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(pack_clip_names())} clips with neural" in done.stdout
    assert audio.read_wav((tmp_path / "请.wav").read_bytes()).rate == 24_000
