"""The office page's 好差评 tab in headless Chromium against a real dispatcher: a 差评 made through the
API shows up, a supervisor takes it through 核实 → 整改 → 回访 (not satisfied) → 整改 → 回访 → 已办结,
an appeal is upheld, a clerk sees the orders about them while their window terminal stays logged in,
and the month's table. Screenshots go to
artifacts/screens/web-ratings-*.png."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from server.evaluations import tables as et
from tests.support.dispatcher import Dispatcher, start_dispatcher
from tests.web.test_pages import CHROMIUM, shot

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (scripts/setup.sh)")

PHONE = "13812345678"
# window → (its clerk, a service it calls)
WINDOWS = {"1": ("clerk1", "A"), "2": ("clerk2", "A")}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    server = start_dispatcher(tmp_path_factory.mktemp("web-ratings"))
    yield server
    server.terminate()


def bad_rating(d: Dispatcher, window: str, phone: str | None = PHONE, score: int = 2) -> tuple[str | None, str]:
    """A ticket served at `window` and rated (不满意 unless told) on the citizen's phone: the id of the
    order it opened, and the ticket's number."""
    clerk, service = WINDOWS[window]
    issued = httpx.post(f"{d.api}/halls/demo/tickets", headers=d.headers, json={"service": service, "channel": "kiosk"})
    assert issued.status_code == 201, issued.text
    ticket = issued.json()
    at_window = d.clerk_headers(window, clerk)
    called = httpx.post(f"{d.api}/halls/demo/windows/{window}/call-next", headers=at_window)
    assert called.status_code == 200 and called.json()["ticket"]["id"] == ticket["id"], called.text
    assert httpx.post(f"{d.api}/halls/demo/windows/{window}/finish", headers=at_window).status_code == 200
    access = parse_qs(urlsplit(ticket["status_url"]).query)["k"][0]
    reasons = ["attitude"] if score <= 2 else []
    body: dict[str, Any] = {"ticket_id": ticket["id"], "score": score, "reasons": reasons, "comment": "窗口态度生硬"}
    if phone:
        body["contact_phone"] = phone
    rated = httpx.post(f"{d.api}/halls/demo/evaluations", params={"k": access}, json=body)
    assert rated.status_code == 201, rated.text
    order = rated.json()["rectification"]
    return (order["id"] if order else None), ticket["number"]


def log_in(page: Any, d: Dispatcher, username: str) -> None:
    """The office login: user name and password, no window (a clerk's terminal stays logged in)."""
    page.goto(f"{d.url}/office")
    page.evaluate("sessionStorage.clear()")  # a fresh login, whoever was logged in on this tab
    page.reload()
    page.wait_for_selector("#hall:not([aria-busy])", state="attached")  # the halls are read
    assert not page.is_visible("#login-window"), "the office asks nobody for a window"
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("#login-button")
    page.click("#tabs button[data-tab='ratings']")
    page.wait_for_selector("#summary-table table, #summary-msg.warn")


def step(page: Any, form: str, text: str, action: str | None = None, satisfied: bool | None = None) -> None:
    """Fill a step's form and send it; waits for the order to come back in its new state."""
    page.fill(f"form[data-form='{form}'] textarea", text)
    if satisfied is not None:
        page.check(f"form[data-form='{form}'] input[value='{'yes' if satisfied else 'no'}']")
    page.click(f"form[data-form='{form}'] button[data-action='{action or form}']")
    page.wait_for_selector("#order-msg.ok")


def forms(page: Any) -> list[str]:
    return [f.get_attribute("data-form") for f in page.query_selector_all("#rating-detail form.step")]


def history(page: Any) -> list[str]:
    return [li.inner_text() for li in page.query_selector_all("#rating-detail ol.timeline li")]


def test_a_supervisor_takes_a_bad_rating_round_the_loop_to_closed(dispatcher: Dispatcher, page: Any) -> None:
    order, number = bad_rating(dispatcher, "1")
    log_in(page, dispatcher, "supervisor")
    page.wait_for_selector(f"tr.order[data-id='{order}']")
    assert page.inner_text("#rating-filters button[data-filter='open'] .count") != "0"
    shot(page, "ratings-list")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector(f"#rating-detail h3:has-text('{number}')")
    detail = page.inner_text("#rating-detail")
    for shown in (
        "不满意（2分）",
        "服务态度差",
        "窗口态度生硬",
        "扫码评价",
        "实名 138****5678",
        "clerk1",
        "1号窗口",
        "等候时长",
    ):
        assert shown in detail, shown
    assert PHONE not in page.content()
    assert forms(page) == ["verify", "appeal"] and "待核实" in page.inner_text("#rating-detail h3")
    shot(page, "ratings-order-open")

    page.click("form[data-form='verify'] button[data-action='verify']")  # nothing written: refused on the page
    assert page.inner_text("#order-msg") == "请填写核实情况（至少2个字）。"
    page.fill("form[data-form='verify'] textarea", "调取录像，窗口人员语气生硬")  # typed, then someone else acts
    elsewhere = {"Authorization": f"Bearer {dispatcher.login('admin')}"}
    done = httpx.post(f"{dispatcher.api}/halls/demo/rectifications/{order}/verify", headers=elsewhere,
                      json={"facts": "管理员已核实"})  # fmt: skip
    assert done.status_code == 200, done.text
    page.click("form[data-form='verify'] button[data-action='verify']")
    page.wait_for_selector("#order-msg.error")
    assert "不能「核实」" in page.inner_text("#order-msg") and "已核实" in page.inner_text("#order-msg")
    assert page.input_value("form[data-form='verify'] textarea") == "调取录像，窗口人员语气生硬", (
        "nothing typed is lost"
    )
    shot(page, "ratings-409")

    page.click("#rating-filters button[data-filter='verified']")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector("form[data-form='rectify']")
    assert forms(page) == ["rectify"]
    step(page, "rectify", "窗口人员已培训并向群众致歉")
    assert forms(page) == ["call-back"] and "回访期限" in page.inner_text("#rating-detail")
    page.click("form[data-form='call-back'] button[data-action='call-back']")  # no answer chosen: refused here
    assert "是否满意" in page.inner_text("#order-msg")
    step(page, "call-back", "群众认为仍未解决", satisfied=False)
    assert "已核实" in page.inner_text("#rating-detail h3") and forms(page) == ["rectify"]
    step(page, "rectify", "调整窗口人员并由科长回访致歉")
    step(page, "call-back", "群众表示满意", satisfied=True)
    assert "已办结" in page.inner_text("#rating-detail h3") and forms(page) == []
    lines = history(page)
    assert len(lines) == 6 and "差评生成整改单" in lines[0] and "admin（管理员）：管理员已核实" in lines[1]
    assert "回访（不满意，重新整改）" in lines[3] and "supervisor（值班主任）：群众表示满意" in lines[5]
    shot(page, "ratings-closed")
    page.click("#rating-filters button[data-filter='closed']")
    page.wait_for_selector(f"tr.order[data-id='{order}']")


def test_a_clerk_appeals_and_the_supervisor_upholds_it(dispatcher: Dispatcher, page: Any) -> None:
    order, number = bad_rating(dispatcher, "1", phone=None)
    log_in(page, dispatcher, "clerk1")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector(f"#rating-detail h3:has-text('{number}')")
    assert forms(page) == ["appeal"], "a clerk does not verify their own rating"
    assert "匿名" in page.inner_text("#rating-detail")
    step(page, "appeal", "该群众所办业务不符合条件，属误评")
    assert "申诉中" in page.inner_text("#rating-detail h3") and forms(page) == []

    log_in(page, dispatcher, "supervisor")
    page.click("#rating-filters button[data-filter='appealed']")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector("form[data-form='uphold']")
    step(page, "uphold", "核查录像，属误评")
    detail = page.inner_text("#rating-detail")
    assert "申诉成立" in page.inner_text("#rating-detail h3") and "否（申诉成立：核查录像，属误评）" in detail
    assert "不再计时" in detail and forms(page) == []
    shot(page, "ratings-upheld")


def test_a_supervisor_who_appealed_is_not_offered_the_decision(dispatcher: Dispatcher, page: Any) -> None:
    order, _ = bad_rating(dispatcher, "2")
    log_in(page, dispatcher, "supervisor")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector("form[data-form='appeal']")
    step(page, "appeal", "疑似恶意差评")
    assert forms(page) == [], "the one who appealed does not decide it"
    log_in(page, dispatcher, "admin")
    page.click("#rating-filters button[data-filter='appealed']")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector("form[data-form='uphold']")
    assert forms(page) == ["uphold"]


def window_state(d: Dispatcher, window: str, headers: dict[str, str]) -> tuple[int, str | None]:
    answer = httpx.get(f"{d.api}/halls/demo/windows/{window}", headers=headers, timeout=10)
    return answer.status_code, answer.json().get("state")


def test_a_clerk_sees_their_own_orders_while_their_window_stays_open(dispatcher: Dispatcher, page: Any) -> None:
    mine, number = bad_rating(dispatcher, "2")
    second, second_number = bad_rating(dispatcher, "2")
    other, _ = bad_rating(dispatcher, "1")
    terminal = dispatcher.clerk_headers("2", "clerk2")  # clerk2's window terminal, logged in at window 2
    assert window_state(dispatcher, "2", terminal) == (200, "open")
    log_in(page, dispatcher, "clerk2")
    page.click("#rating-filters button[data-filter='all']")
    page.wait_for_selector(f"tr.order[data-id='{mine}']")
    assert window_state(dispatcher, "2", terminal) == (200, "open"), "the office login took no window"
    shown = [tr.get_attribute("data-id") for tr in page.query_selector_all("tr.order")]
    assert other not in shown and {mine, second} <= set(shown)
    assert all("2号窗口" in tr.inner_text() for tr in page.query_selector_all("tr.order"))
    rows = page.query_selector_all("#summary-table tbody tr:not(.total)")
    assert [r.get_attribute("data-key") for r in rows] == ["2"]
    page.click(f"tr.order[data-id='{mine}']")
    page.wait_for_selector(f"#rating-detail h3:has-text('{number}')")
    assert forms(page) == ["appeal"]
    page.fill("form[data-form='appeal'] textarea", "群众所述与录像不符")
    page.click(f"tr.order[data-id='{second}']")
    page.wait_for_selector(f"#rating-detail h3:has-text('{second_number}')")
    assert page.input_value("form[data-form='appeal'] textarea") == ""
    page.click(f"tr.order[data-id='{mine}']")
    page.wait_for_selector(f"#rating-detail h3:has-text('{number}')")
    assert page.input_value("form[data-form='appeal'] textarea") == "群众所述与录像不符", "a draft survives"
    assert "clerk2" in page.inner_text("#rating-detail")
    shot(page, "ratings-clerk")
    page.click("#logout")
    page.wait_for_selector("#login-msg.ok")
    assert window_state(dispatcher, "2", terminal) == (200, "open"), "the office logout closed no window"


def test_the_month_table_shows_the_api_s_numbers_ranked(dispatcher: Dispatcher, page: Any) -> None:
    bad_rating(dispatcher, "2")
    bad_rating(dispatcher, "2", phone=None, score=5)
    log_in(page, dispatcher, "supervisor")
    token = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    answer = httpx.get(f"{dispatcher.api}/halls/demo/evaluations/summary", headers=token).json()
    assert answer["rows"], answer
    page.wait_for_selector("#summary-table tbody tr.total")
    for row in answer["rows"]:
        cells = [c.inner_text() for c in page.query_selector_all(f"#summary-table tr[data-key='{row['key']}'] td")]
        pct = [f"{row[k]}%" if row[k] is not None else "—" for k in ("good_pct", "replied_pct", "rectified_pct")]
        assert cells[:5] == [str(row["rank"]), row["label"], str(row["count"]), str(row["good"]), pct[0]]
        assert cells[5:9] == [str(row["bad"]), str(row["bad_real_name"]), pct[1], pct[2]]
    assert page.inner_text("#summary-table tr.total td") == "合计"
    assert page.input_value("#summary-month") == answer["month"]
    shot(page, "ratings-summary")
    first = dt.date.fromisoformat(answer["month"] + "-01")
    earlier = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    assert page.inner_text("#summary-month option:checked") == f"{first.year}年{first.month}月"
    page.select_option("#summary-month", earlier)
    page.wait_for_selector("#summary-table td:has-text('本月没有评价')")
    page.select_option("#summary-month", answer["month"])
    page.select_option("#summary-by", "clerk")
    page.wait_for_selector("#summary-table tr[data-key='clerk2']")


def test_an_overdue_order_is_listed_and_marked(dispatcher: Dispatcher, page: Any) -> None:
    order, number = bad_rating(dispatcher, "1")
    engine = sa.create_engine(dispatcher.database)
    with engine.begin() as conn:  # the 差评 came ten days ago: 核实 (one working day) is overdue
        opened = dt.date.today() - dt.timedelta(days=10)
        conn.execute(et.rectifications.update().where(et.rectifications.c.id == order).values(opened_on=opened))
    engine.dispose()
    log_in(page, dispatcher, "supervisor")
    page.click("#rating-filters button[data-filter='overdue']")
    page.wait_for_selector(f"tr.order[data-id='{order}'] .badge.overdue")
    assert page.is_visible("#rating-filters button[data-filter='overdue'] .count.alert")
    assert page.is_visible("#ratings-count.alert"), "the 好差评 tab's count turns red"
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector(f"#rating-detail h3:has-text('{number}')")
    verify_row = page.query_selector("#rating-detail .row:has-text('核实期限')")
    assert verify_row is not None and "已超期" in verify_row.inner_text()
    assert "已超期" not in page.inner_text("#rating-detail .row:has-text('整改期限')")
    shot(page, "ratings-overdue")


def test_only_the_hall_s_head_is_offered_to_close_an_escalated_order(dispatcher: Dispatcher, page: Any) -> None:
    order, _ = bad_rating(dispatcher, "2")
    supervisor = {"Authorization": f"Bearer {dispatcher.login('supervisor')}"}
    steps = [("verify", {"facts": "属实"}), ("rectify", {"measures": "已整改"}), ("call-back", {"satisfied": False}),
             ("rectify", {"measures": "再次整改"}), ("call-back", {"satisfied": False})]  # fmt: skip
    for action, body in steps:
        done = httpx.post(f"{dispatcher.api}/halls/demo/rectifications/{order}/{action}", headers=supervisor, json=body)
        assert done.status_code == 200, done.text
    log_in(page, dispatcher, "supervisor")
    page.click("#rating-filters button[data-filter='escalated']")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector("#rating-detail h3:has-text('已提级')")
    assert forms(page) == [], "a supervisor does not close an escalated order"
    log_in(page, dispatcher, "admin")
    page.click("#rating-filters button[data-filter='escalated']")
    page.click(f"tr.order[data-id='{order}']")
    page.wait_for_selector("form[data-form='close']")
    step(page, "close", "中心负责人约谈窗口人员，向群众书面致歉后结案")
    assert "已办结" in page.inner_text("#rating-detail h3") and forms(page) == []
    assert "提级结案 — admin（管理员）" in history(page)[-1]
