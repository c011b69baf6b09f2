"""转报 in process, fast: the hub's store-and-forward contract (each key once, only the destination
lists and acknowledges it, unknown halls refused) and the halls' side (a transfer applied twice
changes the case once; each step at the deciding hall sends news once; a forwarded case cannot be
forwarded on). The real processes, with the hub killed on the way, are in test_forwarding.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hallq.catalogue import Catalogue, CatalogueHall
from hallq.config import example_config_path, load_hall_config
from hallq.forward_models import InboundTransfer, Transfer
from server.cases.service import Actor, CaseError, CaseService
from server.cases.uploads import FileStore
from server.cases.workflow import CaseAction
from server.network import forwarding
from server.store import Store
from tests.cases.test_service import submit
from tests.network.inprocess import hub_client, in_loop
from tests.network.test_hub_api import CITY_TOKEN, TOWN_TOKEN, bearer, register

AT = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
CLERK = Actor("user:clerk1", "clerk")


def transfer(key: str = "town.c1.case", to_hall: str = "city") -> dict[str, Any]:
    news = {"hall_name": "市中心", "status": "accepted", "status_label": "已受理，审批中", "at": AT.isoformat()}
    return {"key": key, "to_hall": to_hall, "kind": "news", "case_id": "c1", "news": news}


@in_loop
async def test_the_hub_keeps_each_transfer_once_for_its_destination_only(hub_database: str) -> None:
    register(hub_database)
    async with hub_client(hub_database) as hub:
        url = "/hub/halls/town/transfers"
        first = await hub.post(url, json=transfer(), headers=bearer(TOWN_TOKEN))
        assert first.status_code == 201 and first.json() == {"key": "town.c1.case", "stored": True}
        again = await hub.post(url, json=transfer(), headers=bearer(TOWN_TOKEN))  # the answer was lost
        assert again.status_code == 200 and again.json()["stored"] is False
        assert (await hub.post(url, json=transfer(), headers=bearer(CITY_TOKEN))).status_code == 403
        unknown = await hub.post(url, json=transfer("town.c2.case", "nowhere"), headers=bearer(TOWN_TOKEN))
        assert unknown.status_code == 422 and "nowhere" in unknown.json()["detail"]
        itself = await hub.post(url, json=transfer("town.c3.case", "town"), headers=bearer(TOWN_TOKEN))
        assert itself.status_code == 422
        mismatched = {**transfer("town.c4.case"), "kind": "case"}
        assert (await hub.post(url, json=mismatched, headers=bearer(TOWN_TOKEN))).status_code == 422

        assert (await hub.get("/hub/halls/town/transfers", headers=bearer(TOWN_TOKEN))).json() == {"transfers": []}
        waiting = (await hub.get("/hub/halls/city/transfers", headers=bearer(CITY_TOKEN))).json()["transfers"]
        assert [(t["key"], t["from_hall"]) for t in waiting] == [("town.c1.case", "town")]
        assert waiting[0]["news"]["status"] == "accepted"
        ack = "/hub/halls/city/transfers/town.c1.case/ack"
        assert (await hub.post(ack.replace("city", "town", 1), headers=bearer(TOWN_TOKEN))).status_code == 404
        assert (await hub.post(ack, headers=bearer(CITY_TOKEN))).status_code == 204
        assert (await hub.post(ack, headers=bearer(CITY_TOKEN))).status_code == 204  # a lost 204, sent again
        assert (await hub.get("/hub/halls/city/transfers", headers=bearer(CITY_TOKEN))).json() == {"transfers": []}


@in_loop
async def test_the_catalogue_answers_304_to_its_own_etag(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    register(database)
    async with hub_client(database) as hub:
        empty = await hub.get("/hub/catalogue")
        assert empty.status_code == 200 and empty.json()["items"] == []
        assert [h["hall"] for h in empty.json()["halls"]] == ["city", "town"]
        tag = empty.headers["etag"]
        assert (await hub.get("/hub/catalogue", headers={"If-None-Match": tag})).status_code == 304
        assert (await hub.get("/hub/catalogue", headers={"If-None-Match": '"other"'})).status_code == 200


def _hall(tmp_path: Path, hall: str) -> CaseService:
    store = Store(f"sqlite:///{tmp_path / (hall + '.sqlite3')}")
    store.migrate()
    base = load_hall_config(example_config_path())
    config = base.model_copy(update={"hall": base.hall.model_copy(update={"id": hall, "name": f"{hall}大厅"})})
    cases = CaseService(store.engine, config, FileStore(tmp_path / hall / "files"), b"k" * 32)
    cases.on_transition.append(forwarding.news_hook(cases))
    return cases


def _outbox(cases: CaseService) -> list[Transfer]:
    with cases.engine.connect() as conn:
        return [t for _id, t in forwarding.unsent(conn, cases.hall)]


def _arrive(sent: Transfer, from_hall: str) -> InboundTransfer:
    return InboundTransfer(**sent.model_dump(), from_hall=from_hall)


def test_each_transfer_changes_a_case_once_and_each_step_sends_news_once(tmp_path: Path) -> None:
    town, city = _hall(tmp_path, "town"), _hall(tmp_path, "city")
    case_id = submit(town, AT)
    town.complete(case_id, CLERK, AT)
    catalogue = Catalogue(halls=[CatalogueHall(hall="city", name="市中心", kind="center")])
    try:
        forwarding.forward(town, case_id, "nowhere", CLERK, AT, catalogue)
    except CaseError as refused:
        assert "nowhere" in str(refused)
    else:
        raise AssertionError("a hall the hub does not know was accepted")
    view = forwarding.forward(town, case_id, "city", CLERK, AT, catalogue)
    assert view["status"] == "forwarded"
    (sent,) = _outbox(town)
    assert sent.case is not None and sent.case.masked_name.endswith("*") and "*" in sent.case.masked_id

    arrived = _arrive(sent, "town")
    assert forwarding.take_in(city, arrived, AT) is True
    assert forwarding.take_in(city, arrived, AT) is False  # fetched again after a lost acknowledgement
    there = city.view(case_id, AT, staff=True)
    assert there["receipt_no"] == view["receipt_no"] and there["status"] == "received"
    try:
        forwarding.forward(city, case_id, "town", CLERK, AT, None)
    except CaseError as refused:
        assert "不能再转报" in str(refused)
    else:
        raise AssertionError("a forwarded case was forwarded on")

    city.act(case_id, CaseAction.accept, CLERK, AT)
    city.act(case_id, CaseAction.approve, CLERK, AT, note="准予登记")
    news = _outbox(city)
    assert [(n.news.status, n.news.decision) for n in news if n.news] == [("accepted", None), ("approved", "approved")]
    for item in news:
        assert forwarding.take_news(town, _arrive(item, "city"), AT) is True
        assert forwarding.take_news(town, _arrive(item, "city"), AT) is False
    home = town.view(case_id, AT, staff=True)
    assert home["status"] == "approved" and home["decision_note"] == "准予登记"
    assert [h["action"] for h in home["history"]].count("remote_approve") == 1
    assert forwarding.elsewhere(town, case_id) == {
        "hall": "city", "hall_name": "市中心", "at": news[-1].news.at if news[-1].news else None,
        "status": "approved", "status_label": "已准予，待出件",
    }  # fmt: skip
    # the city's own first case of the day has the same number as the town's: each hall numbers its own
    own = submit(city, AT)
    assert city.complete(own, CLERK, AT)["receipt_no"] == view["receipt_no"] == "SJ202612070001"
    assert city.find_by_receipt("SJ202612070001") == own
