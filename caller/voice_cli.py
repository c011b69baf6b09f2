"""`hallq voice`: the voice caller (entry point `voice` in group hallq.commands, extra [voice]).

Heavy imports (paho, httpx, the TTS) stay inside `run`, so `hallq --help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hallq.device import add_device_options

if TYPE_CHECKING:
    from hallq.api_models import HallInfo

log = logging.getLogger("caller.voice")

EXTRA_KEYS = (
    "wav_dir", "no_audio", "repeat", "volume", "quiet_hours", "zone", "windows", "max_age", "voice", "engine",
    "rate", "template", "audio_device", "tts_timeout", "no_chime", "neural", "clips", "keep_audio", "wav_keep",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "voice",
        help="voice caller: announce the hall's calls on a loudspeaker and/or as WAV files",
        description="Announces each call (请A 零 一 二号到三号窗口办理) with a chime, N times, one at a time.",
    )
    add_device_options(parser)
    group = parser.add_argument_group("voice caller")
    group.add_argument(
        "--wav-dir", help="also write each announcement as one WAV file (chime + repetitions) here; the newest"
        " --wav-keep files are kept"
    )  # fmt: skip
    group.add_argument("--wav-keep", type=int, help="how many announcement files --wav-dir keeps (default 20)")
    group.add_argument(
        "--keep-audio", action="store_true", default=None, help="keep every announcement's file in --wav-dir (demo)"
    )
    group.add_argument("--no-audio", action="store_true", default=None, help="do not play; only write --wav-dir")
    group.add_argument("--repeat", type=int, help="say each announcement this many times (default 2)")
    group.add_argument("--volume", type=int, help="volume in percent, 0-100 (default 100)")
    group.add_argument(
        "--quiet-hours", help="no sound at these local times, e.g. 22:00-07:00 or 12:00-13:30,22:00-07:00"
    )
    group.add_argument("--zone", help="announce only the windows of this zone (floor), e.g. 1F")
    group.add_argument("--windows", help="announce only these windows, e.g. 1,2,3")
    group.add_argument("--max-age", type=float, help="skip calls older than this many seconds (default 60; 0 = never)")
    group.add_argument("--voice", help="espeak-ng voice (default: the Mandarin voice that reads the words right)")
    group.add_argument("--engine", help="espeak-ng engine: pyttsx3 (default, espeak-ng fallback) or espeak-ng")
    group.add_argument(
        "--neural", choices=["auto", "on", "off"],
        help="the natural voice (hallq[voice-neural]) first: auto (default: where installed), on, off",
    )  # fmt: skip
    group.add_argument("--clips", help="a recorded clip pack (folder of WAVs), said before any TTS engine")
    group.add_argument(
        "--make-pack", metavar="DIR",
        help="write the clips of a complete pack into DIR with the best engine installed (keeps existing clips), exit",
    )  # fmt: skip
    group.add_argument("--rate", type=int, help="speaking rate in words per minute (default 150)")
    group.add_argument("--template", help="announcement template (default: the hall's): 请{number}号到{window}办理")
    group.add_argument("--audio-device", help="ALSA device for aplay -D (default: the system default)")
    group.add_argument("--tts-timeout", type=float, help="seconds before a hung TTS worker is restarted (default 10)")
    group.add_argument("--no-chime", action="store_true", default=None, help="no chime before announcements")
    parser.set_defaults(func=run)


def options_from(extra: dict[str, Any]) -> Any:
    """VoiceOptions from the merged settings (command line > HALLQ_* > config file); ValueError if bad."""
    from caller.voice.announcer import QuietHours
    from caller.voice.service import VoiceOptions
    from caller.voice.text import check_template

    def number(key: str, kind: type, default: Any) -> Any:
        value = extra.get(key)
        if value is None:
            return default
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"--{key.replace('_', '-')} {value!r} is not a number") from None

    repeat, volume = number("repeat", int, 2), number("volume", int, 100)
    max_age, rate = number("max_age", float, 60.0), number("rate", int, 150)
    timeout = number("tts_timeout", float, 10.0)
    if not 1 <= repeat <= 10:
        raise ValueError("--repeat must be 1 to 10")
    if not 0 <= volume <= 100:
        raise ValueError("--volume is a percentage, 0 to 100")
    if max_age < 0:
        raise ValueError("--max-age cannot be negative (0 turns the check off)")
    if not 60 <= rate <= 400:
        raise ValueError("--rate must be 60 to 400 words per minute")
    quiet = str(extra.get("quiet_hours") or "")
    QuietHours.parse(quiet)  # raises ValueError with the reason
    template = extra.get("template")
    if template:
        check_template(str(template))
    windows_text = extra.get("windows")
    windows = frozenset(w.strip() for w in str(windows_text).split(",") if w.strip()) if windows_text else None
    if extra.get("zone") and windows:
        raise ValueError("give --zone or --windows, not both")
    engine = str(extra.get("engine") or "pyttsx3")
    if engine not in ("pyttsx3", "espeak-ng") and ":" not in engine:
        raise ValueError(f"--engine {engine!r}: use pyttsx3 or espeak-ng")
    neural = str(extra.get("neural") or "auto").lower()
    if neural not in ("auto", "on", "off"):
        raise ValueError(f"--neural {neural!r}: use auto, on or off")
    no_audio = _flag(extra.get("no_audio"))
    wav_dir = Path(str(extra["wav_dir"])).expanduser() if extra.get("wav_dir") else None
    if no_audio and wav_dir is None:
        raise ValueError("--no-audio without --wav-dir would announce nothing; give --wav-dir DIR")
    keep_audio, wav_keep = _flag(extra.get("keep_audio")), number("wav_keep", int, 20)
    if keep_audio and wav_dir is None:
        raise ValueError("--keep-audio keeps the files of --wav-dir; give --wav-dir DIR")
    if wav_keep < 1:
        raise ValueError("--wav-keep must be at least 1 (--keep-audio keeps every file)")
    clips = Path(str(extra["clips"])).expanduser() if extra.get("clips") else None
    return VoiceOptions(
        wav_dir=wav_dir, no_audio=no_audio, repeat=repeat, volume_percent=volume, quiet_hours=quiet,
        zone=str(extra["zone"]) if extra.get("zone") else None, windows=windows, max_age_s=max_age,
        voice=str(extra["voice"]) if extra.get("voice") else None, engine=engine, rate=rate,
        template=str(template) if template else None, audio_device=extra.get("audio_device") or None,
        tts_timeout_s=timeout, chime=not _flag(extra.get("no_chime")), neural=neural, clips_dir=clips,
        keep_audio=keep_audio, wav_keep=wav_keep,
    )  # fmt: skip


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def run(args: argparse.Namespace) -> int:
    from hallq.config import ConfigError
    from hallq.device import device_settings

    try:  # Ctrl-C while starting (loading a voice takes seconds) stops quietly, without a traceback
        try:
            settings = device_settings(args, "voice", EXTRA_KEYS)
            options = options_from(settings.extra)
        except (ConfigError, ValueError) as exc:
            print(f"hallq voice: {exc}", file=sys.stderr)
            return 2
        if getattr(args, "make_pack", None):
            return _make_pack(Path(args.make_pack).expanduser(), options)
        return _serve(settings, options)
    except KeyboardInterrupt:
        log.info("stopped while starting")
        return 0


def _make_pack(folder: Path, options: Any) -> int:
    """`--make-pack DIR`: every clip of a complete pack, said by the best engine installed (not the pack itself)."""
    from dataclasses import replace

    from caller.voice.clips import make_pack, pack_clip_names
    from caller.voice.engines import EngineUnavailable
    from caller.voice.service import build_synthesizer
    from caller.voice.text import DEFAULT_TEMPLATE, TemplateError
    from caller.voice.tts import SynthesisError
    from caller.voice.voices import VoiceError

    template = options.template or DEFAULT_TEMPLATE
    try:
        names = pack_clip_names(template)
        synthesizer, _ = build_synthesizer(replace(options, clips_dir=None), template)
    except (EngineUnavailable, VoiceError, TemplateError) as exc:
        print(f"hallq voice: {exc}", file=sys.stderr)
        return 2
    try:
        report = make_pack(folder, synthesizer, names)
    except (SynthesisError, OSError) as exc:
        print(f"hallq voice --make-pack {folder}: {exc}", file=sys.stderr)
        return 1
    finally:
        engine = getattr(synthesizer, "last_engine", None) or synthesizer.status().get("engine")
        synthesizer.close()
    print(f"clip pack {folder}: wrote {len(report.written)} clips with {engine}, kept {len(report.kept)} already there")
    if report.kept:
        print("kept: " + " ".join(f"{name}.wav" for name in report.kept))
    return 0


def _serve(settings: Any, options: Any) -> int:
    from dataclasses import replace

    from caller.voice.clips import ClipPackError
    from caller.voice.engines import EngineUnavailable
    from caller.voice.link import CallsLink
    from caller.voice.output import AplayOutput, NoAudio
    from caller.voice.rules import zone_windows
    from caller.voice.service import (
        HALL_INFO_REFRESH_S,
        HALL_INFO_RETRY_S,
        STATUS_EVERY_S,
        HallInfoCache,
        VoiceCaller,
        build_synthesizer,
    )
    from caller.voice.text import DEFAULT_TEMPLATE
    from caller.voice.tts import SynthesisError
    from caller.voice.voices import VoiceError

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # SIGINT stays KeyboardInterrupt until started
    hall = HallInfoCache(settings.server, settings.hall, settings.auth_headers())
    while hall.try_fetch() is None and options.zone:
        # A zone needs the window list; calls come only from a running dispatcher anyway.
        log.warning("waiting for the dispatcher to learn zone %s's windows: %s", options.zone, hall.error)
        if stop.wait(HALL_INFO_RETRY_S):
            return 0
    if hall.error:
        log.warning("hall info not available yet (%s); using the call's own wording", hall.error)
    if options.zone and hall.info is not None:
        try:
            options = replace(options, windows=zone_windows(hall.info, options.zone))
        except ValueError as exc:
            print(f"hallq voice: {exc}", file=sys.stderr)
            return 2
        log.info("zone %s: windows %s", options.zone, ", ".join(sorted(options.windows)))
    try:
        synthesizer, voice = build_synthesizer(options, options.template or hall.template() or DEFAULT_TEMPLATE)
    except (VoiceError, EngineUnavailable, ClipPackError) as exc:
        print(f"hallq voice: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # from now on Ctrl-C stops like SIGTERM: cleanly
    if stop.is_set():  # SIGTERM while the voice was being chosen: nothing has started yet
        synthesizer.close()
        return 0
    if options.clips_dir is not None:
        _report_clip_gaps(synthesizer, options.template or hall.template() or DEFAULT_TEMPLATE, hall.info)
    try:  # start the engine now, so the first call does not wait for it (and a broken one shows at once)
        synthesizer.render("一")
    except SynthesisError as exc:
        log.error("the TTS engine does not speak yet: %s", exc)
    output = NoAudio() if options.no_audio else AplayOutput(options.audio_device)
    if isinstance(output, AplayOutput) and output.check():
        log.error(
            "audio output missing: %s — announcements are %s",
            output.state(),
            f"only written to {options.wav_dir}" if options.wav_dir else "NOT HEARD",
        )
    link_box: list[CallsLink] = []

    def publish_status() -> None:
        for link in link_box:
            link.publish_status()

    caller = VoiceCaller(
        options,
        synthesizer,
        output,
        voice,
        hall_template=hall.template,
        timezone=hall.timezone(),
        on_change=publish_status,
    )
    tts = synthesizer.status()
    link = CallsLink(settings, caller.handle, caller.detail)
    link_box.append(link)
    caller.start()
    link.start()
    log.info(
        "voice caller %s: voice %s, engines %s, audio %s, repeat %s, volume %s%%%s",
        settings.device,
        voice.voice.file,
        " → ".join(str(e) for e in [tts.get("engine"), *tts.get("fallbacks", [])]),
        output.state(),
        options.repeat,
        options.volume_percent,
        f", WAV files in {options.wav_dir}" if options.wav_dir else "",
    )
    _keep_fresh(stop, hall, caller, link, options, HALL_INFO_REFRESH_S, STATUS_EVERY_S)
    link.stop()
    caller.stop()
    return 0


def _report_clip_gaps(synthesizer: Any, template: str, hall: HallInfo | None) -> None:
    """Say at start-up which windows' calls the clip pack cannot say (the TTS says those whole)."""
    from caller.voice.clips import ClipSynthesizer, unsayable_windows

    engines = getattr(synthesizer, "synthesizers", (synthesizer,))
    pack = next((engine.pack for engine in engines if isinstance(engine, ClipSynthesizer)), None)
    names = [w.name for w in hall.windows if w.name] if hall is not None else []
    if pack is None or not names:
        return
    gaps = unsayable_windows(pack, template, names)
    for window, missing in gaps.items():
        log.warning(
            "clip pack %s: no clip for %s, so calls to %s are said by the TTS engine (add %s)",
            pack.folder, ", ".join(missing), window, ", ".join(f"{char}.wav" for char in missing),
        )  # fmt: skip
    log.info("clip pack %s: %d clips; says the calls of %d of %d windows", pack.folder, len(pack.clips),
             len(names) - len(gaps), len(names))  # fmt: skip


def _keep_fresh(
    stop: threading.Event, hall: Any, caller: Any, link: Any, options: Any, refresh_s: float, status_s: float
) -> None:
    """Until stopped: flush a status held back during a burst, republish it now and then, refresh
    the hall info (a zone's windows may change), and keep saying so if the broker refused us."""
    from dataclasses import replace

    from caller.voice.rules import zone_windows
    from caller.voice.service import HALL_INFO_RETRY_S

    last_refresh = last_status = time.monotonic()
    while not stop.wait(1.0):
        link.flush_status()
        if link.error:
            log.error("%s", link.error)
            stop.wait(60)
        now = time.monotonic()
        if now - last_status >= status_s:
            last_status = now
            link.publish_status(force=True)
        if now - last_refresh < (refresh_s if hall.info is not None else HALL_INFO_RETRY_S):
            continue
        last_refresh = now
        if hall.try_fetch() is None:
            continue
        if caller.announcer.settings.timezone is None and hall.timezone() is not None:
            caller.announcer.settings = replace(caller.announcer.settings, timezone=hall.timezone())
        if options.zone:
            try:
                caller.rules.windows = zone_windows(hall.info, options.zone)
            except ValueError as exc:
                log.warning("zone %s: %s (keeping windows %s)", options.zone, exc, sorted(caller.rules.windows or ()))
