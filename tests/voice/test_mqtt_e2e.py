"""`hallq voice` against a real Mosquitto: calls in, WAV files out, status and Last Will on the broker."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from caller.voice.audio import read_wav, segments
from hallq.contract import CallMessage, Topics
from tests.support.broker import DISPATCHER_PASSWORD, Broker, start_mosquitto
from tests.voice.conftest import VoiceProcess

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None or shutil.which("espeak-ng") is None, reason="needs mosquitto and espeak-ng"
)
TOPICS = Topics("demo")
DEVICE = "voice-e2e"
ANNOUNCE_LINE = re.compile(
    r"announce seq=(?P<seq>\d+) \S+ \S+ outcome=(?P<outcome>\S+) start=(?P<start>[\d.]+) "
    r"ready=(?P<ready>[\d.]+) end=(?P<end>[\d.]+)"
)


class Dispatcher:
    """Plays the dispatcher's part on the broker: publishes calls, watches device status."""

    def __init__(self, broker: Broker) -> None:
        self.status: dict[str, Any] | None = None
        self.changed = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-dispatcher")
        self.client.username_pw_set("hallq-dispatcher", DISPATCHER_PASSWORD)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(TOPICS.device_status(DEVICE), qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.changed:
            self.status = json.loads(message.payload)
            self.changed.notify_all()

    def wait_status(self, predicate: Any, timeout_s: float = 15.0) -> dict[str, Any]:
        with self.changed:
            if not self.changed.wait_for(lambda: self.status is not None and predicate(self.status), timeout_s):
                raise AssertionError(f"device status never matched; last: {self.status}")
            assert self.status is not None
            return self.status

    def call(self, seq: int, ticket: str, window: str, age_s: float = 0.0, kind: str = "call") -> None:
        message = CallMessage(
            seq=seq, type=kind, ticket=ticket, window=window, window_name=f"{window}号窗口", service="A",
            service_name="社保业务", at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s),
            announce=f"请{ticket}号到{window}号窗口办理",
        )  # fmt: skip
        self.send(message.to_json())

    def send(self, payload: bytes) -> None:
        self.client.publish(TOPICS.calls, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = start_mosquitto(tmp_path)
    yield b
    b.stop()


@pytest.fixture
def dispatcher(broker: Broker) -> Iterator[Dispatcher]:
    d = Dispatcher(broker)
    yield d
    d.close()


@pytest.fixture
def voice(tmp_path: Path, broker: Broker) -> Iterator[VoiceProcess]:
    url = broker.device_url(DEVICE)
    process = VoiceProcess(tmp_path, [
        "--mqtt", url, "--device", DEVICE, "--hall", "demo", "--server", "http://127.0.0.1:9",
        "--no-audio", "--windows", "1,2,3", "--max-age", "60", "--repeat", "2",
    ])  # fmt: skip
    yield process
    process.stop()


def test_calls_become_wav_files_once_each_and_never_stale_ones(
    voice: VoiceProcess, dispatcher: Dispatcher, broker: Broker, artifacts: Path
) -> None:
    online = dispatcher.wait_status(lambda s: s["online"])
    assert online["kind"] == "voice"
    detail = online["detail"]
    assert detail["voice"] and detail["voice_foreign_runs"] == []
    assert detail["audio"] == "off: --no-audio" and detail["queue"] == 0

    dispatcher.call(1, "A012", "3")
    dispatcher.call(1, "A012", "3")  # the same seq again (a QoS 1 redelivery)
    dispatcher.call(2, "A013", "2", age_s=120)  # after an outage: too old to say
    dispatcher.call(3, "C001", "7")  # another floor's window
    dispatcher.send(b'{"seq": "not a number"}')
    dispatcher.send(b"\xff\xfe garbage")
    dispatcher.call(4, "A012", "3", kind="recall")  # a recall has its own seq: said again
    dispatcher.call(5, "A1000", "1")

    (first, recall, last) = voice.wait_for_wavs(3)
    time.sleep(1.0)  # anything wrongly announced would appear now
    assert len(voice.wavs()) == 3
    assert "-00000001-call-A012-w3" in first.name
    assert "-00000004-recall-A012-w3" in recall.name
    assert "-00000005-call-A1000-w1" in last.name
    shutil.copy(last, artifacts / "e2e-mqtt-A1000.wav")
    pcm = read_wav(last.read_bytes())
    assert len(segments(pcm)) == 3  # chime + 2 repetitions

    status = dispatcher.wait_status(lambda s: (s["detail"].get("last_announced") or {}).get("seq") == 5)
    counts = status["detail"]["counts"]
    assert counts["announce"] == 3 and counts["duplicate"] == 1 and counts["stale"] == 1
    assert counts["other-zone"] == 1 and counts["malformed"] == 2
    assert status["detail"]["windows"] == ["1", "2", "3"]

    # A burst of 30 calls: said in order, one at a time (the worker's own log lines show it).
    for seq in range(100, 130):
        dispatcher.call(seq, f"B{seq:03d}", str(seq % 3 + 1))
    voice.wait_for_wavs(33, timeout_s=60)
    lines = [m.groupdict() for m in ANNOUNCE_LINE.finditer(voice.log()) if int(m["seq"]) >= 100]
    assert [int(line["seq"]) for line in lines] == list(range(100, 130))
    for earlier, later in zip(lines, lines[1:], strict=False):
        assert float(earlier["end"]) <= float(later["start"]), (earlier, later)
    assert all(line["outcome"] == "written" for line in lines)

    # The broker goes away and comes back: the voice caller reconnects by itself.
    broker.stop()
    restarted = dt.datetime.now(dt.UTC)
    broker.start()
    dispatcher.wait_status(lambda s: s["online"] and dt.datetime.fromisoformat(s["at"]) > restarted)
    dispatcher.call(6, "B007", "2")
    assert "-00000006-call-B007-w2" in voice.wait_for_wavs(34)[-1].name

    # Killed (no goodbye): the broker publishes its Last Will.
    voice.kill()
    dispatcher.wait_status(lambda s: not s["online"])
