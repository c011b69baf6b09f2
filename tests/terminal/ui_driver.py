"""Drives the real terminal app under Xvfb in its own process and reports what it saw.

    python -m tests.terminal.ui_driver --out DIR --scenario states [--server URL --mqtt URL]

Each Kivy process owns one window, so every UI test runs the app in a fresh subprocess; the
scenario presses keys through Window.dispatch("on_key_down") and buttons through their
`on_release`, waits for the presenter's view, saves screenshots, and writes DIR/result.json.
With `--fake`, the presenter talks to tests.terminal.fakes.FakeApi (fast layout checks);
without it, to the real dispatcher given by --server.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, cast

from hallq.device import DeviceSettings
from hallq.kivy_fit import labels_that_do_not_fit

Step = Generator[Any, None, None]
TIMEOUT_S = 20.0


class Driver:
    def __init__(self, app: Any, out: Path) -> None:
        self.app = app
        self.out = out
        self.records: list[dict[str, Any]] = []

    @property
    def view(self) -> Any:
        return self.app.presenter.view

    def key(self, name: str, modifiers: list[str] | None = None) -> None:
        from kivy.core.window import Keyboard, Window

        Window.dispatch("on_key_down", Keyboard.keycodes[name], 0, "", modifiers or [])

    def button(self, screen: str, text_part: str) -> None:
        """Tap the first button on `screen` (or the open dialog) whose text contains text_part."""
        from kivy.uix.button import Button

        root = self.app.dialog if screen == "dialog" else self.app.screens[screen]
        for widget in root.walk():
            if isinstance(widget, Button) and text_part in widget.text:
                widget.dispatch("on_release")
                return
        raise AssertionError(f"no button with {text_part!r} on {screen}")

    def type_into(self, screen: str, field: str, text: str) -> None:
        root = self.app.dialog if screen == "dialog" else self.app.screens[screen]
        root.ids[field].text = text

    def record(self, name: str, shot: bool = True) -> None:
        view = self.view
        entry: dict[str, Any] = {
            "name": name,
            "phase": view.phase,
            "state": view.state,
            "reason": view.reason,
            "ticket": view.ticket.number if view.ticket else None,
            "ticket_id": view.ticket.id if view.ticket else None,
            "green": bool(view.ticket and view.ticket.green),
            "error": view.error,
            "banner": view.banner,
            "message": view.message,
            "dialog": view.dialog,
            "waiting": view.waiting,
            "served_today": view.served_today,
            "bus_online": view.bus_online,
            "screen": self.app.root.current,
            "dialog_open": self.app.dialog is not None,
            "rating_score": view.rating_score,
            "rating_reasons": [r.code for r in view.rating_reasons if r.selected],
            "rating_done": view.rating_done,
            "rating_refused": view.rating_refused,
        }
        if shot:
            entry["screenshot"] = str(self.app.screenshot(self.out / f"terminal-{name}.png"))
            entry["clipped"] = labels_that_do_not_fit(self.app.dialog or self.app.root.current_screen)
        self.records.append(entry)


def until(condition: Callable[[], bool], what: str) -> Callable[[], bool]:
    cast(Any, condition).what = what
    return condition


def run_scenario(app: Any, out: Path, scenario: Callable[[Driver], Step], result_path: Path) -> None:
    """Advance the scenario on Kivy's clock: it yields conditions to wait for, or seconds to sleep."""
    from kivy.clock import Clock

    driver = Driver(app, out)
    steps = scenario(driver)
    state: dict[str, Any] = {"wait": None, "deadline": 0.0}

    def finish(error: str | None) -> None:
        result_path.write_text(json.dumps({"records": driver.records, "error": error}, ensure_ascii=False, indent=1))
        app.stop()

    def tick(_dt: float) -> bool:
        try:
            wait = state["wait"]
            if wait is not None:
                if isinstance(wait, float):
                    if time.monotonic() < state["deadline"]:
                        return True
                elif not wait():
                    if time.monotonic() > state["deadline"]:
                        raise AssertionError(f"timed out waiting for {getattr(wait, 'what', wait)}; view={driver.view}")
                    return True
            nxt = next(steps)
            if isinstance(nxt, int | float):
                state["wait"], state["deadline"] = float(nxt), time.monotonic() + float(nxt)
            else:
                state["wait"], state["deadline"] = nxt, time.monotonic() + TIMEOUT_S
            return True
        except StopIteration:
            finish(None)
        except Exception:
            finish(traceback.format_exc())
        return False

    Clock.schedule_interval(tick, 0.05)


def settle() -> float:
    return 0.4  # a few frames for the layout to follow the view before a screenshot


def states_scenario(d: Driver) -> Step:
    """Every state a clerk meets, each saved as a screenshot."""
    yield until(lambda: d.app.root is not None, "the app to build")
    yield settle()
    d.record("login")
    d.type_into("login", "password_field", "demo")
    d.button("login", "登录")
    yield until(lambda: d.view.phase == "work" and not d.view.busy, "login")
    yield settle()
    d.record("idle")
    d.key("f1")
    yield until(lambda: d.view.ticket is not None and not d.view.busy, "a called ticket")
    yield settle()
    d.record("serving")
    d.key("f5")
    yield until(lambda: d.app.dialog is not None, "the transfer dialog")
    yield settle()
    d.record("transfer")
    d.key("escape")
    yield until(lambda: d.app.dialog is None, "the dialog to close")
    d.key("f7")
    yield until(lambda: d.app.dialog is not None, "the call-number dialog")
    d.type_into("dialog", "number", "Z999")
    d.button("dialog", "呼叫")
    yield until(lambda: bool(d.view.error) and not d.view.busy, "an error for Z999")
    yield settle()
    d.record("error")
    d.key("escape")
    yield until(lambda: d.app.dialog is None, "the dialog to close")
    d.key("f4")
    yield from rating_steps(d)
    d.key("escape")
    yield until(lambda: d.view.phase == "work", "back to work")
    yield from more_actions(d)
    d.key("f6")
    yield until(lambda: d.app.dialog is not None, "the pause dialog")
    yield settle()
    d.record("pause-dialog")
    d.button("dialog", "午休")
    yield until(lambda: d.view.state == "paused" and not d.view.busy, "paused")
    yield settle()
    d.record("paused")
    d.key("f6")
    yield until(lambda: d.view.state == "open" and not d.view.busy, "resumed")
    d.record("resumed", shot=False)


def rating_steps(d: Driver) -> Step:
    """The citizen's screen: the levels, a 差评's reasons (one needed), then 提交 and the thanks."""
    yield until(lambda: d.view.phase == "rating" and not d.view.busy, "the rating screen")
    yield settle()
    d.record("rating-levels")
    d.key("f5")  # the clerk's keys do nothing here
    d.key("f6")
    d.button("rating", "\n不满意")
    yield until(lambda: bool(d.view.rating_reasons), "the reasons of 不满意")
    yield settle()
    d.record("rating-reasons")
    d.button("rating", "提交评价")
    yield until(lambda: bool(d.view.error), "the reason asked for")
    yield settle()
    d.record("rating-need-reason")
    d.button("rating", "办事效率低")
    d.button("rating", "多次跑动")
    yield until(lambda: sum(r.selected for r in d.view.rating_reasons) == 2, "two reasons chosen")
    yield settle()
    d.record("rating-chosen")
    d.button("rating", "提交评价")
    yield until(lambda: bool(d.view.rating_done), "the thanks")
    yield settle()
    d.record("rating-thanks")


def more_actions(d: Driver) -> Step:
    """Transfer to a window, quick-serve a walk-in, park and call back: each through its dialog."""
    d.key("f1")
    yield until(lambda: d.view.ticket is not None and not d.view.busy, "the next ticket")
    d.record("second-call", shot=False)
    d.key("f5")
    yield until(lambda: d.app.dialog is not None, "the transfer dialog")
    d.button("dialog", "2号窗口")
    yield until(lambda: d.view.ticket is None and not d.view.busy and d.app.dialog is None, "the transfer")
    d.record("transferred", shot=False)
    d.key("f9")
    yield until(lambda: d.app.dialog is not None, "the quick-serve dialog")
    yield settle()
    d.record("quick-serve")
    d.button("dialog", "（H）")
    yield until(lambda: d.view.ticket is not None and not d.view.busy and d.app.dialog is None, "the walk-in")
    d.record("walk-in", shot=False)
    d.key("f8")
    yield until(lambda: bool(d.view.parked) and d.view.ticket is None and not d.view.busy, "the park")
    d.record("parked", shot=False)
    d.key("f8")
    yield until(lambda: d.app.dialog is not None, "the call-back dialog")
    d.button("dialog", d.view.parked[0].number)
    yield until(lambda: d.view.ticket is not None and not d.view.parked and not d.view.busy, "the call-back")
    d.record("called-back", shot=False)
    d.key("f3")
    yield until(lambda: d.view.ticket is None and not d.view.busy, "the no-show")
    d.record("no-show", shot=False)


def call_next_scenario(d: Driver) -> Step:
    """Log in with the keyboard's Enter and call the next ticket with F1 only."""
    yield until(lambda: d.app.root is not None, "the app to build")
    yield until(lambda: d.view.bus_online, "the MQTT link")
    d.record("start", shot=False)
    d.type_into("login", "password_field", "demo")
    d.app.screens["login"].ids.password_field.dispatch("on_text_validate")
    yield until(lambda: d.view.phase == "work" and not d.view.busy, "login")
    d.record("logged-in", shot=False)
    d.key("f1")
    yield until(lambda: d.view.ticket is not None and not d.view.busy, "a called ticket")
    yield settle()
    d.record("called")


def restart_scenario(d: Driver) -> Step:
    """A terminal started while its window serves a ticket shows it from the retained topic, before login."""
    yield until(lambda: d.app.root is not None, "the app to build")
    yield until(lambda: d.view.bus_online and d.view.ticket is not None, "the retained window state")
    yield settle()
    d.record("restarted")


def outage_scenario(d: Driver) -> Step:
    """F1 while the dispatcher is down: banner, automatic retry with the same key, the call goes through.
    The test kills and restarts the dispatcher; files in the out folder say when."""
    yield until(lambda: d.app.root is not None, "the app to build")
    d.type_into("login", "password_field", "demo")
    d.button("login", "登录")
    yield until(lambda: d.view.phase == "work" and not d.view.busy, "login")
    (d.out / "logged-in").touch()
    yield until(lambda: (d.out / "go").exists(), "the dispatcher to be killed")
    d.key("f1")
    yield until(lambda: bool(d.view.banner), "the dispatcher-down banner")
    yield settle()
    d.record("offline")
    (d.out / "banner-shown").touch()
    yield until(lambda: d.view.ticket is not None and not d.view.banner and not d.view.busy, "the retried call")
    yield settle()
    d.record("recovered")
    if d.app.presenter.ask_evaluator is not None:  # the citizen rates on the window's evaluator
        d.key("f4")
        yield until(lambda: bool(d.view.rating_done), "the evaluator's rating")
        d.record("evaluated", shot=False)


def rating_refused_scenario(d: Driver) -> Step:
    """With --fake: the citizen rates on the screen, but the ticket was rated already (on the phone):
    the dispatcher's 409 sentence shows; then a good level without reasons goes through."""
    from hallq.client import DispatcherRefused

    yield until(lambda: d.app.root is not None, "the app to build")
    d.type_into("login", "password_field", "demo")
    d.button("login", "登录")
    yield until(lambda: d.view.phase == "work" and not d.view.busy, "login")
    d.key("f1")
    yield until(lambda: d.view.ticket is not None and not d.view.busy, "a called ticket")
    d.key("f4")
    yield until(lambda: d.view.phase == "rating" and not d.view.busy, "the rating screen")
    d.button("rating", "\n满意")
    yield until(lambda: d.view.rating_score == 4, "满意 chosen")
    yield settle()
    d.record("rating-good")
    d.app.presenter.api.failures = [
        DispatcherRefused(409, "A001号已经评价过了（一次一评）。 Ticket A001 has already been evaluated.")
    ]
    d.button("rating", "提交评价")
    yield until(lambda: d.view.rating_refused, "the dispatcher's refusal")
    yield settle()
    d.record("rating-refused")
    yield until(lambda: d.view.phase == "work", "back to work")
    d.record("after-refused", shot=False)


SCENARIOS = {
    "rating-refused": rating_refused_scenario,
    "outage": outage_scenario,
    "states": states_scenario,
    "call-next": call_next_scenario,
    "restart": restart_scenario,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="states")
    parser.add_argument("--fake", action="store_true")
    parser.add_argument("--server", default="http://127.0.0.1:9")
    parser.add_argument("--mqtt", default="mqtt://127.0.0.1:9")
    parser.add_argument("--window", default="1")
    parser.add_argument("--size", default="1280x800", help="the window's WIDTHxHEIGHT")
    parser.add_argument("--token", default="demo-device-token")
    parser.add_argument("--evaluator", help="evaluator URL, e.g. sim:eval; --evaluator-auto makes it answer")
    parser.add_argument("--evaluator-auto", type=int, help="the simulated citizen's rating")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from caller.terminal.runtime import TerminalOptions, build_app

    settings = DeviceSettings(
        kind="terminal", device=f"terminal-{args.window}", demo=True, token=args.token,
        server=args.server, mqtt=args.mqtt, evaluator=args.evaluator,
    )  # fmt: skip
    if args.evaluator and args.evaluator_auto:
        from hardware.evaluator import SimulatedEvaluator
        from hardware.sim import get_simulator
        from hardware.urls import parse_device_url

        simulator = get_simulator("evaluator", parse_device_url(args.evaluator).path)
        assert isinstance(simulator, SimulatedEvaluator)
        simulator.auto_rating = args.evaluator_auto
    width, height = (int(part) for part in args.size.split("x"))
    options = TerminalOptions(window=args.window, windowed=True, size=(width, height), speak_rating=False)
    result = out / "result.json"
    scenario = SCENARIOS[args.scenario]
    app = build_app(settings, options, on_started=lambda a: run_scenario(a, out, scenario, result))
    if args.fake:
        from tests.terminal.fakes import FakeApi

        fake = FakeApi()
        fake.current = None
        app.presenter.api = cast(Any, fake)
        app._start_link = None
    app.run()
    return 0 if result.exists() and json.loads(result.read_text())["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
