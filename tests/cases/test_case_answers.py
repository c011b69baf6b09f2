"""The office's and the citizen's case answers are their models (hallq.case_models), and the models
drop nothing: every field the case service builds reaches the office and the phone page, keys and
values, after the route's response model has written it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hallq.case_models import CaseList, CaseView, PublicCase
from server.app import create_app
from server.settings import build_settings
from tests.cases.conftest import DEMO_DEVICE, submit_realestate_transfer
from tests.kiosk_submission.test_case_models import keys_of

BASE = "/api/v1/halls/demo"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = build_settings(demo=True, database=f"sqlite:///{tmp_path / 'hallq.sqlite3'}", environ={})
    with TestClient(create_app(settings, start_bus=False)) as test_client:
        yield test_client


def as_json(value: Any) -> Any:
    """What the service built, as JSON (times as ISO text, as the answers write them)."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat(), ensure_ascii=False))


def same_times(answer: Any, built: Any) -> Any:
    """The built value with each time written as the answer writes it (the same moment)."""
    if isinstance(built, dict):
        return {k: same_times(answer.get(k) if isinstance(answer, dict) else None, v) for k, v in built.items()}
    if isinstance(built, list):
        return [same_times(a, b) for a, b in zip(answer or [None] * len(built), built, strict=False)]
    if isinstance(built, str) and isinstance(answer, str) and built != answer:
        try:
            if dt.datetime.fromisoformat(built) == dt.datetime.fromisoformat(answer):
                return answer
        except ValueError:
            pass
    return built


def assert_nothing_dropped(answer: Any, built: Any) -> None:
    expected = same_times(answer, as_json(built))
    assert keys_of(answer) == keys_of(expected)
    assert answer == expected


def test_office_and_public_case_answers_carry_every_field(client: TestClient) -> None:
    case_id, key = submit_realestate_transfer(client, BASE)
    assert client.post(f"{BASE}/submissions/{case_id}/complete?k={key}", headers=DEMO_DEVICE).status_code == 200
    login = client.post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo", "window": "1"})
    clerk = {"Authorization": f"Bearer {login.json()['access_token']}"}
    service = client.app.state.case_services["demo"]  # type: ignore[attr-defined]
    now = dt.datetime.now(dt.UTC)

    listed = client.get(f"{BASE}/cases", headers=clerk).json()
    CaseList.model_validate(listed)
    built_list = {"cases": service.list_cases(now), "unknown_calendar_years": sorted(service.calendar.unknown_years)}
    assert_nothing_dropped(listed, built_list)

    full = client.get(f"{BASE}/cases/{case_id}", headers=clerk).json()
    CaseView.model_validate(full)
    assert_nothing_dropped(full, service.view(case_id, now, staff=True))
    assert full["phone"] == "13812345678" and full["history"][0]["from"] is None

    public = client.get(f"/api/v1/public/halls/demo/cases/{case_id}?k={key}").json()
    PublicCase.model_validate(public)
    assert_nothing_dropped(public, service.public_view(case_id, now))
    assert "phone" not in public and "masked_id" not in public
