"""The presenter's decisions, fast, against a fake dispatcher (the UI tests use a real one)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest

from caller.terminal.api import TerminalApi
from caller.terminal.presenter import (
    RATING_TIMEOUT_S,
    TerminalPresenter,
    TerminalView,
    format_duration,
    serving_seconds,
)
from hallq.client import DispatcherRefused
from hallq.contract import BoardSnapshot, BoardWaiting, BoardWindow, WindowStateMessage
from tests.terminal.fakes import FakeApi, HeldRunner, ManualRunner, down


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def runner() -> ManualRunner:
    return ManualRunner()


def make(fake: FakeApi, runner: ManualRunner, **kwargs: Any) -> tuple[TerminalPresenter, list[TerminalView]]:
    views: list[TerminalView] = []
    presenter = TerminalPresenter(cast(TerminalApi, fake), runner, views.append, **kwargs)
    return presenter, views


def logged_in(fake: FakeApi, runner: ManualRunner, **kwargs: Any) -> TerminalPresenter:
    presenter, _ = make(fake, runner, **kwargs)
    presenter.login("clerk1", "demo")
    assert presenter.view.phase == "work"
    return presenter


def test_demo_prefills_the_windows_clerk(fake: FakeApi, runner: ManualRunner) -> None:
    presenter, _ = make(fake, runner, demo=True)
    assert (presenter.view.username, presenter.view.password) == ("clerk1", "demo")
    plain, _ = make(fake, runner)
    assert plain.view.username == ""


def test_login_loads_window_and_hall(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    view = presenter.view
    assert view.clerk == "王*" and view.window_name == "1号窗口"
    assert view.waiting == {"A": 2, "B": 1} and view.served_today == 0
    assert view.my_services == ("A", "B")
    assert view.waiting_lines() == ["社保业务（A）：2人", "医保业务（B）：1人"]
    kinds = {(t.kind, t.id) for t in view.targets}
    assert ("window", "2") in kinds and ("window", "1") not in kinds and ("service", "B") in kinds
    assert view.timezone == "Asia/Shanghai"


def test_the_clock_shows_the_halls_time_not_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from caller.terminal.style import clock_text

    monkeypatch.setenv("TZ", "America/New_York")  # a terminal whose machine is set to another zone
    time.tzset()
    try:
        at = dt.datetime(2026, 12, 7, 2, 30, 5, tzinfo=dt.UTC).timestamp()
        assert clock_text(at, "Asia/Shanghai") == "10:30:05"
        assert clock_text(at, "") == "21:30:05"  # before the hall is read: the machine's zone
        assert clock_text(at, "Not/AZone") == "21:30:05"
        assert clock_text(0, "Asia/Shanghai") == ""
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_wrong_password_is_shown_in_words(fake: FakeApi, runner: ManualRunner) -> None:
    presenter, _ = make(fake, runner)
    presenter.login("clerk1", "nope")
    assert presenter.view.phase == "login"
    assert presenter.view.error == "登录失败：用户名或密码不对"
    presenter.login("", "")
    assert presenter.view.error == "请输入用户名和密码"


def test_keys_are_ignored_on_the_login_screen(fake: FakeApi, runner: ManualRunner) -> None:
    presenter, _ = make(fake, runner)
    assert presenter.handle_key("f1") is False
    assert not any(c[0] == "call-next" for c in fake.calls)


def test_f1_calls_next_and_shows_the_ticket(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    assert presenter.handle_key("F1")
    ticket = presenter.view.ticket
    assert ticket is not None and ticket.number == "A001" and ticket.service_name == "社保业务"
    assert presenter.view.message == "已呼叫 A001"
    assert presenter.view.waiting == {"A": 1, "B": 1}  # refreshed after the action
    presenter.handle_key("f1")
    assert presenter.view.ticket is not None and presenter.view.ticket.green
    assert presenter.view.served_today == 1


def test_call_next_with_nobody_waiting(fake: FakeApi, runner: ManualRunner) -> None:
    fake.waiting = []
    presenter = logged_in(fake, runner)
    presenter.call_next()
    assert presenter.view.ticket is None and presenter.view.message == "当前没有等候的号"


def test_dispatcher_down_shows_banner_and_retries_with_the_same_key(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    fake.failures = [down(), down()]
    presenter.call_next()
    assert "调度服务器连接中断" in presenter.view.banner and "1秒后" in presenter.view.banner
    runner.advance(1)
    assert "第2次" in presenter.view.banner
    runner.advance(2)
    assert presenter.view.banner == ""
    assert presenter.view.ticket is not None and presenter.view.ticket.number == "A001"
    keys = [key for name, _, key in fake.calls if name == "call-next"]
    assert len(keys) == 3 and len(set(keys)) == 1


def test_pressing_f1_while_retrying_retries_now_with_the_same_key(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    fake.failures = [down()]
    presenter.handle_key("f1")
    presenter.handle_key("f1")  # the clerk presses again: same press, not a second call
    assert presenter.view.ticket is not None and presenter.view.ticket.number == "A001"
    keys = [key for name, _, key in fake.calls if name == "call-next"]
    assert len(keys) == 2 and keys[0] == keys[1]
    presenter.handle_key("f1")  # a new press after success is a new key
    keys = [key for name, _, key in fake.calls if name == "call-next"]
    assert keys[2] != keys[1]
    assert presenter.view.ticket is not None and presenter.view.ticket.number == "A002"


def test_escape_stops_a_retry(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    fake.failures = [down()]
    presenter.call_next()
    presenter.handle_key("escape")
    assert presenter.view.banner == "" and presenter.view.message == "已取消重试"
    runner.advance(10)
    assert sum(1 for c in fake.calls if c[0] == "call-next") == 1


def test_actions_need_a_ticket_and_say_so(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    for key, word in (("f2", "重呼"), ("f3", "过号"), ("f4", "办结"), ("f5", "转移")):
        presenter.handle_key(key)
        assert presenter.view.error == f"没有正在办理的号，无法{word}"


def test_api_error_detail_is_shown(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.call_next()
    fake.failures = [DispatcherRefused(409, "A001 已被5号窗口办理，不能重呼")]
    presenter.recall()
    assert presenter.view.error == "重呼失败：A001 已被5号窗口办理，不能重呼"
    assert presenter.view.banner == ""


def test_session_expiry_returns_to_login(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    fake.failures = [DispatcherRefused(401, "登录已失效")]
    presenter.call_next()
    assert presenter.view.phase == "login" and "请重新登录" in presenter.view.error


def test_finish_asks_for_a_rating_and_posts_it(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.call_next()
    presenter.handle_key("f4")
    assert presenter.view.phase == "rating"
    assert presenter.view.rating_ticket is not None and presenter.view.rating_ticket.number == "A001"
    presenter.choose_level(5)
    presenter.submit_rating()
    sent = {"ticket": "t-A001", "score": 5, "channel": "terminal"}
    assert ("evaluation", sent) in [(c[0], c[1]) for c in fake.calls]
    assert presenter.view.rating_done == "感谢您的评价：非常满意"
    presenter.choose_level(1)  # a second tap does not post again
    presenter.submit_rating()
    assert sum(1 for c in fake.calls if c[0] == "evaluation") == 1
    runner.advance(5)
    assert presenter.view.phase == "work"


def test_clerk_keys_do_nothing_on_the_citizens_rating_screen(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.call_next()
    presenter.finish()
    for key in ("f2", "f3", "f5", "f6", "f7", "f8", "f9"):
        presenter.handle_key(key)
    assert presenter.view.phase == "rating" and presenter.view.dialog == "" and presenter.view.error == ""
    presenter.handle_key("escape")
    assert presenter.view.phase == "work"


def test_rating_times_out_and_f1_leaves_it(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.call_next()
    presenter.finish()
    runner.advance(RATING_TIMEOUT_S + 1)
    assert presenter.view.phase == "work"
    presenter.call_next()
    presenter.finish()
    presenter.handle_key("f1")
    assert presenter.view.phase == "work" and presenter.view.ticket is not None
    assert presenter.view.ticket.number == "B001"


def test_rating_can_be_switched_off(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner, rating=False)
    presenter.call_next()
    presenter.finish()
    assert presenter.view.phase == "work" and presenter.view.message == "A001 已办结"


def test_pause_with_reason_and_resume(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.handle_key("f6")
    assert presenter.view.dialog == "pause"
    presenter.pause("  ")
    assert presenter.view.error == "请选择或填写暂停原因"
    presenter.pause("午休")
    assert presenter.view.state == "paused" and presenter.view.reason == "午休" and presenter.view.dialog == ""
    assert ("pause", {"reason": "午休"}) in [(c[0], c[1]) for c in fake.calls]
    presenter.handle_key("f6")
    assert presenter.view.state == "open"


def test_transfer_to_a_window(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.call_next()
    presenter.handle_key("f5")
    assert presenter.view.dialog == "transfer"
    target = next(t for t in presenter.view.targets if t.kind == "window" and t.id == "2")
    presenter.transfer(target)
    assert ("transfer", {"window": "2"}) in [(c[0], c[1]) for c in fake.calls]
    assert presenter.view.ticket is None and presenter.view.message == "A001 已转到2号窗口"


def test_call_a_number_validates_and_reports(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.handle_key("f7")
    assert presenter.view.dialog == "call-number"
    presenter.call_number("12")
    assert "格式不对" in presenter.view.error
    presenter.call_number("c009")
    assert presenter.view.error == "特呼失败：今天没有C009号，或它已办结"
    presenter.call_number("b001")
    assert presenter.view.ticket is not None and presenter.view.ticket.number == "B001"
    assert presenter.view.dialog == ""


def test_park_and_call_back(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    presenter.handle_key("f8")
    assert "没有当前号" in presenter.view.error
    presenter.call_next()
    presenter.handle_key("f8")
    assert [t.number for t in presenter.view.parked] == ["A001"] and presenter.view.ticket is None
    presenter.handle_key("f8")
    assert presenter.view.dialog == "call-back"
    presenter.call_back("A001")
    assert ("call-back", {"ticket": "t-A001"}) in [(c[0], c[1]) for c in fake.calls]
    assert presenter.view.parked == ()


def test_retained_window_state_shows_at_once_and_triggers_refresh(fake: FakeApi, runner: ManualRunner) -> None:
    presenter, _ = make(fake, runner)
    presenter.on_window_message(WindowStateMessage(seq=7, state="paused", ticket=None, text="暂停服务"))
    assert presenter.view.state == "paused" and presenter.view.led_text == "暂停服务"
    assert not any(c[0] == "window" for c in fake.calls)  # not logged in: no HTTP
    presenter.login("clerk1", "demo")
    fake.current = {"id": "t-A009", "number": "A009", "service": "A", "service_name": "社保业务"}
    before = sum(1 for c in fake.calls if c[0] == "window")
    presenter.on_window_message(WindowStateMessage(seq=9, state="open", ticket="A009", text="请A009号"))
    assert presenter.view.ticket is not None and presenter.view.ticket.service_name == "社保业务"
    assert sum(1 for c in fake.calls if c[0] == "window") == before + 1
    presenter.on_window_message(WindowStateMessage(seq=8, state="paused", ticket=None, text="old"))
    assert presenter.view.state == "open"  # an older seq never overwrites a newer one


def test_board_updates_waiting_counts_of_my_services_only(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    board = BoardSnapshot(
        seq=3,
        at=now,
        windows=[BoardWindow(window="1", name="1号窗口", state="paused", reason="午休")],
        waiting={
            "A": BoardWaiting(name="社保业务", count=9, est_wait_s=60),
            "C": BoardWaiting(name="公积金", count=4, est_wait_s=60),
        },
    )
    presenter.on_board(board)
    assert presenter.view.waiting == {"A": 9, "B": 1} and presenter.view.reason == "午休"


def test_refresh_failure_shows_banner_and_recovers(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    fake.failures = [down()]
    runner.advance(30)  # the periodic refresh meets a dead dispatcher
    assert "调度服务器连接中断" in presenter.view.banner
    runner.advance(1)
    assert presenter.view.banner == ""


def test_durations_are_in_words() -> None:
    assert format_duration(754) == "12分34秒"
    assert format_duration(3700) == "1小时01分"
    assert format_duration(None) == "—"
    called = FakeApi().call_next("k")
    assert called is not None
    from caller.terminal.presenter import TicketView

    ticket = TicketView.from_api(called)
    later = dt.datetime(2026, 11, 23, 12, 1, 30, tzinfo=dt.UTC)
    assert serving_seconds(ticket, later) == 90


def test_hardware_evaluator_is_asked_and_its_score_is_booked(fake: FakeApi, runner: ManualRunner) -> None:
    asked: list[str] = []
    presenter = logged_in(fake, runner, ask_evaluator=lambda ticket: asked.append(ticket.number))
    presenter.call_next()
    presenter.finish()
    assert asked == ["A001"]
    rating_ticket = presenter.view.rating_ticket
    assert rating_ticket is not None
    presenter.evaluator_rated(rating_ticket, 4)
    assert presenter.view.rating_done == "感谢您的评价：满意"
    presenter.evaluator_rated(rating_ticket, 1)  # a second press for the same citizen is not booked
    assert [c[1]["score"] for c in fake.calls if c[0] == "evaluation"] == [4]


def test_evaluator_score_after_the_screen_moved_on_is_still_booked(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner, ask_evaluator=lambda ticket: None)
    presenter.call_next()
    presenter.finish()
    finished = presenter.view.rating_ticket
    assert finished is not None
    presenter.call_next()  # the clerk calls the next citizen before the last one pressed
    presenter.evaluator_rated(finished, 5)
    assert ("evaluation", {"ticket": "t-A001", "score": 5, "channel": "terminal"}) in [(c[0], c[1]) for c in fake.calls]
    assert presenter.view.phase == "work" and presenter.view.ticket is not None
    presenter.evaluator_rated(finished, None)  # nobody pressed: nothing happens


def test_a_press_during_a_background_refresh_runs_right_after_it(fake: FakeApi) -> None:
    runner = HeldRunner()
    presenter, _ = make(fake, runner)
    presenter.login("clerk1", "demo")
    runner.release()
    presenter.refresh()  # the periodic refresh is in flight …
    presenter.handle_key("f1")  # … when the clerk presses F1
    assert presenter.view.busy == "叫号" and presenter.view.message != "正在刷新，请稍候"
    runner.release()
    assert presenter.view.ticket is not None and presenter.view.ticket.number == "A001"
    presenter.handle_key("f2")
    presenter.handle_key("f2")  # a second press while the first recall runs is refused, not queued
    assert presenter.view.message == "正在重呼，请稍候"
    runner.release()
    assert sum(1 for c in fake.calls if c[0] == "recall") == 1


def test_a_finished_ticket_reported_by_the_window_is_not_current(fake: FakeApi, runner: ManualRunner) -> None:
    presenter = logged_in(fake, runner)
    fake.current = {"id": "t-A001", "number": "A001", "status": "done"}
    presenter.refresh()
    assert presenter.view.ticket is None


def test_a_refused_broker_login_is_shown_until_the_link_comes_up(fake: FakeApi, runner: ManualRunner) -> None:
    presenter, _ = make(fake, runner)
    presenter.on_bus_problem("消息服务器拒绝了本终端（t-1）的凭据，请联系管理员")
    assert "拒绝" in presenter.view.bus_problem and not presenter.view.bus_online
    presenter.on_bus(True)
    assert presenter.view.bus_problem == "" and presenter.view.bus_online
