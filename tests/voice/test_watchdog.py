"""The TTS worker runs in a process of its own; a hung, dead or "runs once" engine is restarted."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from caller.voice.audio import read_wav
from caller.voice.tts import EspeakCliSynthesizer, FallbackSynthesizer, SynthesisError, WorkerSynthesizer

ENGINES = "tests.voice.fake_engines"


def worker(engine: str, env: dict[str, str], timeout_s: float = 2.0) -> WorkerSynthesizer:
    return WorkerSynthesizer("test-voice", engine=f"{ENGINES}:{engine}", timeout_s=timeout_s, env=env)


def test_a_hung_engine_is_killed_and_restarted(engine_env: dict[str, str]) -> None:
    synthesizer = worker("hangs_first_time", engine_env, timeout_s=1.5)
    try:
        with pytest.raises(SynthesisError, match="hung"):
            synthesizer.render("请A 零 一 二号")
        hung_pid = int((Path(engine_env["HALLQ_FAKE_ENGINE_DIR"]) / "hung").read_text())
        assert synthesizer.restarts == 1
        assert read_wav(synthesizer.render("请A 零 一 二号")).duration_s > 0.5
        assert synthesizer.status()["worker_pid"] not in (None, hung_pid)
        assert synthesizer.status()["last_error"] and "hung" in synthesizer.status()["last_error"]
    finally:
        synthesizer.close()


def test_an_engine_that_runs_once_is_restarted_each_time_it_stops(engine_env: dict[str, str]) -> None:
    synthesizer = worker("runs_once", engine_env)
    try:
        synthesizer.render("一")
        with pytest.raises(SynthesisError, match="no file"):
            synthesizer.render("二")
        synthesizer.render("三")  # a fresh worker runs once again
        assert synthesizer.restarts == 1
    finally:
        synthesizer.close()


def test_a_dead_worker_is_started_again(engine_env: dict[str, str]) -> None:
    synthesizer = worker("dies_first_time", engine_env)
    try:
        with pytest.raises(SynthesisError, match="died"):
            synthesizer.render("一")
        assert read_wav(synthesizer.render("一")).duration_s > 0.5
        assert synthesizer.restarts == 1
    finally:
        synthesizer.close()


def test_the_watchdog_finds_a_hang_while_idle(engine_env: dict[str, str]) -> None:
    synthesizer = WorkerSynthesizer(
        "test-voice", engine=f"{ENGINES}:hangs_first_time", timeout_s=1.0, check_every_s=0.2, env=engine_env
    )
    try:
        synthesizer.start_watchdog()
        deadline = time.monotonic() + 20
        while synthesizer.restarts < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert synthesizer.restarts >= 1, "the watchdog never restarted the hung engine"
        assert read_wav(synthesizer.render("一")).duration_s > 0.5  # no call had to wait for the hang
    finally:
        synthesizer.close()


def test_the_fallback_speaks_when_the_engine_hangs(engine_env: dict[str, str], mandarin_voice: str) -> None:
    hanging = worker("always_hangs", engine_env, timeout_s=1.0)
    fallback = FallbackSynthesizer(hanging, EspeakCliSynthesizer(mandarin_voice))
    try:
        speech = read_wav(fallback.render("请A 零 一 二号到三号窗口办理"))
        assert speech.duration_s > 2.0
        assert fallback.fallback_uses == 1
        assert fallback.status()["last_engine"] == "espeak-ng"
    finally:
        fallback.close()


def test_real_pyttsx3_worker_speaks(mandarin_voice: str) -> None:
    pytest.importorskip("pyttsx3")
    synthesizer = WorkerSynthesizer(mandarin_voice)
    try:
        first = read_wav(synthesizer.render("请A 零 一 二号到三号窗口办理"))
        second = read_wav(synthesizer.render("请B 零 零 一号到十二号窗口办理"))  # the run loop runs twice
        assert 2.0 < first.duration_s < 8.0 and 2.0 < second.duration_s < 8.0
        assert synthesizer.restarts == 0
    finally:
        synthesizer.close()


PARENT = """
import os, pathlib, threading, time
from caller.voice.tts import WorkerSynthesizer
synthesizer = WorkerSynthesizer("x", engine="tests.voice.fake_engines:always_hangs", timeout_s=300)
threading.Thread(target=synthesizer.render, args=("一",), daemon=True).start()
hanging = pathlib.Path(os.environ["HALLQ_FAKE_ENGINE_DIR"]) / "hanging"
while not hanging.exists():  # the worker is inside the engine, hung, not reading its stdin
    time.sleep(0.02)
print(hanging.read_text(), flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc").exists(), reason="Linux only")
def test_a_hung_worker_dies_with_the_voice_caller(engine_env: dict[str, str]) -> None:
    import os
    import subprocess
    import sys

    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, env={**os.environ, **engine_env}
    )
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        assert _alive(worker_pid)
    finally:
        parent.kill()
        parent.wait(5)
    deadline = time.monotonic() + 10
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker_pid), "the hung TTS worker outlived the voice caller"


def test_close_does_not_wait_for_a_hung_render(engine_env: dict[str, str]) -> None:
    """Stopping the caller while an announcement waits on a hung engine: close() ends it at once
    instead of waiting out the render's timeout with the lock held."""
    synthesizer = WorkerSynthesizer("test-voice", engine=f"{ENGINES}:always_hangs", timeout_s=30.0, env=engine_env)
    hanging = Path(engine_env["HALLQ_FAKE_ENGINE_DIR"]) / "hanging"
    errors: list[BaseException] = []

    def render() -> None:
        try:
            synthesizer.render("一")
        except SynthesisError as exc:
            errors.append(exc)

    speaker = threading.Thread(target=render)
    speaker.start()
    deadline = time.monotonic() + 20
    while not hanging.exists() and time.monotonic() < deadline:  # the worker has the request and hangs
        time.sleep(0.02)
    assert hanging.exists(), "the engine never got the request"
    started = time.monotonic()
    synthesizer.close()
    speaker.join(10)
    assert time.monotonic() - started < 5, "close() waited for the hung render"
    assert not speaker.is_alive() and errors and "died" in str(errors[0])
