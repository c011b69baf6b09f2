"""The citizen's rating screen at the window (好差评, DESIGN.md §11): the five levels, a 差评's reasons,
提交, the dispatcher's 409, the sentences spoken, and the hardware evaluator on the Modbus simulator."""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from caller.terminal.api import TerminalApi
from caller.terminal.presenter import ASK_RATING, NEED_REASON, THANKS, THANKS_SHOWN_S, TerminalPresenter
from caller.terminal.runtime import evaluator_asker
from caller.terminal.speech import RecordingSpeaker, VoiceSpeaker, voice_engine
from caller.voice.audio import chime, peak, read_wav, to_wav
from hallq.cli import main
from hallq.client import DispatcherRefused
from hallq.worker import UiWorker
from hardware.evaluator import SimulatedEvaluator
from hardware.sim import get_simulator
from tests.terminal.fakes import FakeApi, ManualRunner, down

ALREADY = "A001号已经评价过了（一次一评）。 Ticket A001 has already been evaluated."


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def runner() -> ManualRunner:
    return ManualRunner()


@pytest.fixture
def speaker() -> RecordingSpeaker:
    return RecordingSpeaker()


def rating_screen(fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker, **kwargs: Any) -> TerminalPresenter:
    """Logged in, A001 called and finished: the citizen's screen is up."""
    presenter = TerminalPresenter(cast(TerminalApi, fake), runner, speaker=speaker, **kwargs)
    presenter.login("clerk1", "demo")
    presenter.call_next()
    presenter.finish()
    assert presenter.view.phase == "rating"
    return presenter


def reason_codes(presenter: TerminalPresenter) -> list[str]:
    return [reason.code for reason in presenter.view.rating_reasons]


def sent(fake: FakeApi) -> list[dict[str, Any]]:
    return [call[1] for call in fake.calls if call[0] == "evaluation"]


def test_a_bad_level_shows_its_reasons_and_needs_one(
    fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker
) -> None:
    presenter = rating_screen(fake, runner, speaker)
    presenter.submit_rating()
    assert presenter.view.error == "请先选择满意程度" and sent(fake) == []
    presenter.choose_level(2)
    view = presenter.view
    assert view.rating_score == 2 and view.rating_bad
    assert [(r.code, r.label, r.selected) for r in view.rating_reasons] == [
        ("attitude", "服务态度差", False), ("efficiency", "办事效率低", False),
    ]  # fmt: skip
    presenter.submit_rating()
    assert presenter.view.error == NEED_REASON and sent(fake) == [], "a 差评 without a reason is not sent"
    presenter.toggle_reason("efficiency")
    presenter.toggle_reason("attitude")
    presenter.toggle_reason("attitude")  # touched twice: not chosen
    assert presenter.view.error == ""
    presenter.submit_rating()
    assert sent(fake) == [{"ticket": "t-A001", "score": 2, "reasons": ["efficiency"], "channel": "terminal"}]
    assert presenter.view.rating_done == "感谢您的评价：不满意\n大厅负责人将核实情况并整改，谢谢您的监督。"
    runner.advance(THANKS_SHOWN_S + 0.1)
    assert presenter.view.phase == "work" and presenter.view.rating_reasons == ()


def test_a_good_level_may_be_sent_without_reasons(
    fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker
) -> None:
    presenter = rating_screen(fake, runner, speaker)
    presenter.choose_level(1)
    presenter.choose_level(4)  # the citizen changes their mind: the reasons follow the level
    assert [r.code for r in presenter.view.rating_reasons] == ["skill"] and not presenter.view.rating_bad
    presenter.submit_rating()
    assert sent(fake) == [{"ticket": "t-A001", "score": 4, "channel": "terminal"}]


def test_the_options_are_loaded_once_and_again_only_after_a_failure(
    fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker
) -> None:
    fake.waiting = ["A001", "A002", "A003"]
    read = fake.rating_options
    asked: list[int] = []

    def options_down_once() -> Any:
        asked.append(1)
        if len(asked) == 1:
            raise down()
        return read()

    fake.rating_options = options_down_once  # type: ignore[method-assign]
    presenter = TerminalPresenter(cast(TerminalApi, fake), runner, speaker=speaker)
    presenter.login("clerk1", "demo")
    presenter.call_next()
    presenter.handle_key("f4")  # the options cannot be read: a 差评 then goes without reasons
    assert presenter.view.phase == "rating"
    presenter.choose_level(1)
    assert presenter.view.rating_reasons == ()
    presenter.submit_rating()
    assert sent(fake)[-1] == {"ticket": "t-A001", "score": 1, "channel": "terminal"}
    for _ in range(2):  # the next two citizens: read once more, then kept
        presenter.handle_key("f1")
        presenter.handle_key("f4")
        presenter.choose_level(1)
        assert reason_codes(presenter) == ["attitude", "efficiency"]
        presenter.handle_key("escape")
    assert len(asked) == 2


def test_rated_already_is_said_in_the_dispatchers_words(
    fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker
) -> None:
    presenter = rating_screen(fake, runner, speaker)
    presenter.choose_level(5)
    fake.failures = [DispatcherRefused(409, ALREADY)]
    presenter.submit_rating()
    view = presenter.view
    assert view.rating_done == ALREADY and view.rating_refused and view.error == ""
    presenter.choose_level(3)  # nothing more to send for this ticket
    assert len(sent(fake)) == 1
    runner.advance(THANKS_SHOWN_S * 2 + 0.1)
    assert presenter.view.phase == "work" and not presenter.view.rating_refused


def test_the_screen_says_the_question_each_level_touched_and_thanks(
    fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker
) -> None:
    presenter = rating_screen(fake, runner, speaker)
    presenter.choose_level(2)
    presenter.choose_level(5)
    presenter.toggle_reason("skill")  # a reason is not spoken
    presenter.submit_rating()
    assert speaker.said == [ASK_RATING, "不满意", "非常满意", THANKS]


def test_the_clerks_keys_neither_rate_nor_speak(fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker) -> None:
    presenter = rating_screen(fake, runner, speaker)
    for key in ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"):
        assert presenter.handle_key(key)
    assert speaker.said == [ASK_RATING] and sent(fake) == [] and presenter.view.phase == "rating"


def test_a_press_on_the_evaluator_is_spoken_and_sent(
    fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker
) -> None:
    presenter = rating_screen(fake, runner, speaker, ask_evaluator=lambda ticket: None)
    ticket = presenter.view.rating_ticket
    assert ticket is not None
    presenter.evaluator_rated(ticket, 3)
    assert speaker.said == [ASK_RATING, "基本满意", THANKS]
    assert sent(fake) == [{"ticket": "t-A001", "score": 3, "channel": "terminal"}]


def test_the_modbus_evaluator_press_reaches_the_screen_and_is_spoken(
    fake: FakeApi, runner: ManualRunner, speaker: RecordingSpeaker
) -> None:
    """The real Modbus evaluator driver on the bus simulator, asked by the terminal's own asker."""
    posted: queue.Queue[Callable[[], None]] = queue.Queue()
    worker = UiWorker(posted.put, lambda _delay, _action: lambda: None, workers=1, name="test-evaluator")
    simulator = get_simulator("evaluator", "test-rating-evaluator")
    assert isinstance(simulator, SimulatedEvaluator)
    holder: dict[str, TerminalPresenter] = {}
    try:
        asker = evaluator_asker("sim:test-rating-evaluator?unit=5", lambda: holder["presenter"], worker=worker)
        holder["presenter"] = presenter = rating_screen(fake, runner, speaker, ask_evaluator=asker)
        assert simulator.evaluator(5).asked.wait(10), "the evaluator was asked"
        assert simulator.prompt(5) == "请为A001的服务评价"
        assert simulator.rate(4, unit=5)
        posted.get(timeout=10)()  # the answer, handed to the UI thread (here: this one)
    finally:
        worker.shutdown()
    assert speaker.said == [ASK_RATING, "满意", THANKS]
    assert sent(fake) == [{"ticket": "t-A001", "score": 4, "channel": "terminal"}]
    assert presenter.view.rating_done == "感谢您的评价：满意"


class SlowEngine:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.rendered: list[str] = []

    def render(self, text: str) -> bytes:
        self.release.wait(10)
        self.rendered.append(text)
        return to_wav(chime())


class Loudspeaker:
    def __init__(self, state: str = "ok") -> None:
        self._state = state
        self.played: list[float] = []

    def play(self, path: Path, duration_s: float) -> None:
        assert path.read_bytes()[:4] == b"RIFF"
        self.played.append(duration_s)

    def state(self) -> str:
        return self._state


def test_the_voice_speaks_in_its_own_thread_and_the_newest_sentence_wins() -> None:
    engine, output = SlowEngine(), Loudspeaker()
    voice = VoiceSpeaker(lambda: engine, output)
    try:
        voice.say(ASK_RATING)  # returns while the engine is still busy: the UI thread never waits
        voice.say("不满意")
        voice.say("满意")  # the citizen touched again before 不满意 was said: only 满意 is left
        assert not voice.wait_idle(0.05)
        engine.release.set()
        assert voice.wait_idle(10)
    finally:
        voice.close()
    assert engine.rendered[-1] == "满意" and "不满意" not in engine.rendered
    assert len(output.played) == len(engine.rendered) and all(seconds > 0 for seconds in output.played)


def test_without_a_sound_card_nothing_is_synthesized() -> None:
    made: list[int] = []

    def make_engine() -> SlowEngine:
        made.append(1)
        return SlowEngine()

    voice = VoiceSpeaker(make_engine, Loudspeaker("missing: no soundcards found"))
    try:
        voice.say(ASK_RATING)
        assert voice.wait_idle(10)
    finally:
        voice.close()
    assert made == []


def test_speak_rating_is_an_option_and_a_device_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def run(_settings: Any, options: Any) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr("caller.terminal.runtime.run_terminal", run)
    assert main(["terminal", "--window", "1", "--demo"]) == 0
    assert main(["terminal", "--window", "1", "--demo", "--no-speak-rating"]) == 0
    monkeypatch.setenv("HALLQ_SPEAK_RATING", "no")
    monkeypatch.setenv("HALLQ_AUDIO_DEVICE", "plughw:1,0")
    assert main(["terminal", "--window", "1", "--demo"]) == 0
    assert [(o.speak_rating, o.audio_device) for o in seen] == [(True, None), (False, None), (False, "plughw:1,0")]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (scripts/setup.sh)")
def test_the_voice_caller_s_engine_says_each_sentence_audibly(fake: FakeApi, runner: ManualRunner) -> None:
    """The real engines (pyttsx3 / espeak-ng) behind the screen, a loudspeaker that keeps what it plays."""
    heard: list[tuple[str, float]] = []

    class Listening:
        def __init__(self) -> None:
            self.engine = voice_engine()

        def close(self) -> None:
            self.engine.close()

        def render(self, text: str) -> bytes:
            data = self.engine.render(text)
            pcm = read_wav(data)
            heard.append((text, pcm.duration_s if peak(pcm) > 0 else 0.0))
            return data

    voice = VoiceSpeaker(Listening, Loudspeaker())
    try:
        presenter = TerminalPresenter(cast(TerminalApi, fake), runner, speaker=voice)
        presenter.login("clerk1", "demo")
        presenter.call_next()
        presenter.finish()
        assert voice.wait_idle(30)
        presenter.choose_level(5)
        assert voice.wait_idle(30)
        presenter.submit_rating()
        assert voice.wait_idle(30)
    finally:
        voice.close()
    assert [text for text, _ in heard] == [ASK_RATING, "非常满意", THANKS]
    assert all(seconds > 0.5 for _, seconds in heard), heard
