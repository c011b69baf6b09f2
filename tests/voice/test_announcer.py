"""One queue, one worker: in order, one at a time, never overlapping; WAV files; quiet hours."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from caller.voice.announcer import Announcement, Announcer, PlayerSettings, QuietHours
from caller.voice.audio import read_wav, segments
from tests.voice.fakes import RecordingOutput, ToneSynthesizer


def burst(count: int) -> list[Announcement]:
    return [Announcement(seq, "call", f"A{seq:03d}", str(seq % 12 + 1), f"请A {seq}号") for seq in range(1, count + 1)]


def test_a_burst_of_30_is_announced_in_order_one_at_a_time(tmp_path: Path) -> None:
    output = RecordingOutput(play_s=0.01)
    announcer = Announcer(ToneSynthesizer(), output, PlayerSettings(wav_dir=tmp_path)).start()
    for announcement in burst(30):
        announcer.submit(announcement)
    assert announcer.wait_idle(60)
    announcer.stop()
    records = list(announcer.history)
    assert [r.seq for r in records] == list(range(1, 31))
    assert {r.outcome for r in records} == {"played"}
    assert output.max_playing == 1
    for earlier, later in zip(records, records[1:], strict=False):
        assert earlier.ended <= later.started, (earlier, later)
    plays = output.played
    assert [name.split("-")[2] for name, _, _ in plays] == [f"{s:08d}" for s in range(1, 31)]
    for (_, _, end), (_, start, _) in zip(plays, plays[1:], strict=False):
        assert end <= start
    assert len(list(tmp_path.glob("*.wav"))) == 30


def test_the_wav_file_holds_chime_and_repetitions(tmp_path: Path) -> None:
    announcer = Announcer(
        ToneSynthesizer(), RecordingOutput(state="off: --no-audio"), PlayerSettings(repeat=3, wav_dir=tmp_path)
    ).start()
    announcer.submit(Announcement(7, "call", "A007", "3", "请A 零 零 七号"))
    assert announcer.wait_idle(10)
    (record,) = announcer.history
    assert record.outcome == "written" and record.wav is not None
    pcm = read_wav(Path(record.wav).read_bytes())
    assert len(segments(pcm)) == 4
    assert not list(tmp_path.glob("*.part"))


def test_quiet_hours_mean_no_sound_but_the_file_is_written(tmp_path: Path) -> None:
    output = RecordingOutput()
    night = dt.datetime(2026, 11, 23, 23, 15)
    settings = PlayerSettings(quiet_hours=QuietHours.parse("22:00-07:00"), wav_dir=tmp_path)
    announcer = Announcer(ToneSynthesizer(), output, settings, now=lambda: night).start()
    announcer.submit(Announcement(1, "call", "A001", "1", "请A 零 零 一号"))
    assert announcer.wait_idle(10)
    assert output.played == []
    assert announcer.history[0].outcome == "written"
    assert len(list(tmp_path.glob("*.wav"))) == 1


def test_quiet_hours_parsing() -> None:
    quiet = QuietHours.parse("12:00-13:30, 22:00-07:00")
    assert quiet.contains(dt.time(12, 30)) and quiet.contains(dt.time(23, 0)) and quiet.contains(dt.time(6, 59))
    assert not quiet.contains(dt.time(7, 0)) and not quiet.contains(dt.time(13, 30))
    assert str(quiet) == "12:00-13:30,22:00-07:00"
    assert not QuietHours.parse("").contains(dt.time(3, 0))
    for bad in ("22-07", "25:00-07:00", "10:00-10:00"):
        try:
            QuietHours.parse(bad)
        except ValueError as exc:
            assert bad in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_missing_audio_is_reported_and_nothing_is_lost(tmp_path: Path) -> None:
    class Broken(RecordingOutput):
        def play(self, path: Path, duration_s: float) -> None:
            from caller.voice.output import AudioOutputError

            raise AudioOutputError("no sound card (no /dev/snd)")

    announcer = Announcer(
        ToneSynthesizer(), Broken(state="missing: no sound card"), PlayerSettings(wav_dir=tmp_path)
    ).start()
    announcer.submit(Announcement(1, "call", "A001", "1", "请A 零 零 一号"))
    announcer.submit(Announcement(2, "call", "A002", "1", "请A 零 零 二号"))
    assert announcer.wait_idle(10)
    assert [r.outcome for r in announcer.history] == ["audio-missing", "audio-missing"]
    assert "no sound card" in (announcer.history[0].error or "")
    assert len(list(tmp_path.glob("*.wav"))) == 2


def test_a_recall_reuses_the_rendered_speech() -> None:
    synthesizer = ToneSynthesizer()
    announcer = Announcer(synthesizer, RecordingOutput(), PlayerSettings()).start()
    announcer.submit(Announcement(1, "call", "A001", "1", "请A 零 零 一号"))
    announcer.submit(Announcement(2, "recall", "A001", "1", "请A 零 零 一号"))
    assert announcer.wait_idle(10)
    assert [r.outcome for r in announcer.history] == ["played", "played"]
    assert synthesizer.texts == ["请A 零 零 一号"]


def test_a_wav_dir_that_cannot_be_written_does_not_silence_the_loudspeaker(tmp_path: Path) -> None:
    output = RecordingOutput()
    folder = tmp_path / "wav"
    announcer = Announcer(ToneSynthesizer(), output, PlayerSettings(wav_dir=folder)).start()
    folder.rmdir()
    folder.write_text("a file where the folder should be")
    announcer.submit(Announcement(1, "call", "A001", "1", "请A 零 零 一号"))
    assert announcer.wait_idle(10)
    (record,) = announcer.history
    assert record.outcome == "played" and len(output.played) == 1
    assert record.error and "WAV not written" in record.error


def test_wav_dir_keeps_only_the_newest_files_unless_all_are_kept(tmp_path: Path) -> None:
    (tmp_path / "pa-system-notes.wav").write_bytes(b"not ours")  # never touched
    announcer = Announcer(
        ToneSynthesizer(), RecordingOutput(state="off: --no-audio"), PlayerSettings(wav_dir=tmp_path, wav_keep=3)
    ).start()
    for seq in range(1, 6):
        announcer.submit(Announcement(seq, "call", f"A00{seq}", "1", f"请A 零 零 {seq}号到一号窗口办理"))
    assert announcer.wait_idle(10)
    announcer.stop()
    kept = sorted(p.name for p in tmp_path.glob("*.wav"))
    assert len(kept) == 4 and "pa-system-notes.wav" in kept
    assert [name.split("-")[2] for name in kept if name.startswith("2")] == ["00000003", "00000004", "00000005"]


def test_idle_only_once_the_last_announcement_is_handed_on(tmp_path: Path) -> None:
    """wait_idle waits for the record's hand-over too (the device status reads it right after): it
    once returned while the worker was between saying the call and handing its record on."""
    handing_on, release = threading.Event(), threading.Event()

    def on_done(_record: object) -> None:
        handing_on.set()
        release.wait(10)

    announcer = Announcer(
        ToneSynthesizer(), RecordingOutput(state="off: --no-audio"), PlayerSettings(wav_dir=tmp_path), on_done=on_done
    ).start()
    announcer.submit(burst(1)[0])
    assert handing_on.wait(10)
    assert not announcer.wait_idle(0.05), "idle before its record was handed on"
    release.set()
    assert announcer.wait_idle(10)
    announcer.stop()
    assert announcer.wait_idle(0) and [r.seq for r in announcer.history] == [1]
