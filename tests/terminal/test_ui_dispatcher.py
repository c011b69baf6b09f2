"""The terminal under Xvfb against a real Mosquitto and a real `hallq server`.

Keys and buttons drive it; the dispatcher's own answers prove what happened; every state is saved
to artifacts/screens/terminal-*.png for people to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.broker import Broker
from tests.support.dispatcher import Dispatcher
from tests.terminal.conftest import keep_screens, records_by_name, run_ui, wait_for_file

pytestmark = pytest.mark.ui


def issue(dispatcher: Dispatcher, service: str, **extra: Any) -> dict[str, Any]:
    body = {"service": service, "channel": "kiosk", **extra}
    response = httpx.post(f"{dispatcher.api}/halls/demo/tickets", json=body, headers=dispatcher.headers, timeout=10)
    assert response.status_code == 201, response.text
    return dict(response.json())


def window_state(dispatcher: Dispatcher, window: str) -> dict[str, Any]:
    response = httpx.get(f"{dispatcher.api}/halls/demo/windows/{window}", headers=dispatcher.headers, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def ui_args(broker: Broker, dispatcher: Dispatcher, window: str = "1") -> list[str]:
    mqtt = broker.device_url(f"terminal-{window}", kind="terminal")
    return ["--server", dispatcher.url, "--mqtt", mqtt, "--window", window]


def test_clerk_calls_serves_rates_and_pauses(hall: tuple[Broker, Dispatcher], tmp_path: Path) -> None:
    broker, dispatcher = hall
    first = issue(dispatcher, "A", priority="green", green_reason="disabled")
    second = issue(dispatcher, "B")
    dispatcher.login("clerk2", "2")  # window 2 open, so the terminal can transfer a ticket to it
    records = records_by_name(run_ui(tmp_path / "ui", *ui_args(broker, dispatcher), "--scenario", "states"))
    keep_screens(records)

    assert records["login"]["screen"] == "login"
    assert records["idle"]["waiting"].get("A") == 1 and records["idle"]["waiting"].get("B") == 1
    serving = records["serving"]
    assert serving["ticket"] == first["number"] and serving["green"], "the green ticket is called first"
    assert records["transfer"]["dialog_open"]
    assert records["error"]["error"].startswith("特呼失败：") and "Z999" in records["error"]["error"]
    assert records["rating-levels"]["screen"] == "rating" and records["rating-levels"]["dialog_open"] is False
    assert records["rating-reasons"]["rating_score"] == 2 and records["rating-reasons"]["rating_reasons"] == []
    assert records["rating-need-reason"]["error"] == "请至少选择一项不满意的原因"
    assert records["rating-chosen"]["rating_reasons"] == ["efficiency", "repeat-visits"]
    assert records["rating-thanks"]["rating_done"].startswith("感谢您的评价：不满意\n大厅负责人将核实情况")
    assert records["paused"]["state"] == "paused" and records["paused"]["reason"] == "午休"
    # transfer, walk-in, park and call back, no-show: the dispatcher agrees with each
    moved = records["second-call"]
    assert moved["ticket"] == second["number"] and records["transferred"]["error"] == ""
    walk_in = records["walk-in"]["ticket"]
    assert walk_in and walk_in.startswith("H") and records["parked"]["error"] == ""
    assert records["called-back"]["ticket"] == walk_in and records["no-show"]["error"] == ""
    by_id = httpx.get(f"{dispatcher.api}/halls/demo/tickets/{second['id']}", headers=dispatcher.headers, timeout=10)
    assert by_id.json()["status"] == "waiting"
    walk = records["called-back"]["ticket_id"]
    walk_status = httpx.get(f"{dispatcher.api}/halls/demo/tickets/{walk}", headers=dispatcher.headers, timeout=10)
    assert walk_status.json()["status"] == "no_show"

    rated = httpx.get(f"{dispatcher.api}/halls/demo/tickets/{first['id']}", headers=dispatcher.headers, timeout=10)
    assert rated.status_code == 200 and rated.json()["status"] == "done"
    again = httpx.post(f"{dispatcher.api}/halls/demo/tickets/{first['id']}/evaluation", json={"score": 1},
                       headers=dispatcher.headers, timeout=10)  # fmt: skip
    assert again.status_code == 409 and "已经评价过了" in again.json()["detail"], "the terminal's rating was stored"
    supervisor = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    stored = httpx.get(f"{dispatcher.api}/halls/demo/evaluations", headers=supervisor, timeout=10).json()
    mine = [r for r in stored if r["number"] == first["number"] and r["window"] == "1"]
    assert [(r["score"], r["channel"], [x["code"] for x in r["reasons"]]) for r in mine] == [
        (2, "terminal", ["efficiency", "repeat-visits"])
    ], "the 差评 went with its reasons, as the terminal's"
    for record in (r for r in records.values() if "screenshot" in r):
        assert record["clipped"] == [], f"{record['name']}: text that does not fit"
        with Image.open(record["screenshot"]) as image:
            assert image.size == (1280, 800)
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50, f"{record['name']} is blank"
    final = window_state(dispatcher, "1")
    assert final["state"] == "open" and final["served_today"] >= 1


def test_a_small_terminal_window_shrinks_everything_to_fit(hall: tuple[Broker, Dispatcher], tmp_path: Path) -> None:
    broker, dispatcher = hall
    ticket = issue(dispatcher, "C")  # windows 6 and 7 serve C; no other test opens them
    args = [*ui_args(broker, dispatcher, "6"), "--size", "640x480", "--scenario", "call-next"]
    records = records_by_name(run_ui(tmp_path / "small", *args))
    keep_screens(records, prefix="small-")
    called = records["called"]
    assert called["ticket"] == ticket["number"]
    assert called["clipped"] == [], "every label fits a 640×480 window"
    with Image.open(called["screenshot"]) as image:
        assert image.size == (640, 480)


def test_f1_calls_a_ticket_and_a_restarted_terminal_shows_it(hall: tuple[Broker, Dispatcher], tmp_path: Path) -> None:
    broker, dispatcher = hall
    ticket = issue(dispatcher, "E")  # window 8 alone serves E
    args = ui_args(broker, dispatcher, "8")
    # on a clerk's 1920×1080 monitor the whole layout grows in proportion, and still fits
    called = records_by_name(run_ui(tmp_path / "call", *args, "--scenario", "call-next", "--size", "1920x1080"))
    assert called["start"]["phase"] == "login" and called["called"]["ticket"] == ticket["number"]
    assert called["called"]["clipped"] == []
    with Image.open(called["called"]["screenshot"]) as image:
        assert image.size == (1920, 1080)
    keep_screens({"called": called["called"]}, prefix="large-")
    state = window_state(dispatcher, "8")
    assert state["ticket"]["number"] == ticket["number"] and state["ticket"]["status"] == "called"

    # a new terminal process (the PC restarted): before anyone logs in it shows the retained state
    restarted = records_by_name(run_ui(tmp_path / "again", *args, "--scenario", "restart"))
    assert restarted["restarted"]["phase"] == "login" and restarted["restarted"]["ticket"] == ticket["number"]
    keep_screens({"restarted": restarted["restarted"]})


def test_dispatcher_outage_shows_a_banner_and_the_retry_calls_once(
    hall: tuple[Broker, Dispatcher], tmp_path: Path
) -> None:
    broker, dispatcher = hall
    first = issue(dispatcher, "G")  # window 11 alone serves G
    second = issue(dispatcher, "G")

    def conduct(out: Path) -> None:
        wait_for_file(out / "logged-in")
        dispatcher.kill()
        (out / "go").touch()
        wait_for_file(out / "banner-shown")
        dispatcher.restart()

    args = ui_args(broker, dispatcher, "11")
    evaluator = ["--evaluator", "sim:window-11-evaluator", "--evaluator-auto", "4"]  # the citizen presses 满意
    result = run_ui(tmp_path / "outage", *args, *evaluator, "--scenario", "outage", conductor=conduct)
    records = records_by_name(result)
    keep_screens({"offline": records["offline"]})
    assert "调度服务器连接中断" in records["offline"]["banner"] and "自动重试" in records["offline"]["banner"]
    assert records["recovered"]["ticket"] == first["number"] and records["recovered"]["banner"] == ""
    assert records["evaluated"]["phase"] == "rating"
    again = httpx.post(f"{dispatcher.api}/halls/demo/tickets/{first['id']}/evaluation", json={"score": 1},
                       headers=dispatcher.headers, timeout=10)  # fmt: skip
    assert again.status_code == 409, "the hardware evaluator's rating was stored"
    waiting = httpx.get(f"{dispatcher.api}/halls/demo/tickets/{second['id']}", headers=dispatcher.headers, timeout=10)
    assert waiting.json()["status"] == "waiting", "one press called one ticket, however often it was retried"


def test_a_ticket_rated_already_shows_the_dispatcher_s_sentence(tmp_path: Path) -> None:
    """The fake dispatcher answers 409 (rated on the phone first): the citizen reads why, then work resumes."""
    records = records_by_name(run_ui(tmp_path / "refused", "--fake", "--scenario", "rating-refused"))
    keep_screens({name: records[name] for name in ("rating-good", "rating-refused")})
    good = records["rating-good"]
    assert good["rating_score"] == 4 and good["rating_reasons"] == [] and good["clipped"] == []
    refused = records["rating-refused"]
    assert refused["rating_refused"] and refused["rating_done"].startswith("A001号已经评价过了（一次一评）")
    assert refused["clipped"] == [] and refused["error"] == ""
    assert records["after-refused"]["phase"] == "work"
