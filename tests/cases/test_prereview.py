"""网上预审 over HTTP, on SQLite and PostgreSQL: the phone sends a 公共场所卫生许可's materials, 卫健 asks for
one to be fixed, the phone sends it again, 卫健 passes it (another department may not), and the window
receives the paper of the pre-reviewed case in one visit, its QR opening the case."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cases.conftest import PDF, SAMPLE_CARD, Clock
from tests.cases.test_back_office import BASE, act, login

PUBLIC = "/api/v1/public/halls/demo"


def test_a_pre_reviewed_case_is_received_at_the_window_in_one_visit(client: TestClient, clock: Clock) -> None:
    clock.at("2026-10-08 09:00")
    person = {"id_number": SAMPLE_CARD["id_number"], "name": SAMPLE_CARD["name"], "phone": "13812345678"}
    started = client.post(f"{PUBLIC}/prereviews", json={"item": "hygiene-permit", **person})
    assert started.status_code == 201, started.text
    case_id, key = started.json()["id"], started.json()["access"]
    assert client.post(f"{PUBLIC}/prereviews/{case_id}/submit?k={key}").status_code == 409  # nothing sent yet
    for idx in range(3):
        assert client.put(f"{PUBLIC}/prereviews/{case_id}/materials/{idx}?k=wrong", content=PDF).status_code == 404
        assert client.put(f"{PUBLIC}/prereviews/{case_id}/materials/{idx}?k={key}", content=PDF).status_code == 200
    sent = client.post(f"{PUBLIC}/prereviews/{case_id}/submit?k={key}").json()
    assert sent["status"] == "prereview" and sent["deadlines"]["prereview_due"] == "2026-10-10"

    # 卫健 asks for the licence copy again; another department may not review it
    health, market = login(client, "wj1"), login(client, "scjg1")
    assert act(client, market, case_id, "pass_prereview").status_code == 403
    fix = act(client, health, case_id, "fix_prereview", note="营业执照复印件不清晰", materials=[1]).json()
    assert fix["status"] == "prereview_fix"
    public = client.get(f"{PUBLIC}/cases/{case_id}?k={key}").json()
    assert public["correction"]["materials"] == ["营业执照"] and public["status_label"] == "预审需补正材料"
    clock.at("2026-10-12 09:00")
    assert client.put(f"{PUBLIC}/prereviews/{case_id}/materials/1?k={key}", content=PDF).status_code == 200
    again = client.post(f"{PUBLIC}/prereviews/{case_id}/submit?k={key}").json()
    assert again["deadlines"]["prereview_due"] == "2026-10-14"
    clock.at("2026-10-15 09:00")
    late = client.get(f"{BASE}/cases?flag=overdue", headers=health).json()["cases"]
    assert [(c["id"], c["overdue"]) for c in late] == [(case_id, ["prereview"])]
    passed = act(client, health, case_id, "pass_prereview").json()
    assert passed["status"] == "prereviewed" and passed["prereview_rounds"] == 2

    # the citizen brings the paper: the window opens the case by its QR and sees the originals
    clerk = login(client, "clerk4", "4")
    checks = [
        {"idx": 0, "status": "provided", "original_seen": True},
        {"idx": 1, "status": "provided"},
        {"idx": 2, "status": "provided", "original_seen": True},
    ]
    unseen = client.post(
        f"{BASE}/cases/{case_id}/receive", headers=clerk, json={"window": "4", "materials": checks[:2]}
    )
    assert unseen.status_code == 409 and "「卫生检测报告」未收" in unseen.json()["detail"]
    received = client.post(f"{BASE}/cases/{case_id}/receive", headers=clerk, json={"window": "4", "materials": checks})
    assert received.status_code == 200, received.text
    case = received.json()
    assert case["status"] == "received" and case["receipt_no"].startswith("SJ20261015") and case["printed"]
    assert case["received_window"] == "4" and case["deadlines"]["accept_due"] == "2026-10-19"
    twice = client.post(f"{BASE}/cases/{case_id}/receive", headers=clerk, json={"window": "4", "materials": checks})
    assert twice.status_code == 409
    labels = [h["label"] for h in case["history"]]
    assert labels[:7] == ["开始填写", "提交材料", "提交材料", "提交材料", "网上提交预审", "预审补正告知", "提交材料"]
    numbers = client.get(f"{BASE}/stats/departments?from=2026-10-01&to=2026-10-31", headers=health).json()
    row = numbers["rows"][0]["cases"]
    assert (row["prereviewed"], row["prereviewed_first_time"], row["prereviewed_first_time_pct"]) == (1, 0, 0.0)


def test_a_phone_address_starting_pre_reviews_in_a_loop_is_told_to_wait(client: TestClient, clock: Clock) -> None:
    """A phone has no token: starts are counted per address; past the hour's count a 429 with Retry-After."""
    from server.api.cases import PREREVIEWS_PER_ADDRESS_PER_HOUR

    clock.at("2026-10-08 09:00")
    person = {"id_number": SAMPLE_CARD["id_number"], "name": SAMPLE_CARD["name"], "phone": "13812345678"}
    started = [client.post(f"{PUBLIC}/prereviews", json={"item": "hygiene-permit", **person})
               for _ in range(PREREVIEWS_PER_ADDRESS_PER_HOUR)]  # fmt: skip
    assert {r.status_code for r in started} == {201}
    refused = client.post(f"{PUBLIC}/prereviews", json={"item": "hygiene-permit", **person})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "过于频繁" in refused.json()["detail"]
