"""The back office of the one-window reform over HTTP, on SQLite and PostgreSQL: a 公共场所卫生许可 received
at comprehensive window 4 on the afternoon before the National Day holiday, its paper handed to 卫健
late, accepted and decided there, its result refused once at the output window and handed over again,
delivered, its 送达回执 returned, archived — each step by its own desk, another department refused.
The clock is the test's; the 收件通知书 and the 《材料交接表》 are compared byte for byte."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from hallq.config import example_config_path, load_hall_config
from hardware.printer.layout import HandoverLine, HandoverSlip, ReceiptSlip, render_handover, render_receipt
from tests.cases.conftest import SAMPLE_CARD, Clock

BASE = "/api/v1/halls/demo"
CST = ZoneInfo("Asia/Shanghai")
HYGIENE_MATERIALS = ["卫生许可申请表", "营业执照", "卫生检测报告"]


def login(client: TestClient, username: str, window: str | None = None) -> dict[str, str]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": "demo", "window": window})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def act(client: TestClient, who: dict[str, str], case_id: str, action: str, **body: Any) -> Any:
    return client.post(f"{BASE}/cases/{case_id}/actions/{action}", headers=who, json=body)


def receive_hygiene_permit(client: TestClient, clerk: dict[str, str]) -> dict[str, Any]:
    checks = [
        {"idx": 0, "status": "provided", "original_seen": True},
        {"idx": 1, "status": "provided"},  # a copy: no original to see
        {"idx": 2, "status": "deferred", "promise_signed": True},
    ]
    body = {"item": "hygiene-permit", "id_card": SAMPLE_CARD, "phone": "13812345678", "window": "4"}
    reply = client.post(f"{BASE}/cases/intake", headers=clerk, json={**body, "materials": checks})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_window_checks_every_material_and_refuses_an_unseen_original(client: TestClient) -> None:
    clerk = login(client, "clerk4", "4")
    body = {"item": "hygiene-permit", "id_card": SAMPLE_CARD, "window": "4"}
    unseen = [{"idx": 0, "status": "provided"}, {"idx": 2, "status": "deferred"}]
    reply = client.post(f"{BASE}/cases/intake", headers=clerk, json={**body, "materials": unseen})
    assert reply.status_code == 409
    detail = reply.json()["detail"]
    assert "「卫生许可申请表」须核验原件" in detail and "「营业执照」未收" in detail
    assert "「卫生检测报告」须签署容缺承诺书" in detail  # every problem told at once
    assert client.get(f"{BASE}/cases", headers=login(client, "supervisor")).json()["cases"] == []
    elsewhere = client.post(f"{BASE}/cases/intake", headers=clerk, json={**body, "window": "5", "materials": []})
    assert elsewhere.status_code == 403 and "4 号窗口" in elsewhere.json()["detail"]


def test_a_case_behind_the_window_from_intake_to_archive(
    client: TestClient, clock: Clock, printers: dict[str, Path]
) -> None:
    clock.at("2026-09-30 14:10")  # the afternoon before the National Day holiday (10-01 … 10-07)
    clerk = login(client, "clerk4", "4")
    case = receive_hygiene_permit(client, clerk)
    case_id = case["id"]
    assert case["status"] == "received" and case["received_window"] == "4" and case["back_office"]
    assert case["next_desk"] == ["业务部门"]
    # afternoon paper reaches the department by 10:00 on the next working day: after the holiday
    assert case["handover"] == {"due_at": "2026-10-08T10:00:00+08:00", "signed_at": None, "late": False}
    assert case["deadlines"]["accept_due"] == "2026-10-09" and case["deadlines"]["deferred_due"] == "2026-10-13"
    assert case["printed"] and case["print_message"] == "已在4号窗口打印"
    expected_receipt = ReceiptSlip(
        hall_name="句容市政务服务中心",
        receipt_number=case["receipt_no"],
        service_item="公共场所卫生许可",
        applicant="张*",
        received_at=dt.datetime(2026, 9, 30, 14, 10, tzinfo=CST),
        materials_received=HYGIENE_MATERIALS[:2],
        materials_missing=HYGIENE_MATERIALS[2:],
        supplement_by=dt.date(2026, 10, 13),
        promised_by=None,
        status_url=case["status_url"],
        contact=load_hall_config(example_config_path()).hall.phone,
    )
    assert printers["4"].read_bytes() == render_receipt(expected_receipt)
    assert "张三" not in case["print_preview"] and "申请人：张*" in case["print_preview"]

    # the department waits for its paper; the window cannot accept for it, another department cannot see it
    health, market = login(client, "wj1"), login(client, "scjg1")
    assert act(client, clerk, case_id, "accept").status_code == 403
    refused = act(client, market, case_id, "accept")
    assert refused.status_code == 403 and "该办件属于卫健" in refused.json()["detail"]
    assert client.get(f"{BASE}/cases/{case_id}", headers=market).status_code == 403
    assert client.get(f"{BASE}/cases", headers=market).json()["cases"] == []
    assert [c["id"] for c in client.get(f"{BASE}/cases", headers=health).json()["cases"]] == [case_id]
    early = act(client, health, case_id, "accept")
    assert early.status_code == 409 and "材料交接表" in early.json()["detail"]

    # 10-08 09:40 the window hands the paper over; 卫健 signs for it at 10:30, half an hour late
    clock.at("2026-10-08 09:40")
    paper_for_health = {"kind": "materials", "department": "卫健", "window": "4"}
    sheet = client.post(f"{BASE}/handovers", headers=clerk, json=paper_for_health).json()
    assert sheet["printed"] and [i["case_id"] for i in sheet["items"]] == [case_id]
    assert printers["4"].read_bytes() == render_handover(
        HandoverSlip(
            hall_name="句容市政务服务中心",
            sheet_number="JJ202610080001",
            title="材料交接表",
            from_desk="4号窗口",
            to_desk="卫健",
            handed_by="clerk4",
            created_at=dt.datetime(2026, 10, 8, 9, 40, tzinfo=CST),
            lines=[
                HandoverLine(
                    case["receipt_no"],
                    "公共场所卫生许可",
                    "张*",
                    HYGIENE_MATERIALS[:2],
                    dt.datetime(2026, 10, 8, 10, 0, tzinfo=CST),
                )
            ],
        )
    )
    again = client.post(
        f"{BASE}/handovers", headers=clerk, json={"kind": "materials", "department": "卫健", "window": "4"}
    )
    assert again.status_code == 409  # nothing left to hand over
    assert client.post(f"{BASE}/handovers/{sheet['id']}/sign", headers=market).status_code == 403
    clock.at("2026-10-08 10:30")
    assert "handover" in client.get(f"{BASE}/cases/{case_id}", headers=health).json()["overdue"]
    signed = client.post(f"{BASE}/handovers/{sheet['id']}/sign", headers=health).json()
    assert signed["signed_by"] == "user:wj1" and signed["late"] == 1 and signed["items"][0]["late"]
    after = client.get(f"{BASE}/cases/{case_id}", headers=health).json()
    assert after["handover"]["late"] and "handover" not in after["overdue"]
    assert any("逾期交接" in h["note"] and h["actor"] == "user:wj1" for h in after["history"])

    # 卫健 accepts and decides: 10 working days from 10-08 (10-10 is a make-up Saturday)
    accepted = act(client, health, case_id, "accept").json()
    assert accepted["deadlines"]["decide_due"] == "2026-10-21"
    assert act(client, health, case_id, "approve").json()["status"] == "approved"
    assert act(client, clerk, case_id, "ready").status_code == 409  # the result goes through the hand-over
    results = client.post(
        f"{BASE}/handovers", headers=health, json={"kind": "results", "department": "卫健", "cases": [case_id]}
    )
    assert results.status_code == 201, results.text
    assert results.json()["items"][0]["status"] == "result_sent"

    # the output window finds the licence wrong and refuses it; 卫健 corrects within 1 working day
    output = login(client, "clerk12", "12")
    assert act(client, output, case_id, "refuse_result").status_code == 409  # a refusal says what is wrong
    refusal = act(client, output, case_id, "refuse_result", note="许可证上的单位名称与营业执照不符").json()
    assert refusal["status"] == "result_refused" and refusal["deadlines"]["result_fix_due"] == "2026-10-09"
    clock.at("2026-10-12 09:00")
    assert "result_fix" in client.get(f"{BASE}/cases/{case_id}", headers=health).json()["overdue"]
    assert act(client, health, case_id, "send_result").json()["status"] == "result_sent"
    assert act(client, output, case_id, "ready").json()["status"] == "ready"
    delivered = act(client, output, case_id, "deliver").json()
    assert delivered["deadlines"]["receipt_due"] == "2026-10-13" and delivered["next_desk"] == ["综合出件窗口"]
    assert act(client, health, case_id, "return_receipt").status_code == 403  # the output window returns it
    clock.at("2026-10-14 09:00")
    overdue = client.get(f"{BASE}/cases?flag=overdue", headers=health).json()["cases"]
    assert [c["overdue"] for c in overdue] == [["receipt"]]
    assert act(client, output, case_id, "return_receipt").json()["status"] == "receipt_returned"
    archived = act(client, health, case_id, "archive").json()
    assert archived["status"] == "archived" and archived["decision"] == "approved"
    steps = [(h["action"], h["actor"]) for h in archived["history"] if h["action"] not in ("start", "check")]
    assert steps == [
        ("complete", "user:clerk4"),
        ("handover", "user:wj1"),
        ("accept", "user:wj1"),
        ("approve", "user:wj1"),
        ("send_result", "user:wj1"),
        ("refuse_result", "user:clerk12"),
        ("send_result", "user:wj1"),
        ("ready", "user:clerk12"),
        ("deliver", "user:clerk12"),
        ("return_receipt", "user:clerk12"),
        ("archive", "user:wj1"),
    ]

    # the department's numbers: accepted in time, decided on time, its one hand-over late
    numbers = f"{BASE}/stats/departments?from=2026-09-30&to=2026-10-14"
    assert client.get(numbers, headers=clerk).status_code == 403
    mine = client.get(numbers, headers=health).json()["rows"]
    assert [r["department"] for r in mine] == ["卫健"]
    row = mine[0]["cases"]
    assert (row["received"], row["accepted"], row["accepted_in_time"], row["decided"], row["on_time_pct"]) == (
        1,
        1,
        1,
        1,
        100.0,
    )
    assert (row["handed_over"], row["handovers_late"]) == (1, 1)
    everyone = client.get(numbers, headers=login(client, "supervisor")).json()["rows"]
    assert {r["department"] for r in everyone} == {"卫健", "人社", "税务", "市场监管"}
    for bad in ("from=2026-10-14&to=2026-09-30", "from=2025-10-01&to=2026-10-02"):  # reversed; 367 days
        refused = client.get(f"{BASE}/stats/departments?{bad}", headers=health)
        assert refused.status_code == 422 and ("统计范围" in refused.text or "结束日期" in refused.text), refused.text


def test_a_department_without_staff_still_decides_at_the_window(client: TestClient, clock: Clock) -> None:
    """不动产登记 works at its window in the demo: the clerk accepts, and no paper hand-over is asked for."""
    clock.at("2026-09-29 10:00")
    clerk = login(client, "clerk6", "6")
    checks = [{"idx": i, "status": "provided", "original_seen": True} for i in range(5)]
    body = {"item": "realestate-transfer", "id_card": SAMPLE_CARD, "window": "6", "materials": checks}
    case = client.post(f"{BASE}/cases/intake", headers=clerk, json=body).json()
    assert not case["back_office"] and case["handover"] is None and not case["printed"]
    assert "未配置打印机" in case["print_message"] and "申请人：张*" in case["print_preview"]
    assert act(client, clerk, case["id"], "accept").json()["status"] == "accepted"
    assert act(client, login(client, "wj1"), case["id"], "approve").status_code == 403


def test_a_village_agent_submits_for_the_citizen_with_the_consent_signed(client: TestClient, clock: Clock) -> None:
    clock.at("2026-10-12 09:30")
    clerk = login(client, "clerk4", "4")
    checks = [
        {"idx": 0, "status": "provided", "original_seen": True},
        {"idx": 1, "status": "provided"},
        {"idx": 2, "status": "deferred", "promise_signed": True},
    ]
    body = {"item": "hygiene-permit", "id_card": SAMPLE_CARD, "window": "4", "materials": checks}
    agency = {"point": "白兔镇解塘村便民服务站", "agent_name": "李四", "consent_signed": False}
    unsigned = client.post(f"{BASE}/cases/intake", headers=clerk, json={**body, "agency": agency})
    assert unsigned.status_code == 409 and "代办委托书" in unsigned.json()["detail"]
    case = client.post(
        f"{BASE}/cases/intake", headers=clerk, json={**body, "agency": {**agency, "consent_signed": True}}
    )
    assert case.status_code == 201, case.text
    view = case.json()
    assert view["agency"]["point"] == "白兔镇解塘村便民服务站" and view["agency"]["agent"] == "李*"
    assert "李四" not in case.text and any(h["action"] == "agency" for h in view["history"])
    key = view["status_url"].split("k=", 1)[1]
    public = client.get(f"/api/v1/public/halls/demo/cases/{view['id']}?k={key}").json()
    assert public["agency"]["agent"] == "李*"
