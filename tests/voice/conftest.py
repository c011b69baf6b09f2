from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from caller.voice.voices import choose_voice

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "voice"


@pytest.fixture(scope="session")
def mandarin_voice() -> str:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    return choose_voice(("请A 零 一 二号到三号窗口办理", "请A012号到3号窗口办理")).voice.file


@pytest.fixture
def engine_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a worker running one of tests/voice/fake_engines.py."""
    state = tmp_path / "engine-state"
    state.mkdir()
    return {"HALLQ_FAKE_ENGINE_DIR": str(state), "PYTHONPATH": str(REPO)}


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield ARTIFACTS


class VoiceProcess:
    """`hallq voice` as a subprocess (the real command), its log, its WAV folder."""

    def __init__(self, workdir: Path, args: list[str]) -> None:
        import subprocess
        import sys

        self.workdir = workdir
        self.wav_dir = workdir / "wav"
        self.log_path = workdir / "voice.log"
        command = [sys.executable, "-m", "hallq.cli", "voice", "--wav-dir", str(self.wav_dir), "--keep-audio", *args]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wavs(self) -> list[Path]:
        return sorted(self.wav_dir.glob("*.wav")) if self.wav_dir.exists() else []

    def wait_for(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"hallq voice exited ({self.proc.returncode}) waiting for {what}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log()[-4000:]}")

    def wait_for_wavs(self, count: int, timeout_s: float = 20.0) -> list[Path]:
        self.wait_for(lambda: len(self.wavs()) >= count, timeout_s, f"{count} WAV file(s)")
        return self.wavs()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except Exception:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
