"""Cases over HTTP against the real app (SQLite): a kiosk submission at night, the office's path, the
citizen's view, and upload attacks refused with clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import build_settings
from tests.cases.conftest import DEMO_DEVICE, PDF, SAMPLE_CARD, jpeg_bytes, submit_realestate_transfer

DEVICE, CARD = DEMO_DEVICE, SAMPLE_CARD
BASE = "/api/v1/halls/demo"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = build_settings(demo=True, database=f"sqlite:///{tmp_path / 'hallq.sqlite3'}", environ={})
    with TestClient(create_app(settings, start_bus=False)) as test_client:
        yield test_client


def login(client: TestClient, username: str = "clerk1", window: str | None = "1") -> dict[str, str]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": "demo", "window": window})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def submit(client: TestClient) -> tuple[str, str]:
    return submit_realestate_transfer(client, BASE)


def test_handbook_lists_the_seven_published_items(client: TestClient) -> None:
    book = client.get(f"{BASE}/handbook").json()
    items = [i for s in book["services"] for i in s["items"]]
    assert len(items) == 17  # every item of shared/data/service-catalogue.yaml
    item = client.get(f"{BASE}/items/realestate-transfer").json()
    assert item["kind"] == "promised" and item["promised_days"] == 5
    assert {m["name"] for m in item["materials"]} >= {"不动产权证书", "完税凭证"}
    assert item["fee"].startswith("登记费") and item["legal_basis"] and item["conditions"]
    assert client.get(f"{BASE}/items/nope").status_code == 404


def test_night_submission_through_the_office_to_the_citizen(client: TestClient) -> None:
    case_id, key = submit(client)
    done = client.post(f"{BASE}/submissions/{case_id}/complete?k={key}", headers=DEVICE)
    assert done.status_code == 200, done.text
    receipt = done.json()
    assert receipt["receipt_no"].startswith("SJ") and receipt["status"] == "received"
    assert receipt["status_url"].endswith(f"/c/demo/{case_id}?k={key}")
    assert "张三" not in done.text and "321183195003120011" not in done.text

    clerk = login(client)
    inbox = client.get(f"{BASE}/cases?status=received", headers=clerk).json()["cases"]
    assert [c["id"] for c in inbox] == [case_id]
    full = client.get(f"{BASE}/cases/{case_id}", headers=clerk).json()
    assert full["phone"] == "13812345678"  # staff see the contact number; devices and citizens do not
    file_sha = full["materials"][0]["files"][0]["sha256"]
    got = client.get(f"{BASE}/cases/{case_id}/files/{file_sha}", headers=clerk)
    assert got.status_code == 200 and got.content == PDF
    corrected = client.post(
        f"{BASE}/cases/{case_id}/actions/correct", headers=clerk, json={"materials": [2], "note": "证书页不清晰"}
    )
    assert corrected.json()["status"] == "correction"
    public = client.get(f"/api/v1/public/halls/demo/cases/{case_id}?k={key}").json()
    assert public["correction"]["materials"] == ["不动产权证书"] and public["masked_name"] == "张*"
    assert "phone" not in public
    client.put(f"{BASE}/submissions/{case_id}/materials/2?k={key}", headers=DEVICE, content=jpeg_bytes())
    assert client.post(f"{BASE}/submissions/{case_id}/resubmit?k={key}", headers=DEVICE).json()["status"] == "received"
    for action, body in (
        ("accept", {}),
        ("approve", {}),
        ("ready", {}),
        ("deliver", {"note": "本人领取"}),
        ("archive", {}),
    ):
        reply = client.post(f"{BASE}/cases/{case_id}/actions/{action}", headers=clerk, json=body)
        assert reply.status_code == 200, reply.text
    assert client.get(f"/api/v1/public/halls/demo/cases/{case_id}?k={key}").json()["status"] == "archived"


def test_refusals_are_clear_4xx(client: TestClient) -> None:
    case_id, key = submit(client)
    clerk = login(client)
    illegal = client.post(f"{BASE}/cases/{case_id}/actions/approve", headers=clerk, json={})
    assert illegal.status_code == 409 and "不能" in illegal.json()["detail"]
    assert client.post(f"{BASE}/cases/{case_id}/actions/fly", headers=clerk, json={}).status_code == 422
    assert client.get(f"{BASE}/cases", headers=DEVICE).status_code == 403  # a kiosk cannot read the office
    assert client.get(f"{BASE}/cases").status_code == 401
    assert client.get(f"/api/v1/public/halls/demo/cases/{case_id}?k=wrong").status_code == 404
    assert client.post(f"{BASE}/submissions", headers=DEVICE, json={"item": "x"}).status_code == 422
    no_key = client.put(f"{BASE}/submissions/{case_id}/materials/0", headers=DEVICE, content=PDF)
    assert no_key.status_code == 404


@pytest.mark.parametrize(
    "path, body, status, words",
    [
        ("materials/0", b"MZ\x90\x00not a document", 415, "JPG"),
        ("materials/0", b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024 + 1), 413, "过大"),
        ("materials/99", PDF, 404, "材料"),
        ("materials/..%2F..%2Fetc%2Fpasswd", PDF, 404, ""),  # no such route: nothing written
        ("materials/-1", PDF, 404, "材料"),
    ],
)
def test_upload_attacks(client: TestClient, tmp_path: Path, path: str, body: bytes, status: int, words: str) -> None:
    reply = client.post(f"{BASE}/submissions", headers=DEVICE, json={"item": "realestate-transfer", "id_card": CARD})
    case_id, key = reply.json()["id"], reply.json()["access"]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    answer = client.put(
        f"{BASE}/submissions/{case_id}/{path}?k={key}",
        content=body,
        headers={**DEVICE, "Content-Type": "application/pdf"},
    )
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]
    after = sorted(p.name for p in tmp_path.rglob("*") if not p.name.startswith("hallq.sqlite3"))
    assert [n for n in after if n not in before and n != "tmp"] == []
