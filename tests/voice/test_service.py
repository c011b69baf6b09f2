"""The voice caller's wiring without a broker: what it says, what it skips, what its status says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from caller.voice.rules import Verdict
from caller.voice.service import VoiceCaller, VoiceOptions
from hallq.contract import CallMessage
from tests.voice.fakes import RecordingOutput, ToneSynthesizer

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def payload(seq: int, announce: str = "请A012号到3号窗口办理", ticket: str = "A012", age_s: float = 2) -> bytes:
    return CallMessage(
        seq=seq, type="call", ticket=ticket, window="3", window_name="3号窗口", service="A",
        service_name="社保业务", at=NOW - dt.timedelta(seconds=age_s), announce=announce,
    ).to_json()  # fmt: skip


def make(tmp_path: Path, hall_template: str | None = None, **options: object) -> tuple[VoiceCaller, ToneSynthesizer]:
    synthesizer = ToneSynthesizer()
    caller = VoiceCaller(
        VoiceOptions(wav_dir=tmp_path, **options),  # type: ignore[arg-type]
        synthesizer, RecordingOutput(state="off: --no-audio"),
        hall_template=lambda: hall_template, now=lambda: NOW,
    )  # fmt: skip
    return caller.start(), synthesizer


def said(tmp_path: Path, message: bytes, hall_template: str | None = None, **options: object) -> str:
    caller, synthesizer = make(tmp_path, hall_template, **options)
    assert caller.handle(message) is Verdict.announce
    assert caller.announcer.wait_idle(10)
    caller.stop()
    return synthesizer.texts[-1]


def test_the_dispatchers_wording_with_spoken_fields(tmp_path: Path) -> None:
    assert said(tmp_path, payload(1)) == "请A 零 一 二号到三号窗口办理"
    custom = payload(2, announce="请A012号顾客到3号窗口办理社保业务")
    assert said(tmp_path, custom) == "请A 零 一 二号顾客到三号窗口办理社保业务"


def test_a_configured_template_wins(tmp_path: Path) -> None:
    spoken = said(tmp_path, payload(1), template="{number}号请到{window}")
    assert spoken == "A 零 一 二号请到三号窗口"


def test_without_usable_announce_the_hall_template_then_the_default(tmp_path: Path) -> None:
    assert said(tmp_path, payload(1, announce="")) == "请A 零 一 二号到三号窗口办理"
    spoken = said(tmp_path, payload(2, announce="叫号"), hall_template="请{number}号到{window}")
    assert spoken == "请A 零 一 二号到三号窗口"


def test_skips_and_status_detail(tmp_path: Path) -> None:
    caller, _ = make(tmp_path, windows=frozenset({"3"}), zone="1F")
    assert caller.handle(payload(1)) is Verdict.announce
    assert caller.handle(payload(1)) is Verdict.duplicate
    assert caller.handle(payload(2, age_s=600)) is Verdict.stale
    assert caller.handle(b"{}") is None
    assert caller.announcer.wait_idle(10)
    detail = caller.detail()
    caller.stop()
    assert detail["engine"] == "tone" and detail["audio"] == "off: --no-audio" and detail["queue"] == 0
    assert detail["last_announced"]["seq"] == 1 and detail["last_announced"]["outcome"] == "written"
    assert detail["last_skipped"] == {"seq": 2, "ticket": "A012", "why": "stale"}
    assert detail["counts"]["malformed"] == 1 and detail["windows"] == ["3"] and detail["zone"] == "1F"
