"""转报 with real processes: a village point forwards a received case to the city centre through a
real hub on PostgreSQL; the hub is killed on the way there and on the way back; the centre decides
and the result comes back. Every transfer arrives once, the receipt number is kept, the history
shows both halls, the citizen's page follows the case, and no full personal data reaches the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hallq.config import example_config_path
from server.store import Store
from tests.cases.conftest import DEMO_DEVICE, SAMPLE_CARD, submit_realestate_transfer
from tests.network.forward_support import by_code, import_catalogue
from tests.network.halls import CityHall, wait_until
from tests.support.hub import Hub, start_hub

pytestmark = pytest.mark.pg


def _staff(hall: CityHall) -> dict[str, str]:
    return {"Authorization": f"Bearer {hall.d.login('supervisor')}"}


def _received_case(hall: CityHall) -> tuple[str, str, str]:
    """A citizen's 不动产转移登记 taken at the hall's kiosk: (case id, access key, receipt number)."""
    with httpx.Client(base_url=hall.d.url, timeout=30) as client:
        case_id, key = submit_realestate_transfer(client, f"/api/v1/halls/{hall.hall}")
        done = client.post(f"/api/v1/halls/{hall.hall}/submissions/{case_id}/complete?k={key}", headers=DEMO_DEVICE)
        assert done.status_code == 200, done.text
        return case_id, key, str(done.json()["receipt_no"])


def _forward(hall: CityHall, case_id: str, to_hall: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{hall.d.api}/halls/{hall.hall}/cases/{case_id}/forward", json={"to_hall": to_hall},
                      headers=headers, timeout=30)  # fmt: skip


def _case(hall: CityHall, case_id: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = httpx.get(f"{hall.d.api}/halls/{hall.hall}/cases/{case_id}", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    case: dict[str, Any] = answer.json()
    return case


def _public(hall: CityHall, case_id: str, key: str) -> dict[str, Any]:
    answer = httpx.get(f"{hall.d.api}/public/halls/{hall.hall}/cases/{case_id}", params={"k": key}, timeout=30)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def _act(hall: CityHall, case_id: str, action: str, headers: dict[str, str], **body: Any) -> None:
    answer = httpx.post(f"{hall.d.api}/halls/{hall.hall}/cases/{case_id}/actions/{action}", json=body,
                        headers=headers, timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text


def _cases_at(hall: CityHall, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(f"{hall.d.api}/halls/{hall.hall}/cases", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["cases"]
    return found


def _hub_transfers(hub: Hub) -> list[dict[str, Any]]:
    from server.network.forward_tables import hub_transfers

    store = Store(hub.database)
    try:
        with store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(hub_transfers).order_by(hub_transfers.c.id)).mappings()]
    finally:
        store.close()


def _city(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Hub, CityHall, CityHall]:
    monkeypatch.setenv("HALLQ_FORWARD_POLL_S", "0.3")
    hub = start_hub(tmp_path, pg_url)
    center = CityHall(tmp_path, "jurong", name="句容市政务服务中心", kind="center", parent=None, database=None)
    village = CityHall(tmp_path, "dongxiang", name="东乡村代办点", kind="village", parent="jurong", database=None)
    tokens = {
        "jurong": hub.add_hall("jurong", name=center.name, kind="center"),
        "dongxiang": hub.add_hall("dongxiang", name=village.name, kind="village", parent="jurong"),
    }
    assert import_catalogue(hub, example_config_path()).returncode == 0
    for hall in (center, village):
        by_code(hall.config_path)
        hall.start(hub.url, tokens[hall.hall])
    return hub, center, village


def test_a_forwarded_case_goes_to_the_deciding_hall_and_its_result_comes_back_once(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, center, village = _city(tmp_path, pg_url, monkeypatch)
    try:
        _round_trip(hub, center, village)
    finally:
        for hall in (village, center):
            if hall.dispatcher is not None:
                hall.d.terminate()
        hub.stop()


def _round_trip(hub: Hub, center: CityHall, village: CityHall) -> None:
    at_village, at_center = _staff(village), _staff(center)
    case_id, key, receipt = _received_case(village)
    targets = httpx.get(f"{village.d.api}/halls/dongxiang/forward-targets", headers=at_village, timeout=30)
    assert targets.json() == [{"hall": "jurong", "name": "句容市政务服务中心", "kind": "center"}]

    # the hub is down: the village forwards anyway, the transfer waits in its outbox
    hub.kill()
    forwarded = _forward(village, case_id, "jurong", at_village)
    assert forwarded.status_code == 200, forwarded.text
    assert forwarded.json()["status"] == "forwarded"
    again = _forward(village, case_id, "jurong", at_village)
    assert again.status_code == 409 and "已转报" in again.json()["detail"]
    page = _public(village, case_id, key)
    assert page["status"] == "forwarded" and page["elsewhere"]["hall"] == "jurong"
    assert page["elsewhere"]["hall_name"] == "句容市政务服务中心" and page["elsewhere"]["status"] is None

    hub.start()
    wait_until(lambda: any(c["receipt_no"] == receipt for c in _cases_at(center, at_center)), "the case at the centre")
    there = _case(center, case_id, at_center)
    assert there["receipt_no"] == receipt and there["status"] == "received" and there["channel"] == "forward"
    assert there["masked_name"] == "张*" and there["phone"] == "138****5678"
    actors = [h["actor"] for h in there["history"]]
    assert any(a.startswith("dongxiang/") for a in actors)  # the village's steps, under its name
    assert there["history"][-1]["action"] == "forward_in" and "东乡村代办点" in there["history"][-1]["note"]
    assert [m["status"] for m in there["materials"]][-1] == "deferred"

    # the centre decides; the hub is away while the decision is made
    _act(center, case_id, "accept", at_center)
    wait_until(lambda: _public(village, case_id, key)["elsewhere"]["status"] == "accepted", "the 受理 news")
    hub.kill()
    _act(center, case_id, "approve", at_center, note="准予登记")
    hub.start()
    wait_until(lambda: _case(village, case_id, at_village)["status"] == "approved", "the result at the village")

    home = _case(village, case_id, at_village)
    assert home["decision_note"] == "准予登记" and home["receipt_no"] == receipt
    steps = [h["action"] for h in home["history"]]
    assert steps.count("forward") == 1 and steps.count("remote_update") == 1 and steps.count("remote_approve") == 1
    page = _public(village, case_id, key)
    assert page["status"] == "approved" and page["elsewhere"]["status"] == "approved"
    assert any("句容市政务服务中心" in h["label"] or "异地" in h["label"] for h in page["history"])

    # the village hands the result out as for any case
    _act(village, case_id, "ready", at_village)
    _act(village, case_id, "deliver", at_village)

    # each transfer once at the hub, each taken; the centre holds the case once; nothing personal in clear
    transfers = _hub_transfers(hub)
    assert [(t["kind"], t["from_hall"], t["to_hall"]) for t in transfers] == [
        ("case", "dongxiang", "jurong"), ("news", "jurong", "dongxiang"), ("news", "jurong", "dongxiang")
    ]  # fmt: skip
    wait_until(lambda: all(t["delivered_at"] is not None for t in _hub_transfers(hub)), "every transfer taken")
    assert [c["receipt_no"] for c in _cases_at(center, at_center)].count(receipt) == 1
    shipped = str([t["payload"] for t in transfers])
    for secret in (SAMPLE_CARD["id_number"], SAMPLE_CARD["name"], "13812345678"):
        assert secret not in shipped


def test_forwarding_is_refused_with_a_sentence(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, center, village = _city(tmp_path, pg_url, monkeypatch)
    try:
        at_village = _staff(village)
        case_id, _key, _receipt = _received_case(village)
        unknown = _forward(village, case_id, "nowhere", at_village)
        assert unknown.status_code == 422 and "nowhere" in unknown.json()["detail"]
        itself = _forward(village, case_id, "dongxiang", at_village)
        assert itself.status_code == 422 and "本大厅" in itself.json()["detail"]
        kiosk = _forward(village, case_id, "jurong", DEMO_DEVICE)
        assert kiosk.status_code == 403
        _act(village, case_id, "accept", at_village)  # accepted here: decided here, no longer forwardable
        accepted = _forward(village, case_id, "jurong", at_village)
        assert accepted.status_code == 409 and "已受理" in accepted.json()["detail"]
        with httpx.Client(base_url=village.d.url, timeout=30) as client:
            draft_id, _ = submit_realestate_transfer(client, "/api/v1/halls/dongxiang")
        draft = _forward(village, draft_id, "jurong", at_village)
        assert draft.status_code == 409 and "填写中" in draft.json()["detail"]
        assert _hub_transfers(hub) == []  # nothing refused ever left the hall
    finally:
        for hall in (village, center):
            if hall.dispatcher is not None:
                hall.d.terminate()
        hub.stop()
