"""The TTS worker process: one engine, one request at a time, JSON lines on stdin/stdout.

pyttsx3's run loop hangs or runs only once in some set-ups, and a hang inside its C library cannot
be interrupted from Python. So the engine lives in a process of its own that the parent
(`tts.WorkerSynthesizer`) can kill and start again.

Protocol (one JSON object per line):
  worker → parent, once, after the engine is ready: {"ready": true, "engine": "...", "voice": "..."}
  parent → worker: {"id": 1, "text": "请A 零 一 二号…", "path": "/tmp/…/1.wav"}
  worker → parent: {"id": 1, "ok": true} or {"id": 1, "ok": false, "error": "..."}

Run as `python -m caller.voice.worker --engine pyttsx3|espeak-ng|neural|module:factory --voice V --rate R`.

The worker ignores SIGINT: Ctrl-C in a terminal reaches every process of the group, and stopping is
the voice caller's decision (it closes the worker's stdin or kills it), so a stop leaves no
KeyboardInterrupt traceback in the voice log. SIGTERM ends it quietly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Any, Protocol, TextIO

COMPLETE_TIMEOUT_S = 3.0
PR_SET_PDEATHSIG = 1
PYTTSX3_ATTEMPTS = 3
EMPTY_POLLS = 6  # 30 ms of a bare header: the write is over, not under way


class Engine(Protocol):
    name: str
    voice: str

    def save(self, text: str, path: str) -> None:
        """Write `text` spoken as a WAV file at `path`, or raise."""


class Pyttsx3Engine:
    """pyttsx3's espeak driver, used only to write files: playing is done by the parent, which
    can tell when `aplay` is missing (pyttsx3 would stay silent and raise nothing)."""

    name = "pyttsx3"

    def __init__(self, voice: str, rate: int) -> None:
        import pyttsx3

        self.voice = voice
        self._engine = pyttsx3.init("espeak")
        self._engine.setProperty("voice", voice)
        self._engine.setProperty("rate", rate)

    def save(self, text: str, path: str) -> None:
        for attempt in range(1, PYTTSX3_ATTEMPTS + 1):
            if self._save_once(text, Path(path)):
                return
            print(f"pyttsx3 wrote no audio (attempt {attempt} of {PYTTSX3_ATTEMPTS})", file=sys.stderr)
        raise RuntimeError("pyttsx3 wrote no audio (its run loop did not run)")

    def _save_once(self, text: str, target: Path) -> bool:
        target.unlink(missing_ok=True)
        self._engine.save_to_file(text, str(target))
        self._engine.runAndWait()
        # pyttsx3 2.99 with espeak-ng 1.51, seen here in about one run in ten: runAndWait returns
        # while espeak is still synthesising (the file appears a little later), or the file holds
        # only a header. So wait until the file is whole, and say so when it stays empty.
        return _wait_for_complete_wav(target, time.monotonic() + COMPLETE_TIMEOUT_S)


def _wait_for_complete_wav(path: Path, deadline: float) -> bool:
    """True once `path` is a WAV whose header counts all the bytes written (wave patches it on
    close); False at the deadline, or as soon as the file stays a bare header (nothing was said)."""
    empty_polls = 0
    while True:
        try:
            with wave.open(str(path), "rb") as wav:
                frames, width, channels = wav.getnframes(), wav.getsampwidth(), wav.getnchannels()
            size = path.stat().st_size
            if frames and size >= 44 + frames * width * channels:
                return True
            empty_polls = empty_polls + 1 if not frames and size <= 44 else 0
            if empty_polls >= EMPTY_POLLS:
                return False
        except (OSError, EOFError, wave.Error):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


class EspeakCliEngine:
    """espeak-ng as a command; the same voice and rate, no library state to go wrong."""

    name = "espeak-ng"

    def __init__(self, voice: str, rate: int) -> None:
        self.voice = voice
        self.rate = rate

    def save(self, text: str, path: str) -> None:
        command = ["espeak-ng", "-v", self.voice, "-s", str(self.rate), "-w", path, text]
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode("utf-8", "replace").strip() or f"espeak-ng exit {done.returncode}")


def make_engine(spec: str, voice: str, rate: int) -> Engine:
    if spec == "pyttsx3":
        return Pyttsx3Engine(voice, rate)
    if spec == "espeak-ng":
        return EspeakCliEngine(voice, rate)
    if spec == "neural":
        from caller.voice.neural import ZhttsEngine

        return ZhttsEngine(voice, rate)
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise SystemExit(f"unknown engine {spec!r}: pyttsx3, espeak-ng, neural or module:factory")
    factory = getattr(importlib.import_module(module_name), attribute)
    engine: Engine = factory(voice, rate)
    return engine


def serve(engine: Engine, requests: TextIO, replies: TextIO) -> None:
    _send(replies, {"ready": True, "engine": engine.name, "voice": engine.voice, "pid": os.getpid()})
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            engine.save(str(request["text"]), str(request["path"]))
            reply: dict[str, Any] = {"id": request.get("id"), "ok": True}
        except Exception as exc:  # one failed request is reported, the worker keeps serving
            reply = {"id": _request_id(line), "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        _send(replies, reply)


def _request_id(line: str) -> Any:
    try:
        return json.loads(line).get("id")
    except (ValueError, AttributeError):
        return None


def _send(replies: TextIO, message: dict[str, Any]) -> None:
    replies.write(json.dumps(message, ensure_ascii=False) + "\n")
    replies.flush()


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the voice caller dies, even while pyttsx3 hangs in C
    (a hung worker never reads the end of its stdin, so it would otherwise outlive its parent)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the stdin check below still ends an idle worker


def _stop_quietly() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))


def main(argv: list[str] | None = None) -> int:
    _stop_quietly()
    parser = argparse.ArgumentParser(prog="caller.voice.worker")
    parser.add_argument("--engine", default="pyttsx3")
    parser.add_argument("--voice", required=True)
    parser.add_argument("--rate", type=int, default=150)
    args = parser.parse_args(argv)
    _die_with_parent()
    # Replies go to the real stdout; everything else printing to fd 1 (pyttsx3 prints
    # "Audio saved to …", C libraries may too) is sent to stderr so it cannot corrupt the protocol.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the whole process)
    engine = make_engine(args.engine, args.voice, args.rate)
    serve(engine, sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
