"""A hand-computed set of one-window cases in November 2026 (no holiday: working days are Monday to
Friday), made through CaseService with explicit times. Items of the example hall: 不动产转移登记
(realestate-transfer, service C, promised 5 working days, its 5th material 可容缺), 户口迁移（迁入）
(hukou-move-in, E, 5 days, 3rd 可容缺), 社会保障卡补换 (sbk-replace, A, 即办件).

Each line's comment gives its deadlines (受理: 2 working days after 收件, counted from the next day;
办结: the promised working days after 受理) and what the statistics of 2026-11-02..11-13 count. The
expected numbers in test_cases.py are worked out from these comments by hand.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from server.cases.service import Actor, CaseService
from server.cases.workflow import CaseAction
from tests.cases.conftest import PDF, png_bytes

SH = ZoneInfo("Asia/Shanghai")
KIOSK = Actor("device:kiosk-24h", "kiosk")
CLERK = Actor("user:clerk1", "clerk")
CARD = {"id_number": "321183195003120011", "name": "张三", "birth": "19500312"}


def at(month: int, day: int, clock: str = "10:00") -> dt.datetime:
    return dt.datetime.combine(dt.date(2026, month, day), dt.time.fromisoformat(clock), SH)


def received(cases: CaseService, item: str, when: dt.datetime, defer: bool = False) -> str:
    """收件 at the kiosk: every material scanned, or the deferrable one promised (容缺)."""
    view, _ = cases.start_submission(item, CARD, "13812345678", KIOSK, when)
    for material in view["materials"]:
        if defer and material["deferrable"]:
            cases.defer(view["id"], material["idx"], png_bytes("black"), KIOSK, when)
        else:
            cases.upload(view["id"], material["idx"], PDF, KIOSK, when)
    return str(cases.complete(view["id"], KIOSK, when)["id"])


def act(cases: CaseService, case_id: str, action: CaseAction, when: dt.datetime, **extra: object) -> None:
    cases.act(case_id, action, CLERK, when, **extra)  # type: ignore[arg-type]


def the_cases(cases: CaseService) -> None:
    accept, approve, reject = CaseAction.accept, CaseAction.approve, CaseAction.reject
    # c7 SJ202610300001 (C): received Fri 10-30, before the range; 受理 due Tue 11-03, accepted Wed
    # 11-04: late (overdue 1 day, on 11-03); 办结 due Wed 11-11, approved Tue 11-10: in time.
    c7 = received(cases, "realestate-transfer", at(10, 30))
    act(cases, c7, accept, at(11, 4))
    act(cases, c7, approve, at(11, 10))
    # c1 SJ202611020001 (C, 容缺): received Mon 11-02; accepted Tue 11-03 (due Wed 11-04: in time);
    # 办结 due Tue 11-10, approved Mon 11-09: in time.
    c1 = received(cases, "realestate-transfer", at(11, 2), defer=True)
    act(cases, c1, accept, at(11, 3))
    act(cases, c1, approve, at(11, 9))
    # c2 SJ202611020002 (C): received Mon 11-02, accepted Thu 11-05 (due Wed 11-04: overdue 1 day);
    # 办结 due Thu 11-12, rejected Fri 11-13: late (overdue 1 day, on 11-12).
    c2 = received(cases, "realestate-transfer", at(11, 2, "11:00"))
    act(cases, c2, accept, at(11, 5))
    act(cases, c2, reject, at(11, 13), note="材料与登记簿记载不一致")
    # c3 SJ202611040001 (E, 容缺): received Wed 11-04 16:00, 受理 due Fri 11-06, never accepted:
    # overdue, not done by the range's end 11-13 (7 days over).
    received(cases, "hukou-move-in", at(11, 4, "16:00"), defer=True)
    # c4 SJ202611050001 (A): a 即办件 at window 3 on Thu 11-05: received, accepted and decided at once.
    cases.instant_case("sbk-replace", CARD, "3", CLERK, at(11, 5))
    # c5 SJ202611060001 (C): received Fri 11-06 23:30; 受理 due Tue 11-10; told to correct (补正告知)
    # on Mon 11-09: answered in time, neither accepted nor overdue.
    c5 = received(cases, "realestate-transfer", at(11, 6, "23:30"))
    act(cases, c5, CaseAction.correct, at(11, 9), materials=[3], note="合同缺少签字页")
    # c6 SJ202611090001 (E): received Mon 11-09, accepted Wed 11-11 (the due day: in time); 办结 due
    # Wed 11-18, after the range.
    c6 = received(cases, "hukou-move-in", at(11, 9, "09:00"))
    act(cases, c6, accept, at(11, 11))
    # c8 SJ202611160001 (E): received Mon 11-16, after the range; 受理 due Wed 11-18, never accepted.
    received(cases, "hukou-move-in", at(11, 16))
