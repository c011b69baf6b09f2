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
