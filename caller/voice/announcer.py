"""One queue, one worker: announcements one at a time, in the order the calls arrived, never overlapping.

For each announcement the worker renders the speech (TTS), adds the chime and the repetitions,
scales the volume, writes the WAV file (with `--wav-dir`: the newest `wav_keep` files are kept, all
of them with `--keep-audio`; without `--wav-dir` nothing stays on disk) and plays it (unless `--no-audio` or
quiet hours), then logs one line with its start, audio-ready and end times. Nothing else plays
sound, so two announcements cannot overlap; `history` keeps the last records for the device
status, tests and the bench.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import re
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from caller.voice.audio import chime, compose, read_wav, to_wav
from caller.voice.output import AudioOutput, AudioOutputError
from caller.voice.tts import SynthesisError, Synthesizer

log = logging.getLogger(__name__)

HISTORY = 200
SPEECH_CACHE = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_ANNOUNCEMENT_FILE = re.compile(r"\d{8}-\d{6}-\d{8}-(?:call|recall)-.*\.wav")


class QuietHours:
    """Local times with no sound, "22:00-07:00" (across midnight) or "12:00-13:30,22:00-07:00"."""

    def __init__(self, ranges: list[tuple[dt.time, dt.time]]) -> None:
        self.ranges = ranges

    @classmethod
    def parse(cls, text: str | None) -> QuietHours:
        ranges: list[tuple[dt.time, dt.time]] = []
        for part in (text or "").split(","):
            if not part.strip():
                continue
            match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", part)
            if not match:
                raise ValueError(f"quiet hours {part.strip()!r}: write them like 22:00-07:00")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
                raise ValueError(f"quiet hours {part.strip()!r}: not a time of day")
            end = dt.time.max if h2 == 24 else dt.time(h2, m2)
            if dt.time(h1, m1) == end:
                raise ValueError(f"quiet hours {part.strip()!r} start and end at the same time")
            ranges.append((dt.time(h1, m1), end))
        return cls(ranges)

    def contains(self, moment: dt.time) -> bool:
        for start, end in self.ranges:
            inside = start <= moment < end if start < end else (moment >= start or moment < end)
            if inside:
                return True
        return False

    def __str__(self) -> str:
        return ",".join(f"{s:%H:%M}-{'24:00' if e == dt.time.max else format(e, '%H:%M')}" for s, e in self.ranges)


@dataclass(frozen=True)
class PlayerSettings:
    repeat: int = 2
    volume: float = 1.0  # 0.0–1.0
    chime: bool = True
    quiet_hours: QuietHours = field(default_factory=lambda: QuietHours([]))
    wav_dir: Path | None = None
    wav_keep: int | None = None  # keep only the newest N announcement files in wav_dir (None: all)
    timezone: ZoneInfo | None = None  # the hall's; quiet hours are the hall's local time

    def __post_init__(self) -> None:
        if not 1 <= self.repeat <= 10:
            raise ValueError("repeat must be 1 to 10")
        if self.wav_keep is not None and self.wav_keep < 1:
            raise ValueError("keep at least 1 WAV file (or all of them)")
        if not 0.0 <= self.volume <= 1.0:
            raise ValueError("volume must be 0 to 100 %")


@dataclass(frozen=True)
class Announcement:
    seq: int
    kind: str  # call | recall
    ticket: str
    window: str
    text: str  # what is said, already in spoken form
    received: float = field(default_factory=time.monotonic)  # monotonic: when the call event arrived


@dataclass(frozen=True)
class Record:
    """One line of the worker's log."""

    seq: int
    ticket: str
    window: str
    kind: str
    text: str
    outcome: str  # played | written | quiet | no-audio | audio-missing | failed
    received: float
    started: float  # monotonic: the worker took it from the queue
    ready: float  # monotonic: the WAV was ready to play
    ended: float  # monotonic: playing ended (or the file was written)
    duration_s: float
    wav: str | None = None
    engine: str | None = None
    error: str | None = None

    @property
    def latency_s(self) -> float:
        """Call event received → audio ready."""
        return self.ready - self.received


class Announcer:
    def __init__(
        self,
        synthesizer: Synthesizer,
        output: AudioOutput,
        settings: PlayerSettings,
        on_done: Callable[[Record], None] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.output = output
        self.settings = settings
        self.on_done = on_done
        self._now = now or (lambda: dt.datetime.now(self.settings.timezone))
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._speech: OrderedDict[str, tuple[bytes, str | None]] = OrderedDict()  # text → (WAV, engine)
        self.history: deque[Record] = deque(maxlen=HISTORY)
        self._busy = False
        # Announcements submitted and not yet finished (said, recorded, handed to on_done): wait_idle
        # waits for 0. `_busy` alone let it return between the queue's get and the record's hand-over.
        self._unfinished = 0
        self._settled = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="announcer", daemon=True)
        if settings.wav_dir is not None:
            settings.wav_dir.mkdir(parents=True, exist_ok=True)
        chime()  # made once, now, rather than during the first call

    def start(self) -> Announcer:
        self._thread.start()
        return self

    def submit(self, announcement: Announcement) -> None:
        with self._settled:
            self._unfinished += 1
        self._queue.put(announcement)

    @property
    def queue_length(self) -> int:
        """Waiting plus the one being said."""
        return self._queue.qsize() + (1 if self._busy else 0)

    def stop(self, timeout_s: float = 30.0, drain: bool = False) -> None:
        """Stop after the announcement being said; with `drain`, after every queued one too.
        (A caller told to stop mid-burst should not keep talking for minutes.)"""
        if not drain:
            dropped = 0
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
                dropped += 1
                self._finished()
            if dropped:
                log.warning("stopping: %d queued announcement(s) not said", dropped)
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until every announcement submitted is said and handed on (False after `timeout_s`)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._unfinished == 0, timeout_s)

    def _finished(self) -> None:
        with self._settled:
            self._unfinished -= 1
            self._settled.notify_all()

    def _work(self) -> None:
        while True:
            announcement = self._queue.get()
            if announcement is None:
                return
            self._busy = True
            try:
                record = self._announce(announcement)
            except Exception as exc:  # one bad announcement must not stop the caller
                log.exception("announcement seq %s failed", announcement.seq)
                now = time.monotonic()
                record = Record(
                    announcement.seq,
                    announcement.ticket,
                    announcement.window,
                    announcement.kind,
                    announcement.text,
                    "failed",
                    announcement.received,
                    now,
                    now,
                    now,
                    0.0,
                    error=str(exc),
                )
            finally:
                self._busy = False
            self.history.append(record)
            self._log(record)
            if self.on_done:
                try:
                    self.on_done(record)
                except Exception:
                    log.exception("status update after seq %s failed", record.seq)
            self._finished()

    def _announce(self, a: Announcement) -> Record:
        started = time.monotonic()
        try:
            speech, engine = self._speak(a.text)
        except SynthesisError as exc:
            now = time.monotonic()
            return Record(
                a.seq, a.ticket, a.window, a.kind, a.text, "failed", a.received, started, now, now, 0.0, error=str(exc)
            )
        pcm = compose(read_wav(speech), self.settings.repeat, self.settings.volume, self.settings.chime)
        wav = to_wav(pcm)
        wall = self._now()
        path, write_error = None, None
        if self.settings.wav_dir:
            try:
                path = self._write(a, wav, wall)
            except OSError as exc:  # a full or read-only disk must not silence the loudspeaker
                write_error = f"WAV not written: {exc}"
        ready = time.monotonic()
        outcome, error = self._play(wav, path, pcm.duration_s, wall)
        if write_error:
            error = f"{write_error}; {error}" if error else write_error
            if outcome in ("written", "quiet", "no-audio"):
                outcome = "failed"
        return Record(
            a.seq,
            a.ticket,
            a.window,
            a.kind,
            a.text,
            outcome,
            a.received,
            started,
            ready,
            time.monotonic(),
            pcm.duration_s,
            str(path) if path else None,
            engine,
            error,
        )

    def _speak(self, text: str) -> tuple[bytes, str | None]:
        """Speech for `text` and the engine that said it, from the cache when the same text was said
        lately (recalls)."""
        cached = self._speech.get(text)
        if cached is not None:
            self._speech.move_to_end(text)
            return cached
        speech = self.synthesizer.render(text)
        engine = getattr(self.synthesizer, "last_engine", None) or self.synthesizer.status().get("engine")
        self._speech[text] = (speech, engine)
        while len(self._speech) > SPEECH_CACHE:
            self._speech.popitem(last=False)
        return speech, engine

    def _play(self, wav: bytes, path: Path | None, duration_s: float, wall: dt.datetime) -> tuple[str, str | None]:
        if self.settings.quiet_hours.contains(wall.time()):
            return ("quiet" if path is None else "written"), None
        state = self.output.state()
        if state.startswith("off"):
            return ("no-audio" if path is None else "written"), None
        try:
            if path is not None:
                self.output.play(path, duration_s)
            else:
                with tempfile.TemporaryDirectory(prefix="hallq-play-") as folder:
                    temporary = Path(folder) / "announcement.wav"
                    temporary.write_bytes(wav)
                    self.output.play(temporary, duration_s)
        except AudioOutputError as exc:
            return "audio-missing", str(exc)
        return "played", None

    def _write(self, a: Announcement, wav: bytes, wall: dt.datetime) -> Path:
        """Atomically (temp file + rename): a sound system watching the folder never plays half a file."""
        assert self.settings.wav_dir is not None
        name = (
            "-".join(
                [
                    wall.strftime("%Y%m%d-%H%M%S"),
                    f"{a.seq:08d}",
                    a.kind,
                    _UNSAFE.sub("_", a.ticket) or "ticket",
                    "w" + (_UNSAFE.sub("_", a.window) or "window"),
                ]
            )
            + ".wav"
        )
        target = self.settings.wav_dir / name
        partial = target.with_suffix(".wav.part")
        partial.write_bytes(wav)
        os.replace(partial, target)
        self._prune()
        return target

    def _prune(self) -> None:
        """Delete the oldest announcement files beyond `wav_keep` (this caller's names only; their
        time stamp sorts them), so a caller that runs for months keeps a bounded folder."""
        keep, folder = self.settings.wav_keep, self.settings.wav_dir
        if keep is None or folder is None:
            return
        files = sorted(path for path in folder.glob("*.wav") if _ANNOUNCEMENT_FILE.match(path.name))
        for old in files[: max(0, len(files) - keep)]:
            old.unlink(missing_ok=True)  # a PA system may have taken it already

    def _log(self, r: Record) -> None:
        level = logging.WARNING if r.error else logging.INFO
        log.log(
            level,
            "announce seq=%s %s %s→%s outcome=%s start=%.3f ready=%.3f end=%.3f latency=%.3fs length=%.1fs"
            " engine=%s text=%s%s%s",
            r.seq,
            r.kind,
            r.ticket,
            r.window,
            r.outcome,
            r.started,
            r.ready,
            r.ended,
            r.latency_s,
            r.duration_s,
            r.engine,
            r.text,
            f" wav={r.wav}" if r.wav else "",
            f" error={r.error}" if r.error else "",
        )
