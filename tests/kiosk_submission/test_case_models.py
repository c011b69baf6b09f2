"""hallq.case_models against what the REAL dispatcher sends today: every field it sends is a field of
the model (none dropped, none invented) and written back unchanged, so the server can declare them
as its response models without changing a byte of meaning."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from hallq.case_models import (
    CaseReceipt,
    CaseView,
    Handbook,
    HandbookItemAnswer,
    LockerAnswer,
    StoredFile,
    SubmissionStarted,
)
from tests.cases.conftest import DEMO_DEVICE, SAMPLE_CARD, jpeg_bytes, submit_realestate_transfer

BASE = "/api/v1/halls/demo"


def keys_of(value: Any) -> Any:
    """The shape of a JSON value: its keys all the way down (lists by their items)."""
    if isinstance(value, dict):
        return {key: keys_of(item) for key, item in value.items()}
    if isinstance(value, list):
        return [keys_of(item) for item in value]
    return None


def assert_same_shape(model: type[BaseModel], raw: Any) -> BaseModel:
    """Parsed and written back, the answer is what the dispatcher sent: the same fields, the same values."""
    parsed = model.model_validate(raw)
    written = parsed.model_dump(mode="json", by_alias=True)
    assert keys_of(written) == keys_of(raw)
    assert written == raw
    return parsed


def ok(reply: httpx.Response) -> Any:
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


def test_handbook_and_item_answers_match_the_models(dispatcher: Any) -> None:
    with httpx.Client(base_url=dispatcher.url, timeout=15) as client:
        book = assert_same_shape(Handbook, ok(client.get(f"{BASE}/handbook")))
        item = assert_same_shape(HandbookItemAnswer, ok(client.get(f"{BASE}/items/realestate-transfer")))
    assert isinstance(book, Handbook) and any(i.code == "realestate-transfer" for s in book.services for i in s.items)
    assert isinstance(item, HandbookItemAnswer) and item.kind == "promised" and item.service.code


def test_submission_answers_match_the_models_from_start_to_receipt(dispatcher: Any) -> None:
    with httpx.Client(base_url=dispatcher.url, timeout=15, headers=DEMO_DEVICE) as client:
        body = {"item": "realestate-transfer", "id_card": SAMPLE_CARD, "phone": "13812345678"}
        started = assert_same_shape(SubmissionStarted, ok(client.post(f"{BASE}/submissions", json=body)))
        assert isinstance(started, SubmissionStarted) and started.status == "draft"
        path = f"{BASE}/submissions/{started.id}"
        upload = client.put(f"{path}/materials/0?k={started.access}", content=jpeg_bytes())
        assert_same_shape(StoredFile, ok(upload))
        locker = client.post(f"{path}/locker?k={started.access}", json={"slot": "3"})
        assert_same_shape(LockerAnswer, ok(locker))
        client.delete(f"{path}?k={started.access}")

        case_id, key = submit_realestate_transfer(client)
        path = f"{BASE}/submissions/{case_id}"
        draft = assert_same_shape(CaseView, ok(client.get(f"{path}?k={key}")))
        receipt = assert_same_shape(CaseReceipt, ok(client.post(f"{path}/complete?k={key}")))
    assert isinstance(draft, CaseView) and draft.history and draft.times.created_at is not None
    assert isinstance(receipt, CaseReceipt) and receipt.receipt_no and receipt.status == "received"
    assert receipt.times.received_at is not None and receipt.times.received_at.utcoffset() is not None
    assert receipt.deadlines.accept_due is not None and receipt.status_url.startswith("http")
    assert [m.status for m in receipt.materials].count("deferred") == 1
    assert "张三" not in receipt.model_dump_json() and SAMPLE_CARD["id_number"] not in receipt.model_dump_json()
