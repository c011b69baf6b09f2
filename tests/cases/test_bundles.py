"""一件事 over HTTP, on SQLite and PostgreSQL: 开办餐饮店 received at window 4 on the afternoon before the
National Day holiday — 企业设立登记 (市场监管) and 公共场所卫生许可 (卫健) decided in parallel, 发票领用
(税务) held until the registration is approved — with one form, one receipt, one promise and one
hand-out at the output window; the citizen's page shows each part."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hallq.config import example_config_path, load_hall_config
from hardware.printer.layout import ReceiptSlip, render_receipt
from server.cases.service import CaseService
from tests.cases.conftest import SAMPLE_CARD, Clock
from tests.cases.test_back_office import BASE, CST, act, login

FORM = {"company_name": "句容市华阳美食有限公司", "premises": "华阳镇人民路8号"}


def seen(*idx: int) -> list[dict[str, Any]]:
    return [{"idx": i, "status": "provided", "original_seen": True} for i in idx]


PARTS = [
    {"item": "company-reg", "materials": [*seen(0, 1, 2), {"idx": 3, "status": "deferred", "promise_signed": True}]},
    {"item": "hygiene-permit", "materials": [*seen(0, 1), {"idx": 2, "status": "deferred", "promise_signed": True}]},
    {"item": "invoice-collect", "materials": seen(0, 1)},
]
BODY = {"bundle": "restaurant-open", "id_card": SAMPLE_CARD, "phone": "13812345678", "window": "4", "form": FORM}


def part(bundle: dict[str, Any], item: str) -> dict[str, Any]:
    return next(p for p in bundle["parts"] if p["item"] == item)


def hand_paper_over(client: TestClient, clerk: dict[str, str], staff: dict[str, dict[str, str]]) -> None:
    for department, who in staff.items():
        sheet = client.post(
            f"{BASE}/handovers", headers=clerk, json={"kind": "materials", "department": department, "window": "4"}
        )
        assert sheet.status_code == 201, sheet.text
        assert client.post(f"{BASE}/handovers/{sheet.json()['id']}/sign", headers=who).status_code == 200


def send_results(client: TestClient, who: dict[str, str], department: str, case_id: str) -> None:
    body = {"kind": "results", "department": department, "cases": [case_id]}
    assert client.post(f"{BASE}/handovers", headers=who, json=body).status_code == 201


def test_a_bundle_with_two_parallel_parts_and_one_after_them_across_the_holiday(
    client: TestClient, clock: Clock, printers: dict[str, Path]
) -> None:
    clock.at("2026-09-30 14:10")
    clerk = login(client, "clerk4", "4")
    incomplete = client.post(f"{BASE}/bundles", headers=clerk, json={**BODY, "form": {}, "parts": PARTS[:2]})
    assert incomplete.status_code == 409
    assert "「企业名称」未填写" in incomplete.json()["detail"] and "发票领用：" in incomplete.json()["detail"]
    assert client.get(f"{BASE}/cases", headers=login(client, "supervisor")).json()["cases"] == []  # nothing kept

    reply = client.post(f"{BASE}/bundles", headers=clerk, json={**BODY, "parts": PARTS})
    assert reply.status_code == 201, reply.text
    bundle = reply.json()
    assert bundle["receipt_no"] == "YJ202609300001" and bundle["promised_due"] == "2026-10-22"
    assert [(p["item"], p["status"], p["after"]) for p in bundle["parts"]] == [
        ("company-reg", "received", []),
        ("hygiene-permit", "received", []),
        ("invoice-collect", "pending", ["企业设立登记"]),
    ]
    assert bundle["form"] == [
        {"label": "企业名称", "value": FORM["company_name"]},
        {"label": "经营场所地址", "value": FORM["premises"]},
    ]
    hall = load_hall_config(example_config_path()).hall
    assert printers["4"].read_bytes() == render_receipt(
        ReceiptSlip(
            hall_name=hall.name,
            receipt_number="YJ202609300001",
            service_item="开办餐饮店（一件事，含3项）",
            applicant="张*",
            received_at=dt.datetime(2026, 9, 30, 14, 10, tzinfo=CST),
            materials_received=[
                "公司登记（备案）申请书",
                "公司章程",
                "股东主体资格证明",
                "卫生许可申请表",
                "营业执照",
                "经办人身份证明",
                "税控设备",
            ],
            materials_missing=["住所使用证明", "卫生检测报告"],
            supplement_by=dt.date(2026, 10, 13),
            promised_by=dt.date(2026, 10, 22),
            status_url=bundle["status_url"],
            contact=hall.phone,
        )
    )

    # after the holiday the paper goes to the three departments; two decide in parallel
    clock.at("2026-10-08 09:40")
    market, health, tax = login(client, "scjg1"), login(client, "wj1"), login(client, "sw1")
    hand_paper_over(client, clerk, {"市场监管": market, "卫健": health, "税务": tax})
    registration, permit, invoice = (
        part(bundle, i)["case_id"] for i in ("company-reg", "hygiene-permit", "invoice-collect")
    )
    clock.at("2026-10-08 11:00")
    assert act(client, market, registration, "accept").status_code == 200
    assert act(client, health, permit, "accept").status_code == 200
    waiting = act(client, tax, invoice, "accept")
    assert waiting.status_code == 409 and "等待前置事项办结" in waiting.json()["detail"]
    assert act(client, health, registration, "approve").status_code == 403  # not 卫健's
    released = act(client, market, registration, "approve")
    assert released.status_code == 200
    invoice_case = client.get(f"{BASE}/cases/{invoice}", headers=tax).json()
    assert invoice_case["status"] == "received" and invoice_case["deadlines"]["accept_due"] == "2026-10-10"
    assert (
        invoice_case["history"][-1]["actor"] == "system:bundle"
        and "前置事项「企业设立登记」已准予" in invoice_case["history"][-1]["note"]
    )
    assert act(client, tax, invoice, "accept").status_code == 200
    assert act(client, tax, invoice, "approve").status_code == 200

    # one hand-out: refused while the permit is still being decided, then every part at once
    output = login(client, "clerk12", "12")
    send_results(client, market, "市场监管", registration)
    send_results(client, tax, "税务", invoice)
    early = client.post(f"{BASE}/bundles/{bundle['id']}/actions/ready", headers=output, json={})
    assert early.status_code == 409 and "公共场所卫生许可（已受理，审批中）" in early.json()["detail"]
    clock.at("2026-10-12 10:00")
    assert act(client, health, permit, "approve").status_code == 200
    send_results(client, health, "卫健", permit)
    one_by_one = act(client, output, permit, "ready")
    assert one_by_one.status_code == 409 and "一次出件" in one_by_one.json()["detail"]
    ready = client.post(f"{BASE}/bundles/{bundle['id']}/actions/ready", headers=output, json={})
    assert ready.status_code == 200, ready.text
    assert {p["status"] for p in ready.json()["parts"]} == {"ready"}
    assert ready.json()["status_label"] == "已办结，请到综合出件窗口领取"

    public = client.get(f"/api/v1/public/halls/demo/bundles/{bundle['id']}?k=wrong")
    assert public.status_code == 404
    key = bundle["status_url"].split("k=", 1)[1]
    public = client.get(f"/api/v1/public/halls/demo/bundles/{bundle['id']}?k={key}").json()
    assert [(p["department"], p["status_label"]) for p in public["parts"]] == [
        ("市场监管", "可领取"),
        ("卫健", "可领取"),
        ("税务", "可领取"),
    ]
    assert "form" not in public and all("case_id" not in p or p["case_id"] is None for p in public["parts"])
    assert public["masked_name"] == "张*" and "张三" not in str(public)
    delivered = client.post(f"{BASE}/bundles/{bundle['id']}/actions/deliver", headers=output, json={}).json()
    assert delivered["status_label"] == "已送达"


def test_a_refused_first_part_ends_the_part_that_waited_for_it(client: TestClient, clock: Clock) -> None:
    clock.at("2026-10-12 09:00")
    clerk = login(client, "clerk4", "4")
    bundle = client.post(f"{BASE}/bundles", headers=clerk, json={**BODY, "parts": PARTS}).json()
    market = login(client, "scjg1")
    hand_paper_over(client, clerk, {"市场监管": market})
    registration = part(bundle, "company-reg")["case_id"]
    act(client, market, registration, "accept")
    assert act(client, market, registration, "reject", note="名称与已登记企业重名").status_code == 200
    view = client.get(f"{BASE}/bundles/{bundle['id']}", headers=clerk).json()
    assert part(view, "invoice-collect")["status"] == "abandoned"
    assert part(view, "hygiene-permit")["status"] == "received"  # the parallel part goes on


def test_a_bundle_is_received_whole_or_not_at_all(client: TestClient, clock: Clock, monkeypatch: Any) -> None:
    """The dispatcher failing at the third part (its disk full, the database gone) leaves no part behind."""
    clock.at("2026-10-12 09:00")
    real = CaseService._intake_in
    calls: list[str] = []

    def third_fails(self: CaseService, *args: Any, **kwargs: Any) -> tuple[str, str]:
        calls.append(args[1])
        if len(calls) == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CaseService, "_intake_in", third_fails)
    clerk = login(client, "clerk4", "4")
    with pytest.raises(OSError):
        client.post(f"{BASE}/bundles", headers=clerk, json={**BODY, "parts": PARTS})
    assert calls == ["company-reg", "hygiene-permit", "invoice-collect"]
    assert client.get(f"{BASE}/cases", headers=login(client, "supervisor")).json()["cases"] == []
