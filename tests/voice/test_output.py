"""The loudspeaker: `aplay` missing, a PC without a sound card, and playing one file after another."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from caller.voice.announcer import Announcement, Announcer, PlayerSettings
from caller.voice.output import AplayOutput, AudioOutputError, NoAudio
from tests.voice.fakes import ToneSynthesizer


def fake_aplay(folder: Path, body: str) -> str:
    script = folder / "aplay"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_missing_aplay_is_reported_not_silent(tmp_path: Path) -> None:
    output = AplayOutput(aplay=str(tmp_path / "no-such-aplay"))
    assert output.check() is not None
    assert output.state().startswith("missing:") and "alsa-utils" in output.state()
    with pytest.raises(AudioOutputError, match="alsa-utils"):
        output.play(tmp_path / "x.wav", 1.0)


def test_a_failing_aplay_is_reported(tmp_path: Path) -> None:
    busy = 'echo "aplay: main:831: audio open error: Device or resource busy" >&2; exit 1'
    output = AplayOutput(aplay=fake_aplay(tmp_path, busy))
    assert output.check() is not None
    assert output.state().startswith("missing:")


def test_a_working_aplay_is_ok_and_plays_with_the_device(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    output = AplayOutput(device="plughw:1,0", aplay=fake_aplay(tmp_path, f'echo "$@" >> {calls}'))
    assert output.check() is None and output.state() == "ok"
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    output.play(wav, 1.0)
    assert calls.read_text().splitlines()[-1] == f"-q -D plughw:1,0 {wav}"


def test_sound_comes_back_when_the_speakers_do(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    script = fake_aplay(tmp_path, f"[ -e {broken} ] && exit 1; exit 0")
    broken.touch()
    output = AplayOutput(aplay=script)
    assert output.check() is not None
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    with pytest.raises(AudioOutputError):
        output.play(wav, 1.0)
    broken.unlink()
    output.play(wav, 1.0)  # checks again before giving up
    assert output.state() == "ok"


def test_real_player_processes_never_overlap(tmp_path: Path) -> None:
    log = tmp_path / "plays.txt"
    body = f'echo "start $(date +%s.%N) $3" >> {log}; sleep 0.05; echo "end $(date +%s.%N) $3" >> {log}'
    output = AplayOutput(aplay=fake_aplay(tmp_path, body.replace("$3", "$2")))
    assert output.check() is None
    log.unlink()
    announcer = Announcer(ToneSynthesizer(), output, PlayerSettings(wav_dir=tmp_path / "wav")).start()
    for seq in range(1, 9):
        announcer.submit(Announcement(seq, "call", f"A{seq:03d}", "1", f"请A {seq}号"))
    assert announcer.wait_idle(30)
    announcer.stop()
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [kind for kind, _, _ in lines] == ["start", "end"] * 8  # each ends before the next starts
    files = [os.path.basename(name) for kind, _, name in lines if kind == "start"]
    assert [name.split("-")[2] for name in files] == [f"{seq:08d}" for seq in range(1, 9)]
    times = [float(t) for _, t, _ in lines]
    assert times == sorted(times)


def test_no_audio_says_so() -> None:
    assert NoAudio().state() == "off: --no-audio"
