"""Text to speech behind one small interface, so a better offline TTS can replace espeak-ng.

`Synthesizer.render(text) -> bytes` returns a WAV. Implementations:
- `WorkerSynthesizer`: an engine (pyttsx3 by default) in a process of its own, every request with
  a timeout; a hung or dead worker is killed and started again, and a watchdog thread checks an
  idle worker now and then, so a hang is found before the next call rather than during it;
- `EspeakCliSynthesizer`: `espeak-ng -w` per request — the fallback;
- `FallbackSynthesizer`: the first that works, reporting which one spoke.
Every WAV is checked (readable, long enough, not silent) before it is accepted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Protocol

from caller.voice.audio import AudioError, peak, read_wav

log = logging.getLogger(__name__)

DEFAULT_RATE = 150  # words per minute; espeak-ng's 175 is hurried for a hall
MIN_SPEECH_S = 0.2


class SynthesisError(RuntimeError):
    """The engine failed, hung, or produced no audible speech."""


class Synthesizer(Protocol):
    def render(self, text: str) -> bytes:
        """`text` spoken, as the bytes of a 16-bit PCM WAV file."""
        ...

    def status(self) -> dict[str, Any]:
        """What the device status shows: engine, voice, restarts, last error."""
        ...

    def close(self) -> None: ...


def check_speech(data: bytes, source: str) -> bytes:
    """Refuse a WAV that is unreadable, too short or silent: better the fallback than silence."""
    try:
        pcm = read_wav(data)
    except AudioError as exc:
        raise SynthesisError(f"{source}: {exc}") from None
    if pcm.duration_s < MIN_SPEECH_S or peak(pcm) == 0:
        raise SynthesisError(f"{source}: produced {pcm.duration_s:.2f} s of silence")
    return data


class EspeakCliSynthesizer:
    """`espeak-ng -v VOICE -s RATE -w FILE TEXT`, one process per announcement."""

    def __init__(self, voice: str, rate: int = DEFAULT_RATE, timeout_s: float = 20.0) -> None:
        self.voice = voice
        self.rate = rate
        self.timeout_s = timeout_s

    def render(self, text: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="hallq-espeak-") as folder:
            path = Path(folder) / "speech.wav"
            command = ["espeak-ng", "-v", self.voice, "-s", str(self.rate), "-w", str(path), text]
            try:
                # A session of its own: Ctrl-C in the terminal stops the caller, not this announcement.
                done = subprocess.run(
                    command, capture_output=True, timeout=self.timeout_s, check=False, start_new_session=True
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SynthesisError(f"espeak-ng: {exc}") from None
            if done.returncode != 0 or not path.exists():
                detail = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
                raise SynthesisError(f"espeak-ng: {detail}")
            return check_speech(path.read_bytes(), "espeak-ng")

    def status(self) -> dict[str, Any]:
        return {"engine": "espeak-ng", "voice": self.voice, "rate": self.rate}

    def close(self) -> None:
        return None


class WorkerSynthesizer:
    """An engine in a worker process, with a timeout per request and a watchdog that restarts it."""

    def __init__(
        self,
        voice: str,
        rate: int = DEFAULT_RATE,
        engine: str = "pyttsx3",
        timeout_s: float = 10.0,
        start_timeout_s: float = 20.0,
        check_every_s: float = 60.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.voice = voice
        self.rate = rate
        self.engine = engine
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self.check_every_s = check_every_s
        self.env = env
        self.restarts = 0
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        self._last_used = time.monotonic()
        self._folder = tempfile.TemporaryDirectory(prefix="hallq-tts-")
        self._closing = threading.Event()
        self._wake = threading.Event()  # set when the worker was killed: the watchdog starts a new one
        self._watchdog: threading.Thread | None = None

    # --- the interface ---

    def render(self, text: str) -> bytes:
        # While a fresh worker is starting (after a hang), don't wait longer than for an answer:
        # the fallback speaks meanwhile.
        if not self._lock.acquire(timeout=self.timeout_s):
            raise SynthesisError(f"{self.engine}: the worker is still being restarted")
        try:
            self._last_used = time.monotonic()
            return self._render_locked(text)
        except SynthesisError as exc:
            self.last_error = str(exc)
            self._restart(reason=str(exc))
            raise
        finally:
            self._lock.release()

    def status(self) -> dict[str, Any]:
        process = self._process
        return {
            "engine": self.engine,
            "voice": self.voice,
            "rate": self.rate,
            "worker_pid": process.pid if process and process.poll() is None else None,
            "restarts": self.restarts,
            "last_error": self.last_error,
        }

    def close(self) -> None:
        """Stop at once: a render or a start waiting on the worker (up to `timeout_s` / `start_timeout_s`,
        holding the lock) is ended by killing the worker first, so stopping the caller never waits for it."""
        self._closing.set()
        self._wake.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()  # its reader sees the end of the stream: the waiting render gives up now
        with self._lock:
            self._stop_process()
        self._folder.cleanup()

    # --- the watchdog ---

    def start_watchdog(self) -> None:
        """Check the engine with a short word whenever it has been idle for `check_every_s`."""
        if self._watchdog is None:
            self._watchdog = threading.Thread(target=self._watch, name="tts-watchdog", daemon=True)
            self._watchdog.start()

    def _watch(self) -> None:
        while not self._closing.is_set():
            if self._wake.wait(min(self.check_every_s, 5.0)):
                self._wake.clear()
                self._start_if_stopped()
                continue
            if self._closing.is_set() or time.monotonic() - self._last_used < self.check_every_s:
                continue
            try:
                self.render("一")
            except SynthesisError as exc:
                log.warning("TTS watchdog: the engine failed its check and was restarted: %s", exc)

    # --- the worker process ---

    def _render_locked(self, text: str) -> bytes:
        self._ensure_started()
        self._next_id += 1
        request_id = self._next_id
        path = Path(self._folder.name) / f"{request_id}.wav"
        self._send({"id": request_id, "text": text, "path": str(path)})
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._reply_before(deadline, f"no answer within {self.timeout_s:.0f} s (engine hung)")
            if reply.get("id") == request_id:
                break  # replies to earlier, timed-out requests cannot arrive: that worker was killed
        if not reply.get("ok"):
            raise SynthesisError(f"{self.engine}: {reply.get('error', 'failed')}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SynthesisError(f"{self.engine}: wrote no file: {exc}") from None
        finally:
            path.unlink(missing_ok=True)
        return check_speech(data, self.engine)

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        if self._process is not None:
            log.warning("TTS worker exited with status %s; starting it again", self._process.returncode)
            self.restarts += 1
        self._start_process()

    def _start_process(self) -> None:
        command = [
            sys.executable,
            "-m",
            "caller.voice.worker",
            "--engine",
            self.engine,
            "--voice",
            self.voice,
            "--rate",
            str(self.rate),
        ]
        environment = {**os.environ, **(self.env or {})}
        try:
            # Its own session: Ctrl-C in a terminal is for the voice caller, which stops the worker itself.
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, start_new_session=True
            )
        except OSError as exc:
            raise SynthesisError(f"cannot start the TTS worker: {exc}") from None
        self._process = process
        self._replies = queue.Queue()
        assert process.stdout is not None
        reader = threading.Thread(
            target=_read_replies, args=(process.stdout, self._replies), name="tts-reader", daemon=True
        )
        reader.start()
        ready = self._reply_before(time.monotonic() + self.start_timeout_s, "did not start in time")
        if not ready.get("ready"):
            raise SynthesisError(f"TTS worker said {ready!r} instead of ready")
        log.info("TTS worker %s ready: engine %s, voice %s", process.pid, ready.get("engine"), ready.get("voice"))

    def _reply_before(self, deadline: float, timeout_message: str) -> dict[str, Any]:
        try:
            reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise SynthesisError(f"{self.engine}: {timeout_message}") from None
        if reply is None:
            raise SynthesisError(f"{self.engine}: the worker process died")
        return reply

    def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        assert process is not None and process.stdin is not None
        try:
            process.stdin.write((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
            process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise SynthesisError(f"{self.engine}: the worker process is gone: {exc}") from None

    def _restart(self, reason: str) -> None:
        """Kill the worker now. The watchdog thread starts a fresh one in the background (without a
        watchdog, the next request does), so this announcement — the fallback says it — does not wait.

        Only long-lived threads start workers: the worker asks Linux to kill it when the thread
        that started it ends (PR_SET_PDEATHSIG is per thread), so a short-lived thread must not."""
        log.warning("restarting the TTS worker: %s", reason)
        self._stop_process()
        self.restarts += 1
        self._wake.set()

    def _start_if_stopped(self) -> None:
        with self._lock:
            if self._closing.is_set() or (self._process is not None and self._process.poll() is None):
                return
            try:
                self._start_process()
            except SynthesisError as exc:
                self.last_error = str(exc)
                self._stop_process()
                log.error("the TTS worker does not start: %s (trying again at the next announcement)", exc)

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("TTS worker %s does not die", process.pid)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _read_replies(stream: IO[bytes], replies: queue.Queue[dict[str, Any] | None]) -> None:
    for raw in stream:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("TTS worker wrote a line that is not JSON: %r", raw[:200])
            continue
        if isinstance(message, dict):
            replies.put(message)
    replies.put(None)  # end of stream: the worker died


class FallbackSynthesizer:
    """Try each synthesizer in order; an announcement is never lost to one engine's failure."""

    def __init__(self, *synthesizers: Synthesizer) -> None:
        if not synthesizers:
            raise ValueError("at least one synthesizer")
        self.synthesizers = synthesizers
        self.fallback_uses = 0
        self.last_engine: str | None = None

    def render(self, text: str) -> bytes:
        errors: list[str] = []
        for index, synthesizer in enumerate(self.synthesizers):
            try:
                data = synthesizer.render(text)
            except SynthesisError as exc:
                errors.append(str(exc))
                log.warning("TTS %s failed: %s", synthesizer.status().get("engine"), exc)
                continue
            if index:
                self.fallback_uses += 1
            self.last_engine = str(synthesizer.status().get("engine"))
            return data
        raise SynthesisError("every TTS engine failed: " + "; ".join(errors))

    def status(self) -> dict[str, Any]:
        primary = dict(self.synthesizers[0].status())
        primary["fallbacks"] = [s.status().get("engine") for s in self.synthesizers[1:]]
        primary["fallback_uses"] = self.fallback_uses
        primary["last_engine"] = self.last_engine
        return primary

    def close(self) -> None:
        for synthesizer in self.synthesizers:
            synthesizer.close()
