"""Cases in the store: the whole path, corrections, rejection, post, deadlines, uploads, crash safety."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from server.cases.service import Actor, CaseError, CaseNotFound, CaseService
from server.cases.uploads import UploadRejected
from server.cases.workflow import CaseAction, IllegalCaseAction
from tests.cases.conftest import PDF, jpeg_bytes, png_bytes

SH = ZoneInfo("Asia/Shanghai")
KIOSK = Actor("device:kiosk-24h", "kiosk")
CLERK = Actor("user:clerk1", "clerk")
CARD = {"id_number": "321183195003120011", "name": "张三", "birth": "19500312"}
# 不动产转移登记: 5 materials, the 5th (完税凭证) deferrable; promised in 5 working days.
ITEM = "realestate-transfer"


def at(day: dt.date, hour: int = 23) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=SH)


def submit(cases: CaseService, when: dt.datetime, defer_last: bool = True) -> str:
    view, token = cases.start_submission(ITEM, CARD, "13812345678", KIOSK, when)
    materials = view["materials"]
    for m in materials[:-1]:
        cases.upload(view["id"], m["idx"], PDF, KIOSK, when)
    if defer_last:
        cases.defer(view["id"], materials[-1]["idx"], png_bytes("black"), KIOSK, when)
    else:
        cases.upload(view["id"], materials[-1]["idx"], jpeg_bytes(), KIOSK, when)
    cases.check_access(view["id"], token)
    return str(view["id"])


def test_midnight_submission_to_archive_by_post(cases: CaseService) -> None:
    night = at(dt.date(2026, 9, 30))  # Wednesday 23:30, before the National Day holiday
    case_id = submit(cases, night)
    received = cases.complete(case_id, KIOSK, night)
    assert received["receipt_no"] == "SJ202609300001"
    assert received["status"] == "received"
    assert received["deadlines"]["accept_due"] == "2026-10-09"  # 1-7 October are holidays
    assert received["masked_name"] == "张*" and "张三" not in str(received)
    assert "321183195003120011" not in str(received) and received["phone"] == "138****5678"
    assert cases.complete(case_id, KIOSK, night)["receipt_no"] == "SJ202609300001"  # repeat: same case

    accepted = cases.act(case_id, CaseAction.accept, CLERK, at(dt.date(2026, 10, 8), 9))
    assert accepted["deadlines"]["decide_due"] == "2026-10-14"  # 5 working days, Saturday 10 Oct counts
    approved = cases.act(case_id, CaseAction.approve, CLERK, at(dt.date(2026, 10, 12), 10))
    assert approved["status"] == "approved"
    with pytest.raises(CaseError, match="邮件单号"):
        cases.act(case_id, CaseAction.post, CLERK, at(dt.date(2026, 10, 12), 11), tracking_no="?")
    posted = cases.act(case_id, CaseAction.post, CLERK, at(dt.date(2026, 10, 12), 11), tracking_no="SF1234567890")
    assert posted["status"] == "posted" and posted["tracking_no"] == "SF1234567890"
    cases.act(case_id, CaseAction.deliver, CLERK, at(dt.date(2026, 10, 14), 9), note="送达回执已签收")
    final = cases.act(case_id, CaseAction.archive, CLERK, at(dt.date(2026, 10, 15), 9))
    assert final["status"] == "archived"
    actions = [h["action"] for h in final["history"]]
    assert actions[-6:] == ["complete", "accept", "approve", "post", "deliver", "archive"]
    assert all(h["actor"] and h["at"] for h in final["history"])


def test_correction_answered_at_a_kiosk(cases: CaseService) -> None:
    case_id = submit(cases, at(dt.date(2026, 11, 20), 22), defer_last=False)
    cases.complete(case_id, KIOSK, at(dt.date(2026, 11, 20), 22))
    corrected = cases.act(
        case_id, CaseAction.correct, CLERK, at(dt.date(2026, 11, 23), 9), materials=[3], note="合同缺少买方签字页"
    )
    assert corrected["status"] == "correction"
    assert corrected["correction"]["materials"] == ["存量房买卖合同"]
    public = cases.public_view(case_id, at(dt.date(2026, 11, 23), 10))
    assert public["status_label"] == "需补正材料"
    assert [m["name"] for m in public["materials"] if m["status"] == "missing"] == ["存量房买卖合同"]
    with pytest.raises(CaseError, match="存量房买卖合同"):
        cases.resubmit(case_id, KIOSK, at(dt.date(2026, 11, 23), 18))
    cases.upload(case_id, 3, PDF + b"% signed page\n%%EOF\n", KIOSK, at(dt.date(2026, 11, 23), 18))
    again = cases.resubmit(case_id, KIOSK, at(dt.date(2026, 11, 23), 18))
    assert again["status"] == "received"
    assert again["deadlines"]["accept_due"] == "2026-11-25"  # counted again from the resubmission


def test_rejection_needs_a_reason_and_is_collected_at_the_output_window(cases: CaseService) -> None:
    case_id = submit(cases, at(dt.date(2026, 11, 23), 10))
    cases.complete(case_id, KIOSK, at(dt.date(2026, 11, 23), 10))
    cases.act(case_id, CaseAction.accept, CLERK, at(dt.date(2026, 11, 23), 11))
    with pytest.raises(CaseError, match="理由"):
        cases.act(case_id, CaseAction.reject, CLERK, at(dt.date(2026, 11, 23), 12))
    rejected = cases.act(case_id, CaseAction.reject, CLERK, at(dt.date(2026, 11, 23), 12), note="产权存在查封")
    assert rejected["status_label"] == "不予批准，待出件"
    ready = cases.act(case_id, CaseAction.ready, CLERK, at(dt.date(2026, 11, 24), 9))
    assert cases.public_view(case_id, at(dt.date(2026, 11, 24), 9))["collect"]["where"].endswith("12号窗口")
    assert ready["delivery"] == "window"


def test_illegal_actions_and_incomplete_submissions_are_refused(cases: CaseService) -> None:
    view, _ = cases.start_submission(ITEM, CARD, "", KIOSK, at(dt.date(2026, 11, 23)))
    with pytest.raises(CaseError, match="还缺少材料"):
        cases.complete(view["id"], KIOSK, at(dt.date(2026, 11, 23)))
    with pytest.raises(IllegalCaseAction):
        cases.act(view["id"], CaseAction.accept, CLERK, at(dt.date(2026, 11, 23)))
    with pytest.raises(CaseError, match="不适用容缺"):
        cases.defer(view["id"], 0, png_bytes(), KIOSK, at(dt.date(2026, 11, 23)))
    with pytest.raises(CaseError, match="身份证"):
        cases.start_submission(ITEM, None, "", KIOSK, at(dt.date(2026, 11, 23)))
    with pytest.raises(CaseError, match="手机"):
        cases.start_submission(ITEM, CARD, "12345", KIOSK, at(dt.date(2026, 11, 23)))
    with pytest.raises(CaseNotFound):
        cases.start_submission("no-such-item", CARD, "", KIOSK, at(dt.date(2026, 11, 23)))
    with pytest.raises(CaseNotFound):
        cases.check_access(view["id"], "wrong-token")


@pytest.mark.parametrize(
    "data, why",
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "只接受"),
        (b"", "为空"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 10, "损坏"),
        (b"%PDF-1.4 truncated", "不完整"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 11 * 1024 * 1024, "过大"),
    ],
)
def test_upload_attacks_are_refused_and_change_nothing(cases: CaseService, data: bytes, why: str) -> None:
    view, _ = cases.start_submission(ITEM, CARD, "", KIOSK, at(dt.date(2026, 11, 23)))
    with pytest.raises(UploadRejected, match=why):
        cases.upload(view["id"], 0, data, KIOSK, at(dt.date(2026, 11, 23)))
    after = cases.view(view["id"], at(dt.date(2026, 11, 23)))
    assert after["materials"][0]["status"] == "missing" and after["materials"][0]["files"] == []


def test_files_are_content_addressed_never_named_by_the_client(cases: CaseService) -> None:
    view, _ = cases.start_submission(ITEM, CARD, "", KIOSK, at(dt.date(2026, 11, 23)))
    stored = cases.upload(view["id"], 0, PDF, KIOSK, at(dt.date(2026, 11, 23)))
    path = cases.files.path_of(stored.sha256, stored.mime)
    assert path.read_bytes() == PDF and path.name == f"{stored.sha256}.pdf"
    assert path.resolve().is_relative_to(cases.files.root.resolve())
    with pytest.raises(UploadRejected):
        cases.files.path_of("../../etc/passwd", "application/pdf")


def test_abandoned_drafts_are_swept_with_their_files(cases: CaseService) -> None:
    start = at(dt.date(2026, 11, 20), 23)
    view, _ = cases.start_submission(ITEM, CARD, "", KIOSK, start)
    stored = cases.upload(view["id"], 0, jpeg_bytes("red"), KIOSK, start)
    kept = submit(cases, start)
    cases.complete(kept, KIOSK, start)
    abandoned, removed = cases.sweep(start + dt.timedelta(hours=30))
    assert abandoned == 1 and removed == 1
    assert cases.view(view["id"], start)["status"] == "abandoned"
    assert not cases.files.path_of(stored.sha256, stored.mime).exists()
    assert cases.view(kept, start)["status"] == "received"


def test_instant_item_is_a_case_closed_the_same_day(cases: CaseService) -> None:
    done = cases.instant_case("sbk-replace", CARD, "1", CLERK, at(dt.date(2026, 11, 23), 10))
    assert done["status"] == "archived" and done["channel"] == "window"
    assert done["times"]["archived_at"][:10] == "2026-11-23"
    with pytest.raises(CaseError, match="承诺件"):
        cases.instant_case(ITEM, CARD, "1", CLERK, at(dt.date(2026, 11, 23), 10))


def test_office_lists_overdue_and_due_soon(cases: CaseService) -> None:
    late = submit(cases, at(dt.date(2026, 11, 16), 20))
    cases.complete(late, KIOSK, at(dt.date(2026, 11, 16), 20))  # accept due Wednesday 18 November
    fresh = submit(cases, at(dt.date(2026, 11, 22), 20))
    cases.complete(fresh, KIOSK, at(dt.date(2026, 11, 22), 20))  # Sunday: due Tuesday 24 November
    now = at(dt.date(2026, 11, 23), 9)
    assert [c["id"] for c in cases.list_cases(now, flag="overdue")] == [late]
    assert [c["id"] for c in cases.list_cases(now, flag="due_soon")] == [fresh]  # due tomorrow
    assert [c["id"] for c in cases.list_cases(at(dt.date(2026, 11, 20), 9), flag="due_soon")] == []
    assert {c["id"] for c in cases.list_cases(now, status="received")} == {late, fresh}


def test_the_sweep_runs_at_most_hourly(cases: CaseService) -> None:
    start = at(dt.date(2026, 11, 20), 8)
    old, _ = cases.start_submission(ITEM, CARD, "", KIOSK, start)
    cases.sweep_if_due(start + dt.timedelta(hours=2))  # first request of the day: sweeps, the draft is fresh
    cases.sweep_if_due(start + dt.timedelta(hours=26))  # the draft is stale now, and an hour has passed
    assert cases.view(old["id"], start)["status"] == "abandoned"
    newer, _ = cases.start_submission(ITEM, CARD, "", KIOSK, start)
    cases.sweep_if_due(start + dt.timedelta(hours=26, minutes=30))  # within the hour: no sweep
    assert cases.view(newer["id"], start)["status"] == "draft"
