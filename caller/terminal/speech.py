"""The terminal's voice on the citizen's rating screen: a few short sentences through the loudspeaker.

The voice caller's engines speak them (caller/voice: pyttsx3 in a worker process, espeak-ng's command
as the fallback, the Mandarin voice chosen by its phonemes) and `aplay` plays them. Everything slow
— choosing the voice, starting the engine, synthesizing, playing — runs in one thread of its own, so
`say()` returns at once and never holds up Kivy's thread. One sentence at a time, newest wins: a
sentence still waiting when the citizen touches the next button is dropped. A PC without a sound
card or without espeak-ng stays silent and says why in the log, once. Only fixed words are spoken
(the levels' names, thanks): never a citizen's data (DESIGN.md section 7).
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from caller.voice.audio import read_wav
from caller.voice.output import AudioOutput, AudioOutputError

log = logging.getLogger(__name__)

PROBE_TEXTS = ("请您对本次服务进行评价", "非常满意，基本满意，不满意")


class Speaker(Protocol):
    def say(self, text: str) -> None:
        """Speak `text` soon; returns at once."""
        ...

    def close(self) -> None: ...


class Render(Protocol):
    def render(self, text: str) -> bytes:
        """`text` as a WAV file's bytes."""
        ...


class SilentSpeaker:
    """`--no-speak-rating`, and the tests that do not listen."""

    def say(self, text: str) -> None:
        log.debug("would say: %s", text)

    def close(self) -> None:
        pass


class RecordingSpeaker:
    """Keeps what was said, in order (tests)."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def close(self) -> None:
        pass


class VoiceSpeaker:
    """Synthesizes and plays in a thread of its own; `make_engine` runs there too, on the first sentence."""

    def __init__(self, make_engine: Callable[[], Render], output: AudioOutput) -> None:
        self._make_engine = make_engine
        self._engine: Render | None = None
        self._broken = False
        self._audio_problem = ""
        self._output = output
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._pending = 0  # sentences asked for and not yet played or dropped
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="terminal-speech", daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        with self._idle:
            while True:  # newest wins
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
                self._pending -= 1
            self._pending += 1
            self._queue.put(text)

    def close(self) -> None:
        """Stop after the sentence being said; the engine is closed in the speaker's thread."""
        self._queue.put(None)

    def wait_idle(self, timeout: float) -> bool:
        """True once every sentence asked for has been played or dropped (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _loop(self) -> None:
        while (text := self._queue.get()) is not None:
            try:
                self._speak(text)
            except Exception:  # a broken engine or sound card must not end speech for the day
                log.exception("the rating screen could not say %r", text)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
        closing = getattr(self._engine, "close", None)  # the pyttsx3 worker process ends with the speaker
        if closing is not None:
            closing()

    def _speak(self, text: str) -> None:
        audio = self._output.state()
        if audio != "ok":  # no sound card: no synthesis either (checked again every 30 s)
            if audio != self._audio_problem:
                log.warning("the rating screen stays silent: audio %s", audio)
            self._audio_problem = audio
            return
        engine = self._engine_or_none()
        if engine is None:
            return
        data = engine.render(text)
        with tempfile.TemporaryDirectory(prefix="hallq-terminal-speech-") as folder:
            path = Path(folder) / "say.wav"
            path.write_bytes(data)
            try:
                self._output.play(path, read_wav(data).duration_s)
            except AudioOutputError as exc:  # the sound card went away: said once, tried again next time
                if str(exc) != self._audio_problem:
                    log.warning("the rating screen cannot play its voice: %s", exc)
                self._audio_problem = str(exc)
                return
        self._audio_problem = ""

    def _engine_or_none(self) -> Render | None:
        if self._engine is None and not self._broken:
            try:
                self._engine = self._make_engine()
            except Exception as exc:  # no espeak-ng, no Mandarin voice: silent, said once
                self._broken = True
                log.warning("the rating screen stays silent: %s", exc)
        return self._engine


def voice_engine(rate: int = 150, timeout_s: float = 10.0) -> Render:
    """The voice caller's engines without the neural voice (a terminal PC does not load TensorFlow)."""
    from caller.voice.engines import build_engines, engine_chain
    from hallq.voices import choose_voice

    check = choose_voice(PROBE_TEXTS)
    return build_engines(engine_chain("pyttsx3", "off"), check.voice.file, rate, timeout_s)


def loudspeaker(device: str | None = None) -> VoiceSpeaker:
    """The rating screen's voice on this PC's sound card (`aplay`)."""
    from caller.voice.output import AplayOutput

    return VoiceSpeaker(voice_engine, AplayOutput(device))
