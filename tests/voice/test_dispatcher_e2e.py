"""The whole path: a clerk's call-next over HTTP → the real dispatcher → real Mosquitto → `hallq voice`
→ a WAV file in --wav-dir, measured: not silent, chime + the right number of repetitions."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from caller.voice.audio import peak, read_wav, rms, segments
from tests.support.broker import Broker
from tests.support.dispatcher import Dispatcher
from tests.support.hall import running_hall
from tests.voice.conftest import VoiceProcess

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None or shutil.which("espeak-ng") is None, reason="needs mosquitto and espeak-ng"
)
DEVICE = "voice-1f"


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[Broker, Dispatcher]]:
    pytest.importorskip("fastapi")
    with running_hall(tmp_path) as started:
        yield started


def test_call_next_over_http_is_announced_as_a_wav(
    hall: tuple[Broker, Dispatcher], tmp_path: Path, artifacts: Path
) -> None:
    broker, dispatcher = hall
    voice = VoiceProcess(tmp_path, [
        "--mqtt", broker.device_url(DEVICE), "--device", DEVICE, "--hall", "demo", "--server", dispatcher.url,
        "--token", "demo-device-token", "--no-audio", "--zone", "1F", "--repeat", "2",
    ])  # fmt: skip
    try:
        voice.wait_for(lambda: "connected to" in voice.log(), 30, "the voice caller to connect")
        assert "zone 1F: windows 1, 12, 2, 3, 4, 5" in voice.log()
        number = dispatcher.issue("A", "voice-e2e-a")
        other_floor = dispatcher.issue("C", "voice-e2e-c")
        clerk3, clerk6 = dispatcher.clerk_headers("3"), dispatcher.clerk_headers("6")

        called = httpx.post(
            f"{dispatcher.api}/halls/demo/windows/3/call-next", headers={**clerk3, "Idempotency-Key": "n1"}, timeout=10
        )
        assert called.status_code == 200, called.text
        assert called.json()["ticket"]["number"] == number
        (wav,) = voice.wait_for_wavs(1)
        assert f"-call-{number}-w3.wav" in wav.name

        # window 6 is on 2F: the 1F caller stays quiet about it
        called = httpx.post(
            f"{dispatcher.api}/halls/demo/windows/6/call-next", headers={**clerk6, "Idempotency-Key": "n2"}, timeout=10
        )
        assert called.status_code == 200 and called.json()["ticket"]["number"] == other_floor
        recalled = httpx.post(f"{dispatcher.api}/halls/demo/windows/3/recall", headers=clerk3, timeout=10)
        assert recalled.status_code == 200, recalled.text
        wavs = voice.wait_for_wavs(2)
        assert f"-recall-{number}-w3.wav" in wavs[1].name
        time.sleep(1.0)
        assert len(voice.wavs()) == 2, [w.name for w in voice.wavs()]
        assert "window 6 is not one of this caller's" in voice.log()

        shutil.copy(wav, artifacts / f"e2e-dispatcher-{number}.wav")
        pcm = read_wav(wav.read_bytes())
        parts = segments(pcm)
        assert len(parts) == 3, parts  # chime + 请A 零 零 一号到三号窗口办理 twice
        assert 6.0 < pcm.duration_s < 20.0
        assert rms(pcm) > 800 and peak(pcm) > 8000
    finally:
        voice.stop()


def test_a_clip_pack_says_the_calls_and_the_tts_those_it_lacks_clips_for(
    hall: tuple[Broker, Dispatcher], tmp_path: Path
) -> None:
    from caller.voice.clips import make_pack, pack_clip_names
    from tests.voice.fakes import ToneSynthesizer

    broker, dispatcher = hall
    pack = tmp_path / "pack"
    make_pack(pack, ToneSynthesizer(), pack_clip_names())
    (pack / "三.wav").unlink()  # the hall has not recorded 三 yet
    voice = VoiceProcess(tmp_path, [
        "--mqtt", broker.device_url(DEVICE), "--device", DEVICE, "--hall", "demo", "--server", dispatcher.url,
        "--token", "demo-device-token", "--no-audio", "--windows", "2,3", "--clips", str(pack), "--neural", "off",
    ])  # fmt: skip
    try:
        voice.wait_for(lambda: "connected to" in voice.log(), 30, "the voice caller to connect")
        assert "no clip for 三, so calls to 3号窗口 are said by the TTS engine (add 三.wav)" in voice.log()
        for window, key in (("3", "c3"), ("2", "c2")):
            dispatcher.issue("A", f"voice-clips-{key}")
            called = httpx.post(
                f"{dispatcher.api}/halls/demo/windows/{window}/call-next",
                headers={**dispatcher.clerk_headers(window), "Idempotency-Key": key}, timeout=10,
            )  # fmt: skip
            assert called.status_code == 200, called.text
        voice.wait_for_wavs(2)
        voice.wait_for(lambda: voice.log().count("announce seq=") == 2, 10, "two announcements logged")
        lines = [line for line in voice.log().splitlines() if "announce seq=" in line]
        assert "→3 " in lines[0] and "engine=clips" not in lines[0]  # the TTS says the whole sentence
        assert "→2 " in lines[1] and "engine=clips" in lines[1]
    finally:
        voice.stop()
